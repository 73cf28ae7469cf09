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

use anyhow::{Context as _, Result};
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

fn run_in(root: &Path, exe: &Path) -> Result<usize> {
    heading("a test PKI (CA, client certificate with CN=client, as the etcd charm hands out)");
    let pki = TestPki::generate();
    let tls = root.join("provider-tls");
    fs::create_dir_all(&tls)?;
    fs::write(tls.join("ca.pem"), &pki.ca_pem)?;
    fs::write(tls.join("client.pem"), &pki.client.cert_pem)?;
    fs::write(tls.join("client-key.pem"), &pki.client.key_pem)?;
    println!("  written to {}", tls.display());

    heading("the embedded Juju model: an etcd provider and a requirer (example bash charms)");
    let charms = root.join("charms");
    write_charm(&charms.join("etcd-provider"), &PROVIDER_FILES, exe)?;
    write_charm(&charms.join("proxy-requirer"), &REQUIRER_FILES, exe)?;
    let model = root.join("model");
    let emulator = Emulator::create(&model, "demo", exe)?;
    let mut demo = Demo {
        root: root.to_owned(),
        emulator,
    };
    let etcd: AppName = "etcd".parse()?;
    let kube: AppName = "kube".parse()?;
    demo.emulator
        .deploy(&etcd, &charms.join("etcd-provider"), 1)?;
    demo.emulator
        .deploy(&kube, &charms.join("proxy-requirer"), 1)?;
    let creds_dir = demo.root.join("kube-0/etc/ssl/etcd");
    let unit_file = demo
        .root
        .join("kube-0/etc/systemd/system/etcd-proxy.service");
    demo.config(
        "kube",
        &[
            ("credentials-dir", creds_dir.display().to_string()),
            ("unit-file", unit_file.display().to_string()),
        ],
    )?;
    let mut failed = demo.settle()?;

    heading("relate etcd:proxy kube:proxy (nothing published yet)");
    demo.emulator.relate("etcd:proxy", "kube:proxy")?;
    failed += demo.settle()?;

    heading("the provider publishes the cluster string first");
    demo.config(
        "etcd",
        &[("cluster", "etcd0=https://127.0.0.1:2380".to_owned())],
    )?;
    failed += demo.settle()?;

    heading("then the client credentials");
    demo.config("etcd", &[("tls-dir", tls.display().to_string())])?;
    failed += demo.settle()?;

    heading("what the requirer wrote");
    for name in ["client-ca.pem", "client-cert.pem", "client-key.pem"] {
        show_file(&creds_dir.join(name))?;
    }
    if unit_file.exists() {
        show_file(&unit_file)?;
    }
    Ok(failed)
}
