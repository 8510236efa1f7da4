//! The TypeScript SDK (`sdk/typescript`) runs its own tests (node's test runner): the Rust core's
//! golden vectors, and a live devnet of four real nodes that this test starts and hands over in
//! `HUXIN_APIS` and `HUXIN_KEYS_DIR`. Needs Node 20 and npm; `npm ci` installs the SDK's pinned
//! dependencies from its lockfile.

mod support;

use std::path::Path;
use std::process::Command;

use support::Net;

fn npm(sdk: &Path, args: &[&str], envs: &[(&str, String)]) -> String {
    let out = Command::new("npm")
        .args(args)
        .current_dir(sdk)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("running npm {args:?} (Node 20 and npm are needed): {e}"));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "npm {args:?} failed:\n{printed}");
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_sdk_passes_its_tests_against_a_live_devnet() {
    let net = Net::start_all(4).await;
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/typescript");
    npm(&sdk, &["ci", "--no-audit", "--no-fund"], &[]);
    let apis = (0..4).map(|i| net.api(i)).collect::<Vec<_>>().join(",");
    let keys = net.dir.path().join("keys").display().to_string();
    let printed =
        tokio::task::spawn_blocking(move || npm(&sdk, &["test"], &[("HUXIN_APIS", apis), ("HUXIN_KEYS_DIR", keys)]))
            .await
            .unwrap();
    println!("{printed}");
    // Every test ran (the live ones skip without a devnet) and none failed.
    for line in ["# fail 0", "# skipped 0"] {
        assert!(printed.lines().any(|l| l.trim() == line), "no {line:?} in:\n{printed}");
    }
    let passed = printed.lines().find_map(|l| l.trim().strip_prefix("# pass ")).and_then(|n| n.parse::<u32>().ok());
    assert!(passed >= Some(7), "{printed}");
}
