//! `huxin evaluation verify ID`: recompute an evaluation session's expert draw from what the
//! ledger holds — every venue's revealed secret against its commitment, the seed from the
//! secrets, the draw from the seed and the pool fixed when the session opened, each replacement
//! from the seed and what was left of the pool, and (once revealed) the seating from the seat
//! secret — and compare them with what the ledger recorded. Exit 0 when they agree, 1 with the
//! first difference.

use eyre::{eyre, WrapErr};

use huxin_contracts::evaluation::SessionStatus;
use huxin_types::evaluation::{commitment_of, draw, draw_seed, replacement, seat};
use huxin_types::Hash32;

#[derive(clap::Args)]
pub struct EvaluationArgs {
    #[command(subcommand)]
    command: EvaluationCommand,
}

#[derive(clap::Subcommand)]
enum EvaluationCommand {
    /// Recompute a session's draw and compare it with the ledger's.
    Verify {
        /// The session id (its opening transaction's hash).
        id: String,
        #[arg(long, default_value = "http://127.0.0.1:26600")]
        api: String,
    },
}

pub async fn run(args: EvaluationArgs) -> eyre::Result<()> {
    let EvaluationCommand::Verify { id, api } = args.command;
    let id: Hash32 = id.parse().map_err(|e| eyre!("session id {id:?}: {e}"))?;
    let client = huxin_client::Client::new(&api);
    let view = client.evaluation(&id).await.wrap_err_with(|| format!("reading session {id} from {api}"))?;
    // The draw hashes in the chain's suite.
    let suite = client.status().await.wrap_err_with(|| format!("reading {api}'s status"))?.suite;
    let s = &view.session;
    let fail = |reason: String| -> eyre::Result<()> {
        eprintln!("draw NOT verified: {reason}");
        std::process::exit(1)
    };
    if matches!(s.status, SessionStatus::Open) {
        let waiting: Vec<String> = s
            .venues
            .iter()
            .filter(|v| v.secret.is_none())
            .map(|v| format!("{} ({})", v.region, if v.commitment.is_some() { "to reveal" } else { "to commit" }))
            .collect();
        println!("session {id} has not drawn yet; waiting for {}", waiting.join(", "));
        return Ok(());
    }
    let mut secrets = Vec::new();
    for v in &s.venues {
        let (Some(secret), Some(commitment)) = (v.secret, v.commitment) else {
            return fail(format!("region {} has no revealed secret, yet the session is drawn", v.region));
        };
        if commitment_of(suite, &secret) != commitment {
            return fail(format!("region {}'s secret does not hash to its commitment", v.region));
        }
        secrets.push(secret);
    }
    let seed = draw_seed(suite, &id, &secrets);
    if s.seed != Some(seed) {
        return fail(format!("the seed of the secrets is {seed}, the ledger says {:?}", s.seed));
    }
    let again = draw(suite, &seed, &s.seats, &view.pools);
    let recorded: Vec<(String, Hash32)> = s.drawn.iter().map(|d| (d.specialty.clone(), d.expert)).collect();
    if again != recorded {
        return fail(format!("recomputed {again:?}; the ledger recorded {recorded:?}"));
    }
    for (n, r) in s.replacements.iter().enumerate() {
        let pool = s.seats.iter().position(|x| x.specialty == r.specialty).and_then(|i| view.pools.get(i));
        let used = |e: &Hash32| {
            s.drawn.iter().any(|d| d.expert == *e) || s.replacements[..n].iter().any(|x| x.replaced_by == Some(*e))
        };
        let candidates: Vec<Hash32> = pool.into_iter().flatten().filter(|e| !used(e)).copied().collect();
        if replacement(suite, &seed, n as u32, &candidates) != r.replaced_by {
            return fail(format!("replacement {n} of expert:{} is not the redraw's pick", r.expert));
        }
        println!("replacement {n}: expert:{} ({:?}) by {:?}", r.expert, r.reason, r.replaced_by.map(|e| e.to_string()));
    }
    match (s.seat_secret, s.seating.is_empty()) {
        (Some(secret), _) => {
            if commitment_of(suite, &secret) != s.seat_commitment {
                return fail("the seat secret does not hash to the seat commitment".into());
            }
            let before = s.replaced_before_seating as usize;
            let experts: Vec<Hash32> = s.sitting_after(before).into_iter().map(|d| d.expert).collect();
            let venues: Vec<_> = s.venues.iter().map(|v| v.region).collect();
            let mut seating = seat(suite, &secret, &seed, &experts, &venues);
            for r in &s.replacements[before.min(s.replacements.len())..] {
                match r.replaced_by {
                    Some(new) => seating.iter_mut().filter(|(e, _)| *e == r.expert).for_each(|(e, _)| *e = new),
                    None => seating.retain(|(e, _)| *e != r.expert),
                }
            }
            let recorded: Vec<_> = s.seating.iter().map(|x| (x.expert, x.region)).collect();
            if seating != recorded {
                return fail(format!("recomputed seating {seating:?}; the ledger recorded {recorded:?}"));
            }
            println!("seating verified: {} experts over {} venues", recorded.len(), venues.len());
        }
        (None, true) => println!("seats not revealed yet (they stay blind until the bids are opened)"),
        (None, false) => return fail("the ledger seats experts without a revealed seat secret".into()),
    }
    println!(
        "draw verified: session {id}, {} venues, seed {seed}, {} experts drawn from pools of {}",
        s.venues.len(),
        recorded.len(),
        view.pools.iter().map(|p| p.len().to_string()).collect::<Vec<_>>().join("+")
    );
    for (specialty, expert) in &recorded {
        println!("  {specialty}: expert:{expert}");
    }
    Ok(())
}
