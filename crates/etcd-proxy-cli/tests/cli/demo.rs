//! The demo — the README's first command — through the real binary: with etcd installed it
//! publishes a live 3-member TLS cluster, renders the gateway, and puts/gets through it
//! before and after a member stops.

use std::process::Command;

use crate::support::binary;

/// Whether etcd is here; loud skip locally, failure in CI.
fn etcd_available() -> bool {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("etcd").is_file()))
        .unwrap_or(false);
    let found = on_path || std::env::var_os("ETCD_BIN").is_some();
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("ETCD_PROXY_REQUIRE_ETCD").is_some();
    assert!(
        found || !required,
        "etcd not found, and CI / ETCD_PROXY_REQUIRE_ETCD demands it"
    );
    if !found {
        eprintln!("SKIPPED: etcd not found (demo's real-etcd part)");
    }
    found
}

#[test]
fn demo_runs_the_whole_story_and_proves_the_proxy() {
    let output = Command::new(binary()).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("demo finished: every hook succeeded"),
        "{stdout}"
    );
    assert!(stdout.contains("proxy.tls.available"), "{stdout}");
    assert!(
        !stdout.contains("PRIVATE KEY"),
        "key material printed:\n{stdout}"
    );
    if etcd_available() {
        for line in [
            "etcdctl put/get via https://127.0.0.1:",
            "with one member down: ok",
            "ExecStart=",
        ] {
            assert!(stdout.contains(line), "missing {line:?}:\n{stdout}");
        }
    } else {
        assert!(stdout.contains("real etcd: skipped"), "{stdout}");
    }
}
