//! The Rust requirer against the real 3-member TLS cluster of the end-to-end tests
//! (`etcd_proxy::testing::etcd`): the charm finds the client URLs through a peer's
//! `/members`, and the gateway started from the rendered unit's `ExecStart` serves puts and
//! gets made with the credential files the charm saved — also after a member is stopped.
//!
//! Needs `etcd` and `etcdctl` (env `ETCD_BIN` / `ETCDCTL_BIN`, else PATH). Without them the
//! test prints a loud `SKIPPED` line, unless `CI` or `ETCD_PROXY_REQUIRE_ETCD=1` is set: then
//! it fails.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use etcd_proxy::testing::etcd::{wait_for, Daemon, EtcdBins, EtcdCluster};
use juju_hooks::StatusKind;

use crate::support::{closed_port, World};

fn etcd_bins() -> Option<EtcdBins> {
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let path = std::env::var_os("PATH");
    let found = EtcdBins::locate(var("ETCD_BIN"), var("ETCDCTL_BIN"), path.as_deref());
    if found.is_none() {
        let msg = "SKIPPED: etcd not found (rust-requirer against real etcd); install \
                   etcd-server and etcd-client or set ETCD_BIN / ETCDCTL_BIN";
        let required = std::env::var_os("CI").is_some()
            || std::env::var("ETCD_PROXY_REQUIRE_ETCD").as_deref() == Ok("1");
        assert!(!required, "{msg} (CI or ETCD_PROXY_REQUIRE_ETCD=1)");
        // Past the harness's output capture, so a skip is never silent.
        let _ = writeln!(std::io::stderr(), "\n========== {msg} ==========\n");
    }
    found
}

/// `etcdctl` through `endpoint` with the three files the charm saved in `creds`.
fn etcdctl(bins: &EtcdBins, endpoint: &str, creds: &Path, args: &[&str]) -> Output {
    Command::new(&bins.etcdctl)
        .env_clear()
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg(format!(
            "--cacert={}",
            creds.join("client-ca.pem").display()
        ))
        .arg(format!(
            "--cert={}",
            creds.join("client-cert.pem").display()
        ))
        .arg(format!("--key={}", creds.join("client-key.pem").display()))
        .args(["--dial-timeout=2s", "--command-timeout=3s"])
        .args(args)
        .output()
        .unwrap()
}

/// Puts `value` and reads it back through `endpoint`, retrying for up to 20 s (a stopped
/// member's leadership takes a moment to move).
fn put_get(bins: &EtcdBins, endpoint: &str, creds: &Path, value: &str) -> Result<(), String> {
    let mut last = String::new();
    let done = wait_for(Duration::from_secs(20), || {
        let put = etcdctl(bins, endpoint, creds, &["put", "example", value]);
        if !put.status.success() {
            last = String::from_utf8_lossy(&put.stderr).into_owned();
            return None;
        }
        let get = etcdctl(
            bins,
            endpoint,
            creds,
            &["get", "example", "--print-value-only"],
        );
        let got = String::from_utf8_lossy(&get.stdout).trim().to_owned();
        last = format!(
            "get returned {got:?}: {}",
            String::from_utf8_lossy(&get.stderr)
        );
        (got == value).then_some(())
    });
    done.ok_or(last)
}

#[test]
fn the_rendered_gateway_serves_the_cluster_with_the_saved_credentials() {
    let Some(bins) = etcd_bins() else { return };
    let mut cluster = EtcdCluster::start(&bins, 3);
    let mut world = World::new(1);
    let root = world.root().to_owned();

    let listen = format!("127.0.0.1:{}", closed_port());
    world.set_config("kube", &[("listen-address", &listen)]);
    world.emulator.relate("etcd", "kube").unwrap();
    world.settle();
    // What the etcd charm publishes for this cluster: its peer URLs and the client pair.
    let bag = cluster
        .pki()
        .generated
        .python_provider_databag(&cluster.initial_cluster());
    world.publish("live", &bag);
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Active, "{}", status.message);
    assert!(
        status.message.contains("cluster of 3 member(s)"),
        "{}",
        status.message
    );
    assert_eq!(world.restarts(), 1);

    // The client URLs came from the member list, not from a guess on 2379.
    let unit_file =
        fs::read_to_string(world.machine("etc/systemd/system/etcd-proxy.service")).unwrap();
    let exec_start = unit_file
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    // Sorted as text, as the library sorts URLs.
    let mut endpoints: Vec<String> = cluster
        .members()
        .iter()
        .map(|m| format!("127.0.0.1:{}", m.client_port))
        .collect();
    endpoints.sort();
    assert_eq!(
        exec_start,
        format!(
            "/usr/bin/etcd gateway start --endpoints={} --listen-addr={listen}",
            endpoints.join(",")
        )
    );

    // Run the unit's command with this machine's etcd, and talk through it.
    let mut argv: Vec<String> = exec_start.split(' ').map(str::to_owned).collect();
    argv[0] = bins.etcd.display().to_string();
    let gateway = Daemon::spawn("gateway", &argv, &[], &root.join("gateway.log"));
    let creds = world.machine("etc/ssl/etcd");
    let through = format!("https://{listen}");
    if let Err(why) = put_get(&bins, &through, &creds, "from-the-rust-charm") {
        panic!(
            "no put/get through the gateway: {why}\n{}",
            gateway.log_tail(20)
        );
    }

    // A member goes away: the gateway still reaches the others.
    cluster.stop_member(0);
    if let Err(why) = put_get(&bins, &through, &creds, "after-a-member-loss") {
        panic!(
            "no put/get after a member loss: {why}\n{}\n{}",
            gateway.log_tail(20),
            cluster.logs()
        );
    }
    world.assert_machine_untouched();
}
