//! The genesis document: the chain id, the first members with their roles, regions and keys,
//! and the first validator set. Its hash is the parent hash of block 1.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::crypto::{PublicKey, Suite};
use crate::id::{BlockHash, ChainId, MemberId, RegionCode, TimestampMs, Uscc};
use crate::limits::{GENESIS_BYTES_MAX, MEMBER_KEYS_MAX};

/// A member's role on the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 公共资源交易中心: may run a validator; attests, recognises, anchors, evaluates.
    TradingCentre,
    /// Bank, insurer or guarantee company issuing e-guarantees.
    GuaranteeProvider,
    /// 行政监督部门 / credit authority.
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TradingCentre => "trading_centre",
            Role::GuaranteeProvider => "guarantee_provider",
            Role::Supervisor => "supervisor",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GenesisMember {
    pub name: String,
    pub role: Role,
    pub region: RegionCode,
    pub uscc: Uscc,
    /// Transaction-signing keys; the first one fixes the member id.
    pub keys: Vec<PublicKey>,
}

impl GenesisMember {
    pub fn id(&self) -> Option<MemberId> {
        self.keys.first().map(MemberId::from_key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GenesisValidator {
    /// Name of the trading-centre member that runs this validator.
    pub member: String,
    /// Consensus key, of the chain's suite. An ed25519 key is also the node's libp2p identity.
    pub public_key: PublicKey,
    pub power: u64,
    /// The node's ed25519 key (its libp2p identity), when the consensus key is not ed25519 (an
    /// SM2 chain's validator): libp2p has no SM2 identities. Absent on ed25519 chains, and then
    /// not encoded (so their genesis hash is what it was before suites existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_key: Option<PublicKey>,
}

impl GenesisValidator {
    /// The node's network identity: its node key, or its consensus key when that is ed25519.
    pub fn network_key(&self) -> PublicKey {
        self.node_key.unwrap_or(self.public_key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Genesis {
    pub chain_id: ChainId,
    pub genesis_time: TimestampMs,
    pub members: Vec<GenesisMember>,
    pub validators: Vec<GenesisValidator>,
    /// The chain's signature and hash suite; every member key is of it. Absent from a genesis
    /// file: `ed25519-sha256`.
    #[serde(default)]
    pub suite: Suite,
}

/// Why a genesis document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis file is {got} bytes; at most {max} are accepted")]
    TooLarge { got: usize, max: usize },
    #[error("genesis JSON is invalid: {0}")]
    Json(String),
    #[error("genesis is invalid: {0}")]
    Invalid(String),
}

impl Genesis {
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        if text.len() > GENESIS_BYTES_MAX {
            return Err(GenesisError::TooLarge { got: text.len(), max: GENESIS_BYTES_MAX });
        }
        let genesis: Genesis = serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// The hash that block 1 names as its parent, in the genesis suite's hash: of the encoded
    /// fields, the suite last and only when it is not `ed25519-sha256` (so chains made before
    /// suites existed keep theirs).
    pub fn hash(&self) -> BlockHash {
        let mut bytes = codec::encode(&(&self.chain_id, &self.genesis_time, &self.members, &self.validators));
        if self.suite != Suite::Ed25519Sha256 {
            bytes.extend(codec::encode(&self.suite));
        }
        BlockHash(self.suite.hash_tagged(b"huxin/v1/genesis", &bytes).0)
    }

    pub fn validate(&self) -> Result<(), GenesisError> {
        let invalid = |m: String| Err(GenesisError::Invalid(m));
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for member in &self.members {
            if !names.insert(member.name.as_str()) {
                return invalid(format!("member name {:?} appears twice", member.name));
            }
            if member.keys.is_empty() || member.keys.len() > MEMBER_KEYS_MAX {
                return invalid(format!(
                    "member {:?} has {} keys; 1..={MEMBER_KEYS_MAX} expected",
                    member.name,
                    member.keys.len()
                ));
            }
            for key in &member.keys {
                if !keys.insert(*key) {
                    return invalid(format!("key {key} is listed twice"));
                }
                if key.suite() != self.suite {
                    return invalid(format!(
                        "member {:?}'s key {key} is an {} key; this chain's suite is {}",
                        member.name,
                        key.suite(),
                        self.suite
                    ));
                }
            }
        }
        if self.validators.is_empty() {
            return invalid("at least one validator is required".into());
        }
        let mut validator_keys = BTreeSet::new();
        for v in &self.validators {
            let Some(member) = self.members.iter().find(|m| m.name == v.member) else {
                return invalid(format!("validator names unknown member {:?}", v.member));
            };
            if member.role != Role::TradingCentre {
                return invalid(format!(
                    "validator member {:?} is a {}; only trading centres run validators",
                    v.member,
                    member.role.as_str()
                ));
            }
            if v.public_key.suite() != self.suite {
                return invalid(format!(
                    "validator key {} is an {} key; this chain's suite is {}",
                    v.public_key,
                    v.public_key.suite(),
                    self.suite
                ));
            }
            match (v.public_key.ed25519(), v.node_key) {
                (Some(_), None) => {}
                (Some(_), Some(_)) => {
                    return invalid(format!(
                        "validator {} names a node key: an ed25519 consensus key is its own node key",
                        v.public_key
                    ))
                }
                (None, Some(node)) if node.ed25519().is_some() => {}
                (None, _) => {
                    return invalid(format!(
                        "validator {} needs an ed25519 node_key (its network identity) beside its {} consensus key",
                        v.public_key,
                        v.public_key.suite()
                    ))
                }
            }
            if v.power == 0 {
                return invalid(format!("validator {} has zero power", v.public_key));
            }
            if !validator_keys.insert(v.public_key) {
                return invalid(format!("validator key {} is listed twice", v.public_key));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::id::{RegionCode, Uscc};

    fn genesis(suite: Suite, member_key: PublicKey, validator_key: PublicKey, node_key: Option<PublicKey>) -> Genesis {
        Genesis {
            chain_id: ChainId::new("t").unwrap(),
            genesis_time: TimestampMs(0),
            members: vec![GenesisMember {
                name: "hangzhou".into(),
                role: Role::TradingCentre,
                region: RegionCode::new(330100).unwrap(),
                uscc: Uscc::with_check("12330100MB0000001").unwrap(),
                keys: vec![member_key],
            }],
            validators: vec![GenesisValidator {
                member: "hangzhou".into(),
                public_key: validator_key,
                power: 1,
                node_key,
            }],
            suite,
        }
    }

    /// Every member and validator key is of the genesis' suite, and a validator whose key is not
    /// ed25519 names an ed25519 node key; the suite enters the hash only when it is not
    /// ed25519-sha256, and a genesis file without one is ed25519.
    #[test]
    fn a_genesis_names_its_suite_and_holds_only_its_keys() {
        let ed = SecretKey::from_bytes([1; 32]).public_key();
        let node = SecretKey::from_bytes([2; 32]).public_key();
        let sm2 = SecretKey::derive_in(Suite::Sm2Sm3, [1; 32]).public_key();
        let sm2_validator = SecretKey::derive_in(Suite::Sm2Sm3, [2; 32]).public_key();
        assert_eq!(genesis(Suite::Ed25519Sha256, ed, ed, None).validate(), Ok(()));
        assert_eq!(genesis(Suite::Sm2Sm3, sm2, sm2_validator, Some(node)).validate(), Ok(()));
        let refused = |g: Genesis, needle: &str| match g.validate() {
            Err(GenesisError::Invalid(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        };
        refused(genesis(Suite::Ed25519Sha256, sm2, ed, None), "this chain's suite is ed25519-sha256");
        refused(genesis(Suite::Sm2Sm3, ed, sm2_validator, Some(node)), "this chain's suite is sm2-sm3");
        refused(genesis(Suite::Sm2Sm3, sm2, ed, None), "this chain's suite is sm2-sm3");
        refused(genesis(Suite::Sm2Sm3, sm2, sm2_validator, None), "needs an ed25519 node_key");
        refused(genesis(Suite::Sm2Sm3, sm2, sm2_validator, Some(sm2)), "needs an ed25519 node_key");
        refused(genesis(Suite::Ed25519Sha256, ed, ed, Some(node)), "is its own node key");

        let old = genesis(Suite::Ed25519Sha256, ed, ed, None);
        let before_suites = BlockHash(
            Suite::Ed25519Sha256
                .hash_tagged(
                    b"huxin/v1/genesis",
                    &codec::encode(&(&old.chain_id, &old.genesis_time, &old.members, &old.validators)),
                )
                .0,
        );
        assert_eq!(old.hash(), before_suites);
        assert_ne!(Genesis { suite: Suite::Sm2Sm3, ..old.clone() }.hash(), old.hash());
        let mut json = serde_json::to_value(&old).unwrap();
        json.as_object_mut().unwrap().remove("suite");
        assert_eq!(Genesis::from_json(&json.to_string()).unwrap().suite, Suite::Ed25519Sha256);
    }
}
