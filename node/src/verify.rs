//! `huxin verify`: ask a node for a proven answer (or read a saved one) and check it against the
//! genesis file, trusting nothing the node says.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use eyre::{eyre, WrapErr};

use huxin_client::{verify_answer, Client, ProvableQuery};
use huxin_types::genesis::Genesis;
use huxin_types::tx::TenderRef;

#[derive(Args)]
pub struct VerifyArgs {
    /// The network's genesis file: the only thing trusted.
    #[arg(long)]
    genesis: PathBuf,
    /// The node to ask.
    #[arg(long, default_value = "http://127.0.0.1:26600")]
    api: String,
    /// Check this saved answer (JSON with its `proof`) instead of asking the node.
    #[arg(long)]
    answer: Option<PathBuf>,
    /// Refuse an answer whose proven block is older than this many seconds (a node that is
    /// behind, or a saved answer gone stale); the age is printed either way.
    #[arg(long)]
    max_age: Option<u64>,
    #[command(subcommand)]
    query: QueryArg,
}

#[derive(Subcommand)]
enum QueryArg {
    /// A subject's profile (USCC, or org:/legacy:/expert: id).
    Subject { subject: String },
    /// A subject's eligibility in a region.
    Eligibility {
        subject: String,
        #[arg(long)]
        region: String,
    },
    /// A subject's public credit history, proven complete.
    Credit { subject: String },
    /// An e-guarantee by number.
    Guarantee { number: String },
    /// Every anchor of a document, by SHA-256.
    Document { hash: String },
    /// A tender section's timeline.
    Tender { region: String, project: String, section: String },
}

impl QueryArg {
    fn parse(self) -> eyre::Result<ProvableQuery> {
        let subject = |s: &str| s.parse().map_err(|e| eyre!("subject {s:?}: {e}"));
        Ok(match self {
            QueryArg::Subject { subject: s } => ProvableQuery::Subject(subject(&s)?),
            QueryArg::Eligibility { subject: s, region } => {
                ProvableQuery::Eligibility(subject(&s)?, region.parse().map_err(|e| eyre!("region: {e}"))?)
            }
            QueryArg::Credit { subject: s } => ProvableQuery::Credit(subject(&s)?),
            QueryArg::Guarantee { number } => ProvableQuery::Guarantee(number),
            QueryArg::Document { hash } => ProvableQuery::Document(hash.parse().map_err(|e| eyre!("hash: {e}"))?),
            QueryArg::Tender { region, project, section } => ProvableQuery::Tender(TenderRef {
                region: region.parse().map_err(|e| eyre!("region: {e}"))?,
                project_code: project,
                section_code: section,
            }),
        })
    }
}

/// Prints the checked answer and what vouches for it; fails (exit 1) with the reason otherwise.
pub async fn run(args: VerifyArgs) -> eyre::Result<()> {
    let text =
        std::fs::read_to_string(&args.genesis).wrap_err_with(|| format!("reading {}", args.genesis.display()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| eyre!("{}: {e}", args.genesis.display()))?;
    let query = args.query.parse()?;
    let checked = match &args.answer {
        Some(path) => {
            let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
            let answer: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| eyre!("{} is not JSON: {e}", path.display()))?;
            verify_answer(&query, &answer, &genesis).map_err(|e| eyre!("NOT verified: {e}"))?
        }
        None => Client::new(&args.api).proven(&query, &genesis).await.map_err(|e| eyre!("NOT verified: {e}"))?,
    };
    let v = &checked.verified;
    eprintln!(
        "verified: {} at height {} (block {}, time {} ms, state root {}); precommitted by {} of {} voting power; {} validator-set change(s) walked from genesis {}",
        query.path(),
        v.height,
        v.block_hash,
        v.time.0,
        v.state_root,
        v.signed_power,
        v.total_power,
        v.validator_changes,
        genesis.hash(),
    );
    let age_ms = crate::devnet::now_ms().0.saturating_sub(v.time.0);
    eprintln!("the answer's age: {:.1} s (now minus its block's time)", age_ms as f64 / 1000.0);
    if let Some(max) = args.max_age {
        if age_ms > max.saturating_mul(1000) {
            return Err(eyre!(
                "NOT fresh: the proven block is {:.1} s old; --max-age is {max} s",
                age_ms as f64 / 1000.0
            ));
        }
    }
    println!("{}", serde_json::to_string_pretty(&checked.answer)?);
    Ok(())
}
