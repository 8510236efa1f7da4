//! Proof assembly: the Merkle proofs of every state key an answer read, the block's commit
//! certificate and the validator chain from genesis (`?proof=true`).

use super::*;

pub(crate) fn certified(s: &ApiState, height: Height) -> Result<CertifiedHeader, ApiError> {
    let missing = || ApiError::internal(format!("block {height} or its certificate is missing from the store"));
    let header = s.store.header(height)?.ok_or_else(missing)?;
    let certificate = s.store.certificate(height)?.ok_or_else(missing)?;
    let certificate = StoredCertificate::decode(&certificate)
        .map_err(|e| ApiError::internal(format!("stored certificate of block {height}: {e}")))?;
    Ok(certificate.certify(header))
}

pub(crate) fn entry(s: &ApiState, version: Height, key: &[u8]) -> Result<ProvenEntry, ApiError> {
    prove_entry(s.store.as_ref(), version.0, key).map_err(|e| ApiError::internal(format!("proving a state key: {e}")))
}

/// The proof of everything `view` read, against the block at its height.
pub(crate) fn prove(s: &ApiState, view: &StateView<'_, huxin_store::Store>) -> Result<StateProof, ApiError> {
    use huxin_state::index::VALIDATOR_CHANGES;
    let height = Height(view.version());
    if height.0 == 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no_block_yet",
            "no block is finalised yet; proofs start at block 1",
        ));
    }
    let keys = view.read_keys();
    if keys.len() > PROOF_ENTRIES_MAX {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "proof_too_large",
            format!("the answer reads {} state keys; at most {PROOF_ENTRIES_MAX} can be proven", keys.len()),
        ));
    }
    let entries = keys.iter().map(|k| entry(s, height, k)).collect::<Result<Vec<_>, _>>()?;
    let (parent, parent_validators) = if height.0 >= 2 {
        let parent = Height(height.0 - 1);
        let header = s.store.header(parent)?.ok_or_else(|| ApiError::internal(format!("block {parent} is missing")))?;
        let entries = vec![
            entry(s, parent, &huxin_contracts::keys::validators())?,
            entry(s, parent, &huxin_contracts::keys::validators_next())?,
        ];
        (Some(header), entries)
    } else {
        (None, Vec::new())
    };
    let (changes, _) = s.store.index_scan(VALIDATOR_CHANGES, None, VALIDATOR_CHANGES_MAX + 1)?;
    let mut validator_changes = Vec::new();
    for (k, kept) in changes {
        let change = Height(u64::from_be_bytes(
            k[VALIDATOR_CHANGES.len()..]
                .try_into()
                .map_err(|_| ApiError::internal("bad validator change index key"))?,
        ));
        if change >= height {
            break;
        }
        if validator_changes.len() == VALIDATOR_CHANGES_MAX {
            return Err(ApiError::internal(format!(
                "more than {VALIDATOR_CHANGES_MAX} validator changes; proofs need a checkpoint"
            )));
        }
        // The proof kept when the change was written (the tree's versions that old are pruned);
        // a store written before proofs were kept proves it from the tree.
        let next_validators = match huxin_state::index::validator_change_proof(&kept) {
            Some(kept) => {
                kept.map_err(|e| ApiError::internal(format!("the kept proof of validator change {change}: {e}")))?
            }
            None => entry(s, change, &huxin_contracts::keys::validators_next())?,
        };
        validator_changes.push(ValidatorChange { block: certified(s, change)?, next_validators });
    }
    Ok(StateProof { block: certified(s, height)?, entries, parent, parent_validators, validator_changes })
}

/// The answer, checked for read errors (a reader that dropped one voids it), with its proof when
/// asked for.
pub(crate) fn answer<T>(
    s: &ApiState,
    view: &StateView<'_, huxin_store::Store>,
    answer: T,
    proof: bool,
) -> Result<Json<Proven<T>>, ApiError> {
    let answer = checked(view, answer)?;
    let proof = if proof { Some(prove(s, view)?) } else { None };
    Ok(Json(Proven { answer, proof }))
}
