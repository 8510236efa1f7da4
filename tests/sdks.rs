//! The SDKs run their own tests against the Rust core's golden vectors and a live devnet of four
//! real nodes that this test starts and hands over in `HUXIN_APIS` and `HUXIN_KEYS_DIR`:
//! TypeScript (`sdk/typescript`, node's test runner; `npm ci` installs its pinned dependencies
//! from the lockfile) and Java (`sdk/java`, Maven and JUnit on JDK 17).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Net;

/// Run `program args` in `dir` with `envs`; what it printed, or a failure with it.
fn run(program: &str, dir: &Path, args: &[&str], envs: &[(&str, String)]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("running {program} {args:?}: {e}"));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?} failed:\n{printed}");
    printed
}

fn sdk(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk").join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_and_java_sdks_pass_their_tests_against_a_live_devnet() {
    let net = Net::start_all(4).await;
    let envs = vec![
        ("HUXIN_APIS", (0..4).map(|i| net.api(i)).collect::<Vec<_>>().join(",")),
        ("HUXIN_KEYS_DIR", net.dir.path().join("keys").display().to_string()),
    ];
    let printed = tokio::task::spawn_blocking(move || {
        let ts = sdk("typescript");
        run("npm", &ts, &["ci", "--no-audit", "--no-fund"], &[]);
        let typescript = run("npm", &ts, &["test"], &envs);
        let java = run("mvn", &sdk("java"), &["-B", "--no-transfer-progress", "test"], &envs);
        (typescript, java)
    })
    .await
    .unwrap();
    let (typescript, java) = printed;
    println!("{typescript}\n{java}");
    // Every test ran (the live ones skip without a devnet) and none failed.
    for line in ["# fail 0", "# skipped 0"] {
        assert!(typescript.lines().any(|l| l.trim() == line), "TypeScript: no {line:?} in:\n{typescript}");
    }
    let passed = typescript.lines().find_map(|l| l.trim().strip_prefix("# pass ")).and_then(|n| n.parse::<u32>().ok());
    assert!(passed >= Some(14), "TypeScript: {typescript}");
    let summary = java.lines().rev().find(|l| l.contains("Tests run:")).unwrap_or_default();
    let ran = summary.split("Tests run: ").nth(1).and_then(|r| r.split(',').next()).and_then(|n| n.parse::<u32>().ok());
    assert!(ran >= Some(17) && summary.contains(", Failures: 0, Errors: 0, Skipped: 0"), "Java: {summary}\n{java}");
}
