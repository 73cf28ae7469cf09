//! `etcd-proxy-relation demo`: the whole story on the embedded model.
//!
//! An etcd provider unit and a requirer unit, both the example bash charms (embedded in this
//! binary), related on the emulator; hooks fire in Juju's order and the flags are printed
//! after each one. With `etcd` installed, the provider publishes a real 3-member TLS
//! cluster's membership and the demo runs the rendered proxy and talks through it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use etcd_proxy::testing::etcd::{
    free_port, wait_for, CertFiles, Daemon, EtcdBins, EtcdCluster, EtcdctlTls,
};
use etcd_proxy::testing::TestPki;
use juju_emulator::{Emulator, HookReport};
use juju_hooks::{AppName, FileFlagStore, FlagStore, UnitName};

use crate::cli::DemoArgs;
use crate::commands::STATE_FILE;

const REQUIRER_FILES: [(&str, &str); 3] = [
    (
        "metadata.yaml",
        include_str!("../../../examples/bash-requirer/metadata.yaml"),
    ),
    (
        "config.yaml",
        include_str!("../../../examples/bash-requirer/config.yaml"),
    ),
    (
        "dispatch",
        include_str!("../../../examples/bash-requirer/dispatch"),
    ),
];

const PROVIDER_FILES: [(&str, &str); 3] = [
    (
        "metadata.yaml",
        include_str!("../../../examples/bash-provider/metadata.yaml"),
    ),
    (
        "config.yaml",
        include_str!("../../../examples/bash-provider/config.yaml"),
    ),
    (
        "dispatch",
        include_str!("../../../examples/bash-provider/dispatch"),
    ),
];

/// Writes a charm directory whose `bin/etcd-proxy-relation` is this very binary.
fn write_charm(dir: &Path, files: &[(&str, &str)], exe: &Path) -> Result<()> {
    fs::create_dir_all(dir.join("bin"))?;
    for (name, text) in files {
        let path = dir.join(name);
        fs::write(&path, text)?;
        if *name == "dispatch" {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
    }
    std::os::unix::fs::symlink(exe, dir.join("bin/etcd-proxy-relation"))?;
    Ok(())
}

fn heading(text: &str) {
    println!("\n== {text}");
}

struct Demo {
    root: PathBuf,
    emulator: Emulator,
}

impl Demo {
    /// Runs queued hooks one by one, printing each with the flags of its unit afterwards.
    fn settle(&mut self) -> Result<usize> {
        let mut failed = 0;
        while let Some(report) = self.emulator.run_next()? {
            if !report.succeeded() {
                failed += 1;
            }
            self.print_hook(&report)?;
        }
        Ok(failed)
    }

    fn print_hook(&self, report: &HookReport) -> Result<()> {
        let hook = &report.invocation;
        let about = match (&hook.remote_unit, &hook.departing_unit) {
            (_, Some(departing)) => format!(" ({departing} leaves)"),
            (Some(remote), None) => format!(" ({remote})"),
            _ => String::new(),
        };
        let result = if report.succeeded() { "ok" } else { "FAILED" };
        let flags = self.flags(&hook.unit)?;
        println!(
            "  {:<8} {:<34} {:<6} flags: {}",
            hook.unit.to_string(),
            format!("{}{about}", hook.hook),
            result,
            if flags.is_empty() {
                "-".to_owned()
            } else {
                flags.join(" ")
            }
        );
        if !report.succeeded() {
            for line in report.stderr.lines() {
                println!("           | {line}");
            }
        }
        Ok(())
    }

    fn flags(&self, unit: &UnitName) -> Result<Vec<String>> {
        let path = self.emulator.unit_charm_dir(unit).join(STATE_FILE);
        let state = FileFlagStore::new(path).load()?;
        Ok(state.flags.into_iter().collect())
    }

    fn config(&mut self, app: &str, values: &[(&str, String)]) -> Result<()> {
        let values: BTreeMap<String, String> = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.emulator
            .set_config(&app.parse::<AppName>()?, &values)?;
        Ok(())
    }
}

fn show_file(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).with_context(|| format!("{} is missing", path.display()))?;
    println!(
        "  {:o}  {:>5} bytes  {}",
        meta.mode() & 0o7777,
        meta.len(),
        path.display()
    );
    Ok(())
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<u8> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let tmp = tempfile::Builder::new()
        .prefix("etcd-proxy-demo-")
        .tempdir()
        .context("creating a temporary directory")?;
    let root = tmp.path().to_owned();
    let failed = run_in(&root, &exe)?;
    if args.keep {
        let kept = tmp.keep();
        println!("\nkept {}", kept.display());
    }
    if failed > 0 {
        println!("\n{failed} hook(s) failed");
        return Ok(crate::commands::EXIT_FAILURE);
    }
    println!("\ndemo finished: every hook succeeded");
    Ok(0)
}

/// The TLS files the provider charm publishes: ca.pem, client.pem, client-key.pem.
fn write_provider_tls(dir: &Path, ca: &str, cert: &str, key: &str) -> Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("ca.pem"), ca)?;
    fs::write(dir.join("client.pem"), cert)?;
    fs::write(dir.join("client-key.pem"), key)?;
    Ok(())
}

fn locate_etcd() -> Option<EtcdBins> {
    EtcdBins::locate(
        std::env::var_os("ETCD_BIN").map(PathBuf::from),
        std::env::var_os("ETCDCTL_BIN").map(PathBuf::from),
        std::env::var_os("PATH").as_deref(),
    )
}

fn run_in(root: &Path, exe: &Path) -> Result<usize> {
    let tls = root.join("provider-tls");
    let bins = locate_etcd();
    let cluster = match &bins {
        Some(bins) => {
            heading(
                "a real 3-member etcd cluster on 127.0.0.1 (client and peer TLS, client-cert auth)",
            );
            let cluster = EtcdCluster::try_start_with(bins, 3, &[])
                .map_err(|why| anyhow::anyhow!("etcd did not start: {why}"))?;
            for member in cluster.members() {
                println!(
                    "  {}  peer {}  client {}",
                    member.name,
                    member.peer_url(),
                    member.client_url()
                );
            }
            let pki = cluster.pki();
            write_provider_tls(&tls, &pki.ca_pem, &pki.client.cert_pem, &pki.client.key_pem)?;
            Some(cluster)
        }
        None => {
            heading(
                "a test PKI (CA, client certificate with CN=client, as the etcd charm hands out)",
            );
            let pki = TestPki::generate();
            write_provider_tls(&tls, &pki.ca_pem, &pki.client.cert_pem, &pki.client.key_pem)?;
            None
        }
    };
    println!("  the provider's credentials: {}", tls.display());

    heading("the embedded Juju model: an etcd provider and a requirer (example bash charms)");
    let charms = root.join("charms");
    write_charm(&charms.join("etcd-provider"), &PROVIDER_FILES, exe)?;
    write_charm(&charms.join("proxy-requirer"), &REQUIRER_FILES, exe)?;
    let emulator = Emulator::create(&root.join("model"), "demo", exe)?;
    let mut demo = Demo {
        root: root.to_owned(),
        emulator,
    };
    demo.emulator
        .deploy(&"etcd".parse()?, &charms.join("etcd-provider"), 1)?;
    demo.emulator
        .deploy(&"kube".parse()?, &charms.join("proxy-requirer"), 1)?;
    let creds_dir = demo.root.join("kube-0/etc/ssl/etcd");
    let unit_file = demo
        .root
        .join("kube-0/etc/systemd/system/etcd-proxy.service");
    let listen = format!("127.0.0.1:{}", free_port());
    demo.config(
        "kube",
        &[
            ("credentials-dir", creds_dir.display().to_string()),
            ("unit-file", unit_file.display().to_string()),
            ("listen-address", listen.clone()),
            // No systemd here: the demo starts the proxy itself from the unit's ExecStart.
            ("manage-service", "false".to_owned()),
        ],
    )?;
    let mut failed = demo.settle()?;

    heading("relate etcd:proxy kube:proxy (nothing published yet)");
    demo.emulator.relate("etcd:proxy", "kube:proxy")?;
    failed += demo.settle()?;

    match &cluster {
        Some(cluster) => {
            heading("the provider publishes the live membership (GET <peer URL>/members)");
            let peer = cluster.members()[0].peer_url();
            demo.config(
                "etcd",
                &[("etcd-url", peer), ("tls-dir", tls.display().to_string())],
            )?;
            failed += demo.settle()?;
        }
        None => {
            heading("the provider publishes the cluster string first");
            demo.config(
                "etcd",
                &[("cluster", "etcd0=https://127.0.0.1:2380".to_owned())],
            )?;
            failed += demo.settle()?;
            heading("then the client credentials");
            demo.config("etcd", &[("tls-dir", tls.display().to_string())])?;
            failed += demo.settle()?;
        }
    }

    heading("what travelled on the relation (etcd/0's databag)");
    if let Some(relation) = demo.emulator.model().relations.values().next() {
        if let Some(bag) = relation.unit_bags.get(&"etcd/0".parse()?) {
            for (key, value) in bag {
                let shown = if key == "client_key" {
                    "<private key, not shown>".to_owned()
                } else {
                    value.lines().next().unwrap_or_default().to_owned()
                };
                println!("  {key:<16} {shown}");
            }
        }
    }

    heading("what the requirer wrote");
    for name in ["client-ca.pem", "client-cert.pem", "client-key.pem"] {
        show_file(&creds_dir.join(name))?;
    }
    show_file(&unit_file)?;
    let unit = fs::read_to_string(&unit_file)?;
    let exec_start = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .context("the rendered unit has no ExecStart")?;
    println!("  ExecStart={exec_start}");

    match (cluster, &bins) {
        (Some(mut cluster), Some(_)) => {
            prove_proxy(root, &mut cluster, exec_start, &listen, &creds_dir)?;
        }
        _ => {
            heading("real etcd: skipped");
            println!("  `etcd` was not found (set ETCD_BIN, or install it:");
            println!("  apt-get install etcd-server etcd-client); then the demo also starts a");
            println!("  3-member TLS cluster and the proxy, and puts/gets through it.");
        }
    }
    Ok(failed)
}

/// Starts the proxy from the rendered ExecStart, as systemd would, and talks through it with
/// the credentials the requirer saved; then stops a member and talks again.
fn prove_proxy(
    root: &Path,
    cluster: &mut EtcdCluster,
    exec_start: &str,
    listen: &str,
    creds_dir: &Path,
) -> Result<()> {
    heading("the proxy, started from the rendered unit's ExecStart");
    // Rendered values are validated to hold no whitespace or quotes: splitting is exact.
    let argv: Vec<String> = exec_start.split_whitespace().map(str::to_owned).collect();
    let mut proxy = Daemon::spawn("proxy", &argv, &[], &root.join("proxy.log"));
    let address: std::net::SocketAddr = listen.parse()?;
    let listening = wait_for(std::time::Duration::from_secs(15), || {
        std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(200)).ok()
    });
    if listening.is_none() || !proxy.is_running() {
        bail!(
            "the proxy did not listen on {listen}:\n{}",
            proxy.log_tail(20)
        );
    }
    println!("  listening on {listen} (pid owned by the demo)");
    let saved = CertFiles {
        cert_pem: fs::read_to_string(creds_dir.join("client-cert.pem"))?,
        key_pem: fs::read_to_string(creds_dir.join("client-key.pem"))?,
        cert_path: creds_dir.join("client-cert.pem"),
        key_path: creds_dir.join("client-key.pem"),
    };
    let endpoint = format!("https://{listen}");
    let limit = std::time::Duration::from_secs(20);
    cluster
        .try_put_get_within(
            &endpoint,
            EtcdctlTls::Client(&saved),
            "demo",
            "through-the-proxy",
            limit,
        )
        .map_err(|why| anyhow::anyhow!(why))?;
    println!("  etcdctl put/get via {endpoint} with the saved credentials: ok");
    let stopped = cluster.members()[0].name.clone();
    cluster.stop_member(0);
    println!("  stopped member {stopped}");
    cluster
        .try_put_get_within(
            &endpoint,
            EtcdctlTls::Client(&saved),
            "demo",
            "still-serving",
            limit,
        )
        .map_err(|why| anyhow::anyhow!(why))?;
    println!("  etcdctl put/get via {endpoint} with one member down: ok");
    proxy.stop();
    println!("  proxy and cluster stopped");
    Ok(())
}
