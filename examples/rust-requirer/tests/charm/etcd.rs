//! The Rust requirer against a real etcd: the charm finds the client URL through the peer's
//! `/members`, and the gateway started from the rendered unit's `ExecStart` serves a put and
//! a get made with the credential files the charm saved.
//!
//! Needs `etcd` and `etcdctl` (env `ETCD_BIN` / `ETCDCTL_BIN`, else PATH). Without them the
//! test prints a loud `SKIPPED` line, unless `CI` or `ETCD_PROXY_REQUIRE_ETCD=1` is set: then
//! it fails.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use etcd_proxy::testing::CertSpec;
use juju_hooks::StatusKind;

use crate::support::{closed_port, World};

struct Bins {
    etcd: PathBuf,
    etcdctl: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn find_etcd() -> Option<Bins> {
    let etcd = std::env::var_os("ETCD_BIN")
        .map(PathBuf::from)
        .or_else(|| on_path("etcd"));
    let etcdctl = std::env::var_os("ETCDCTL_BIN")
        .map(PathBuf::from)
        .or_else(|| {
            let sibling = etcd.as_ref()?.with_file_name("etcdctl");
            sibling.is_file().then_some(sibling)
        })
        .or_else(|| on_path("etcdctl"));
    match (etcd, etcdctl) {
        (Some(etcd), Some(etcdctl)) if etcd.is_file() && etcdctl.is_file() => {
            Some(Bins { etcd, etcdctl })
        }
        (etcd, etcdctl) => {
            let msg = format!(
                "SKIPPED: etcd not found (rust-requirer real etcd): etcd={etcd:?} \
                 etcdctl={etcdctl:?}; install etcd-server and etcd-client or set ETCD_BIN"
            );
            let required = std::env::var_os("CI").is_some()
                || std::env::var("ETCD_PROXY_REQUIRE_ETCD").as_deref() == Ok("1");
            assert!(!required, "{msg} (CI or ETCD_PROXY_REQUIRE_ETCD=1)");
            // Past the harness's output capture, so a skip is never silent.
            let _ = writeln!(std::io::stderr(), "\n========== {msg} ==========\n");
            None
        }
    }
}

/// A process killed when the test ends, also when it fails.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn spawn(program: &Path, args: &[String], log: &Path) -> Daemon {
        let log = fs::File::create(log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Daemon { child }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// `etcdctl` against `endpoint` with the credential files in `creds`.
fn etcdctl(bins: &Bins, endpoint: &str, creds: &Path, args: &[&str]) -> Output {
    Command::new(&bins.etcdctl)
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
        .arg("--dial-timeout=2s")
        .arg("--command-timeout=3s")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_rendered_gateway_serves_the_cluster_with_the_saved_credentials() {
    let Some(bins) = find_etcd() else { return };
    let mut world = World::new(1);
    let root = world.root().to_owned();

    // One TLS member on loopback; peers and clients must show a certificate of the CA.
    let (client_port, peer_port) = (closed_port(), closed_port());
    let member = root.join("member");
    fs::create_dir_all(&member).unwrap();
    let server = world.pki.issue(&CertSpec::server("etcd0", &["127.0.0.1"]));
    fs::write(member.join("ca.pem"), &world.pki.ca_pem).unwrap();
    fs::write(member.join("server.pem"), &server.cert_pem).unwrap();
    fs::write(member.join("server-key.pem"), &server.key_pem).unwrap();
    let file = |name: &str| member.join(name).display().to_string();
    let client_url = format!("https://127.0.0.1:{client_port}");
    let peer_url = format!("https://127.0.0.1:{peer_port}");
    let etcd_args: Vec<String> = vec![
        "--name=etcd0".into(),
        format!("--data-dir={}", member.join("data").display()),
        format!("--listen-client-urls={client_url}"),
        format!("--advertise-client-urls={client_url}"),
        format!("--listen-peer-urls={peer_url}"),
        format!("--initial-advertise-peer-urls={peer_url}"),
        format!("--initial-cluster=etcd0={peer_url}"),
        "--initial-cluster-state=new".into(),
        format!("--cert-file={}", file("server.pem")),
        format!("--key-file={}", file("server-key.pem")),
        format!("--trusted-ca-file={}", file("ca.pem")),
        "--client-cert-auth".into(),
        format!("--peer-cert-file={}", file("server.pem")),
        format!("--peer-key-file={}", file("server-key.pem")),
        format!("--peer-trusted-ca-file={}", file("ca.pem")),
        "--peer-client-cert-auth".into(),
    ];
    let _etcd = Daemon::spawn(&bins.etcd, &etcd_args, &root.join("etcd.log"));

    // The charm: related, the provider publishes what the Python etcd charm would.
    let listen = format!("127.0.0.1:{}", closed_port());
    world.set_config("kube", &[("listen-address", &listen)]);
    world.emulator.relate("etcd", "kube").unwrap();
    world.settle();
    let creds = world.machine("etc/ssl/etcd");
    // etcd must be up before the charm asks it for its members (checked with the member's
    // own certificate: the charm's files are not written yet).
    let healthy = wait_until(Duration::from_secs(20), || {
        let out = Command::new(&bins.etcdctl)
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={client_url}"))
            .arg(format!("--cacert={}", file("ca.pem")))
            .arg(format!("--cert={}", file("server.pem")))
            .arg(format!("--key={}", file("server-key.pem")))
            .args(["--dial-timeout=1s", "endpoint", "health"])
            .output()
            .unwrap();
        out.status.success()
    });
    assert!(
        healthy,
        "etcd did not start: {}",
        fs::read_to_string(root.join("etcd.log")).unwrap_or_default()
    );
    let bag = world
        .pki
        .python_provider_databag(&format!("etcd0={peer_url}"));
    world.publish("live", &bag);
    assert_eq!(world.kube_status().kind, StatusKind::Active);
    assert_eq!(world.restarts(), 1);

    // The client URL came from the member list, not from a guess on 2379.
    let unit_file =
        fs::read_to_string(world.machine("etc/systemd/system/etcd-proxy.service")).unwrap();
    let exec_start = unit_file
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    assert_eq!(
        exec_start,
        format!("/usr/bin/etcd gateway start --endpoints=127.0.0.1:{client_port} --listen-addr={listen}")
    );

    // Run the unit's command (with this machine's etcd) and talk through it.
    let argv: Vec<String> = exec_start.split(' ').skip(1).map(str::to_owned).collect();
    let _gateway = Daemon::spawn(&bins.etcd, &argv, &root.join("gateway.log"));
    let through = format!("https://{listen}");
    let put = wait_until(Duration::from_secs(20), || {
        etcdctl(
            &bins,
            &through,
            &creds,
            &["put", "example", "from-the-rust-charm"],
        )
        .status
        .success()
    });
    assert!(
        put,
        "no put through the gateway: {}",
        fs::read_to_string(root.join("gateway.log")).unwrap_or_default()
    );
    let got = etcdctl(
        &bins,
        &through,
        &creds,
        &["get", "example", "--print-value-only"],
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "from-the-rust-charm"
    );
    world.assert_machine_untouched();
}
