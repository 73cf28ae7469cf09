//! A model on the hook-tool emulator with the Rust requirer charm and a test provider.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use etcd_proxy::testing::TestPki;
use juju_emulator::{Emulator, HookReport};
use juju_hooks::{AppName, FileFlagStore, FlagStore, UnitName, WorkloadStatus};
use tempfile::TempDir;

/// The charm binary; it is also the hook tools (multi-call on argv[0]).
pub fn charm_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rust-proxy-requirer"))
}

pub fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn unit(name: &str) -> UnitName {
    name.parse().unwrap()
}

pub fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

/// A port nothing listens on (bound, then released), so that asking a peer for its members
/// fails at once, on loopback.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Copies the charm files of `from` into `to`, keeping modes.
fn copy_files(from: &Path, to: &Path, names: &[&str]) {
    fs::create_dir_all(to).unwrap();
    for name in names {
        fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

pub struct World {
    pub tmp: TempDir,
    pub emulator: Emulator,
    pub pki: TestPki,
    /// `etcd0=https://127.0.0.1:P0,etcd1=https://127.0.0.1:P1` with closed ports.
    pub cluster: String,
}

impl World {
    /// `etcd` (test provider, `etcd_units` units) and `kube` (the Rust requirer, one unit,
    /// configured to write under the temp dir in dry-run mode), not yet related; the set-up
    /// hooks have run.
    pub fn new(etcd_units: u32) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();

        let requirer = root.join("charms/rust-proxy-requirer");
        copy_files(
            &example_dir().join("charm"),
            &requirer,
            &["metadata.yaml", "config.yaml", "dispatch"],
        );
        fs::create_dir_all(requirer.join("bin")).unwrap();
        symlink(charm_binary(), requirer.join("bin/rust-proxy-requirer")).unwrap();
        let provider = root.join("charms/test-provider");
        copy_files(
            &example_dir().join("tests/charm/test-provider"),
            &provider,
            &["metadata.yaml", "config.yaml", "dispatch"],
        );

        // Stand-ins that fail loudly: the charm must never reach the real apt-get or
        // systemctl in dry-run mode.
        let fakebin = root.join("fakebin");
        fs::create_dir_all(&fakebin).unwrap();
        for tool in ["apt-get", "systemctl"] {
            let path = fakebin.join(tool);
            let marker = root.join("real-machine-touched");
            fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexit 1\n",
                    marker.display()
                ),
            )
            .unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        // Test-only: the fake system tools go first on the hooks' PATH.
        let extra_env = BTreeMap::from([("PATH".to_owned(), fakebin.display().to_string())]);

        let mut emulator = Emulator::create(&root.join("model"), "lifecycle", &charm_binary())
            .unwrap()
            .with_extra_env(extra_env);
        emulator
            .deploy(&app("etcd"), &provider, etcd_units)
            .unwrap();
        emulator.deploy(&app("kube"), &requirer, 1).unwrap();
        // Set before any hook runs: the install hook already sees dry-run.
        let out = |p: &str| root.join("machine").join(p).display().to_string();
        emulator
            .set_config(
                &app("kube"),
                &BTreeMap::from([
                    ("credentials-dir".to_owned(), out("etc/ssl/etcd")),
                    (
                        "unit-file".to_owned(),
                        out("etc/systemd/system/etcd-proxy.service"),
                    ),
                    ("environment-file".to_owned(), out("etc/default/etcd-proxy")),
                    ("data-dir".to_owned(), out("var/lib/etcd-proxy")),
                    ("dry-run".to_owned(), "true".to_owned()),
                ]),
            )
            .unwrap();
        let cluster = format!(
            "etcd0=https://127.0.0.1:{},etcd1=https://127.0.0.1:{}",
            closed_port(),
            closed_port()
        );
        let mut world = World {
            tmp,
            emulator,
            pki: TestPki::generate(),
            cluster,
        };
        world.settle();
        world
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn machine(&self, path: &str) -> PathBuf {
        self.root().join("machine").join(path)
    }

    /// Runs every queued hook; each must succeed.
    pub fn settle(&mut self) -> Vec<HookReport> {
        let reports = self.emulator.settle(500).unwrap();
        assert!(self.emulator.queued().unwrap().is_empty(), "did not settle");
        for report in &reports {
            assert!(
                report.succeeded(),
                "{} {} failed: {}{}",
                report.invocation.unit,
                report.invocation.hook,
                report.stdout,
                report.stderr
            );
        }
        reports
    }

    /// Makes the provider publish `databag` (written as a JSON file, which relation-set
    /// --file reads as YAML) and runs the hooks that follow.
    pub fn publish(&mut self, name: &str, databag: &BTreeMap<String, String>) -> Vec<HookReport> {
        let path = self.root().join(format!("{name}.json"));
        fs::write(&path, serde_json::to_string_pretty(databag).unwrap()).unwrap();
        self.set_config("etcd", &[("data-file", &path.display().to_string())])
    }

    pub fn set_config(&mut self, app_name: &str, values: &[(&str, &str)]) -> Vec<HookReport> {
        let values = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.emulator.set_config(&app(app_name), &values).unwrap();
        self.settle()
    }

    pub fn kube_status(&self) -> WorkloadStatus {
        self.emulator
            .model()
            .unit(&unit("kube/0"))
            .unwrap()
            .status
            .clone()
    }

    pub fn kube_flags(&self) -> Vec<String> {
        let dir = self.emulator.unit_charm_dir(&unit("kube/0"));
        let store = FileFlagStore::in_charm_dir(dir, rust_proxy_requirer::STATE_NAMESPACE);
        store.load().unwrap().flags.into_iter().collect()
    }

    /// The dry-run log of kube/0: the apt-get and systemctl commands the charm would have run.
    pub fn machine_log(&self) -> Vec<String> {
        let dir = self.emulator.unit_charm_dir(&unit("kube/0"));
        match fs::read_to_string(dir.join(rust_proxy_requirer::DRY_RUN_LOG)) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn restarts(&self) -> usize {
        self.machine_log()
            .iter()
            .filter(|l| l.starts_with("systemctl restart "))
            .count()
    }

    /// Asserts the stand-ins for the real apt-get and systemctl were never run.
    pub fn assert_machine_untouched(&self) {
        let marker = self.root().join("real-machine-touched");
        assert!(
            !marker.exists(),
            "ran {}",
            fs::read_to_string(marker).unwrap_or_default()
        );
    }
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

pub fn hooks_of<'a>(reports: &'a [HookReport], unit_name: &str) -> Vec<&'a str> {
    reports
        .iter()
        .filter(|r| r.invocation.unit.to_string() == unit_name)
        .map(|r| r.invocation.hook.as_str())
        .collect()
}
