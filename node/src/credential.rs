//! `huxin credential verify FILE`: check an exported credential (`GET /v1/subjects/{s}/credential`)
//! without trusting the node that served it: its `eddsa-jcs-2022` proof, that the issuing
//! `did:key` is a key of the member the credential says attested it (from the genesis file, or
//! from a node's member list for members added later), and, when its status lists are
//! reachable, that it is neither revoked nor suspended (a recognising region withdrew). Exit 0
//! when it holds, 1 with the reason when it does not.

use std::path::PathBuf;
use std::time::Duration;

use eyre::{eyre, WrapErr};
use serde_json::Value;

use huxin_types::vc::{self, CREDENTIAL_BYTES_MAX};
use huxin_types::{MemberId, PublicKey};

#[derive(clap::Args)]
pub struct CredentialArgs {
    #[command(subcommand)]
    command: CredentialCommand,
}

#[derive(clap::Subcommand)]
enum CredentialCommand {
    /// Check a credential: its proof, its issuer, and (when reachable) its status lists.
    Verify {
        /// The credential, as JSON.
        file: PathBuf,
        /// The network's genesis file: the issuer must be one of its members' keys.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// A node to read the member list from (for members added after genesis).
        #[arg(long)]
        api: Option<String>,
        /// Do not fetch the status lists.
        #[arg(long)]
        offline: bool,
    },
}

/// Who holds a key, by name and id.
struct Holder {
    name: String,
    id: MemberId,
}

fn holder_in_genesis(path: &std::path::Path, key: &PublicKey) -> eyre::Result<Option<Holder>> {
    let genesis = crate::start::load_genesis(path)?;
    Ok(genesis
        .members
        .iter()
        .find(|m| m.keys.contains(key))
        .and_then(|m| m.id().map(|id| Holder { name: m.name.clone(), id })))
}

async fn holder_on_node(api: &str, key: &PublicKey) -> eyre::Result<Option<Holder>> {
    let members =
        huxin_client::Client::new(api).members().await.wrap_err_with(|| format!("reading {api}/v1/members"))?;
    Ok(members.into_iter().find(|m| m.keys.contains(key)).map(|m| Holder { name: m.name, id: m.id }))
}

/// Read a status list credential over HTTP, at most [`CREDENTIAL_BYTES_MAX`] bytes.
async fn fetch(url: &str) -> eyre::Result<Value> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(eyre!("{url} is not an http(s) URL"));
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let mut response = client.get(url).send().await?.error_for_status()?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > CREDENTIAL_BYTES_MAX {
            return Err(eyre!("{url} answered more than {CREDENTIAL_BYTES_MAX} bytes"));
        }
    }
    Ok(serde_json::from_slice(&body)?)
}

/// Check one status entry: the list verifies, is the issuer's, has the entry's purpose; its
/// purpose and bit, or None (said why) when the list cannot be fetched.
async fn status_on(entry: &Value, issuer: &PublicKey) -> eyre::Result<Option<(String, bool)>> {
    let field =
        |name: &str| entry.get(name).and_then(Value::as_str).ok_or_else(|| eyre!("a status entry has no {name}"));
    let (url, purpose) = (field("statusListCredential")?, field("statusPurpose")?);
    let index: usize = field("statusListIndex")?.parse().map_err(|_| eyre!("statusListIndex is not a number"))?;
    let list = match fetch(url).await {
        Ok(list) => list,
        Err(e) => {
            println!("status {purpose} not checked: {url} is unreachable ({e:#})");
            return Ok(None);
        }
    };
    let key = vc::verify(&list).map_err(|e| eyre!("the status list {url} does not verify: {e}"))?;
    if key != *issuer {
        return Err(eyre!("the status list {url} was signed by another key than the credential's issuer"));
    }
    let subject = &list["credentialSubject"];
    if subject["statusPurpose"].as_str() != Some(purpose) {
        return Err(eyre!("the status list {url} is for {}, the entry for {purpose}", subject["statusPurpose"]));
    }
    let encoded = subject["encodedList"].as_str().ok_or_else(|| eyre!("the status list {url} has no encodedList"))?;
    Ok(Some((purpose.to_owned(), vc::status_bit(encoded, index)?)))
}

pub async fn run(args: CredentialArgs) -> eyre::Result<()> {
    let CredentialCommand::Verify { file, genesis, api, offline } = args.command;
    let size = std::fs::metadata(&file).wrap_err_with(|| format!("reading {}", file.display()))?.len();
    if size > CREDENTIAL_BYTES_MAX as u64 {
        return Err(eyre!("{} is {size} bytes; a credential is at most {CREDENTIAL_BYTES_MAX}", file.display()));
    }
    let credential: Value =
        serde_json::from_slice(&std::fs::read(&file)?).wrap_err_with(|| format!("{} is not JSON", file.display()))?;
    let fail = |reason: String| -> eyre::Result<()> {
        eprintln!("NOT verified: {reason}");
        std::process::exit(1)
    };
    let key = match vc::verify(&credential) {
        Ok(key) => key,
        Err(e) => return fail(e.to_string()),
    };
    let holder = match (&genesis, &api) {
        (None, None) => return Err(eyre!("give --genesis (or --api) to know whose key signed it")),
        (Some(g), _) => match holder_in_genesis(g, &key)? {
            Some(h) => Some(h),
            None => match &api {
                Some(api) => holder_on_node(api, &key).await?,
                None => None,
            },
        },
        (None, Some(api)) => holder_on_node(api, &key).await?,
    };
    let Some(holder) = holder else {
        return fail(format!("the issuing key {key} is no member's key (a member added after genesis: give --api)"));
    };
    let claimed = credential["credentialSubject"]["attestation"]["attestedBy"].as_str().unwrap_or_default();
    if claimed != holder.id.to_string() {
        return fail(format!(
            "it says member {claimed} attested it, but member {} ({}) signed it",
            holder.id, holder.name
        ));
    }
    let subject = &credential["credentialSubject"];
    println!(
        "proof verified: issued by {} ({}, {}) for {} {}",
        holder.name,
        holder.id,
        vc::did_key(&key),
        subject["id"].as_str().unwrap_or_default(),
        subject["name"].as_str().unwrap_or_default()
    );
    if offline {
        println!("status not checked (--offline)");
        return Ok(());
    }
    let entries = match &credential["credentialStatus"] {
        Value::Array(items) => items.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    };
    for entry in &entries {
        match status_on(entry, &key).await {
            Ok(Some((purpose, true))) if purpose == "revocation" => return fail("the attestation is REVOKED".into()),
            Ok(Some((purpose, true))) => {
                return fail(format!(
                    "status {purpose} is set: a region this credential names has withdrawn its recognition"
                ))
            }
            Ok(Some((purpose, false))) => println!("status {purpose}: not set"),
            Ok(None) => {}
            Err(e) => return fail(format!("{e:#}")),
        }
    }
    Ok(())
}
