//! `huxin audit`: signed supervisor queries, and checking a node's audit log against the ledger.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use eyre::{eyre, WrapErr};

use huxin_client::Client;
use huxin_types::SecretKey;

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long, default_value = "http://127.0.0.1:26600")]
    api: String,
    /// The supervisor's member key file (e.g. devnet/keys/supervisor.key).
    #[arg(long)]
    key: PathBuf,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// A subject's full credit history, hidden records included (the query is logged).
    Credit { subject: String },
    /// Fetch the node's audit log and check it: no gaps, an unbroken hash chain, no edited entry,
    /// and every anchor on the ledger matched.
    Check,
}

pub async fn run(args: AuditArgs) -> eyre::Result<()> {
    let text = std::fs::read_to_string(&args.key).wrap_err_with(|| format!("reading {}", args.key.display()))?;
    let key = SecretKey::from_hex(text.trim()).map_err(|e| eyre!("{}: {e}", args.key.display()))?;
    let client = Client::new(&args.api);
    match args.command {
        AuditCommand::Credit { subject } => {
            let answer: serde_json::Value =
                client.signed_get(&key, &format!("/v1/supervisor/subjects/{subject}/credit")).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        AuditCommand::Check => {
            let check = client.check_audit_log(&key).await.map_err(|e| eyre!("audit log NOT intact: {e}"))?;
            println!(
                "audit log of member {}: {} entries, chained and unedited; {} anchor(s) on the ledger match (up to entry {}){}",
                check.member,
                check.entries.len(),
                check.anchors_matched,
                check.last_anchored,
                if (check.last_anchored as usize) < check.entries.len() {
                    format!("; entries after {} are not anchored yet", check.last_anchored)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}
