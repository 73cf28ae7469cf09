//! Every entry of the bad-input corpus through the requirer CLI in a real hook: the provider's
//! bag is a valid publication with the bad value in its key; `requires sync` exits 0, sets
//! no availability flag, the status is `blocked` naming the key, and `save-credentials` exits
//! 1 without creating or changing any file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use etcd_proxy::testing::{corpus_path, load_corpus, BadInput, TestPki};
use juju_emulator::store::Store;
use juju_emulator::Emulator;
use juju_hooks::testing::HookInvocation;
use juju_hooks::{AppName, Databag, StatusKind};

use crate::support::{assert_no_key_material, binary, unit, World};

const CLUSTER: &str = "etcd0=https://127.0.0.2:2380,etcd1=https://127.0.0.3:2380";
/// Independent models run side by side; each takes every SHARDS-th entry.
const SHARDS: usize = 4;

const REQUIRER_DISPATCH: &str = r#"#!/bin/sh
epr="$JUJU_CHARM_DIR/bin/etcd-proxy-relation"
d="$JUJU_CHARM_DIR"
"$epr" requires sync >/dev/null; echo "sync=$?"
"$epr" requires save-credentials --dir "$d/saved" >/dev/null; echo "save=$?"
"$epr" requires save-credentials --key "$d/fresh/key.pem" --cert "$d/fresh/cert.pem" --ca "$d/fresh/ca.pem" >/dev/null; echo "fresh=$?"
echo "flags=$("$epr" flags --json)"
"#;

/// What a file looked like: its bytes and when it was last written.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let modified = fs::metadata(&path).unwrap().modified().unwrap();
            (path.clone(), fs::read(&path).unwrap(), modified)
        })
        .collect();
    files.sort();
    files
}

struct Shard {
    world: World,
    emulator: Emulator,
    base: Databag,
    charm: PathBuf,
}

impl Shard {
    fn new(pki: &TestPki) -> Self {
        let world = World::new();
        let provider = world.charm(
            "silent-provider",
            "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
            "#!/bin/sh\nexit 0\n",
        );
        let requirer = world.charm(
            "corpus-requirer",
            "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
            REQUIRER_DISPATCH,
        );
        let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
        let app = |n: &str| n.parse::<AppName>().unwrap();
        emulator.deploy(&app("etcd"), &provider, 1).unwrap();
        emulator.deploy(&app("kube"), &requirer, 1).unwrap();
        emulator.relate("etcd:proxy", "kube:proxy").unwrap();
        emulator.settle(100).unwrap();
        let mut base = world.bag(0, "etcd/0");
        base.extend(pki.python_provider_databag(CLUSTER));
        let charm = world.charm_dir("kube/0");
        let mut shard = Self {
            world,
            emulator,
            base,
            charm,
        };
        // A valid publication first: the files exist and must then stay as they are.
        let (stdout, _) = shard.run(&shard.base.clone());
        assert!(stdout.contains("save=0\n"), "{stdout}");
        let _ = fs::remove_dir_all(shard.charm.join("fresh"));
        fs::create_dir(shard.charm.join("fresh")).unwrap();
        shard
    }

    /// Publishes `bag` as etcd/0's databag and runs kube/0's -changed; (stdout, stderr).
    fn run(&mut self, bag: &Databag) -> (String, String) {
        let store = Store::new(&self.world.model_dir);
        let mut model = store.load_model().unwrap();
        let relation = model.relations.get_mut(&0).unwrap();
        relation.unit_bags.insert(unit("etcd/0"), bag.clone());
        store.save_model(&model).unwrap();
        let report = self
            .emulator
            .run_hook(HookInvocation::changed(
                unit("kube/0"),
                "proxy:0".parse().unwrap(),
                unit("etcd/0"),
            ))
            .unwrap();
        assert!(report.succeeded(), "{report:#?}");
        (report.stdout, report.stderr)
    }

    /// Runs one entry; returns what went wrong, if anything.
    fn check(&mut self, entry: &BadInput) -> Vec<String> {
        let saved = snapshot(&self.charm.join("saved"));
        let (stdout, stderr) = self.run(&entry.apply_to(&self.base));
        let mut problems = Vec::new();
        for line in ["sync=0", "save=1", "fresh=1"] {
            if !stdout.lines().any(|l| l == line) {
                problems.push(format!("expected {line}"));
            }
        }
        // The `changed` flags of the valid publication before are the charm's to clear.
        let flags: Vec<String> = stdout
            .lines()
            .find_map(|l| l.strip_prefix("flags="))
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        if !flags.contains(&"proxy.connected".to_owned())
            || flags.iter().any(|f| f.ends_with(".available"))
        {
            problems.push(format!("flags {flags:?}"));
        }
        let status = self.world.status("kube/0");
        let names_key = format!("proxy: etcd/0 sent {}: ", entry.expected_key);
        if status.kind != StatusKind::Blocked || !status.message.starts_with(&names_key) {
            problems.push(format!("status {status:?}"));
        } else if !status.message.contains(&entry.reason) {
            problems.push(format!("status {:?} lacks the reason", status.message));
        }
        let refusals = stderr
            .lines()
            .filter(|l| l.starts_with("error: no valid client credentials: "))
            .collect::<Vec<_>>();
        if refusals.len() != 2 || !refusals.iter().all(|l| l.contains(&entry.expected_key)) {
            problems.push(format!("save-credentials said {refusals:?}"));
        }
        if snapshot(&self.charm.join("saved")) != saved {
            problems.push("saved credentials changed".to_owned());
        }
        if fs::read_dir(self.charm.join("fresh")).unwrap().count() != 0 {
            problems.push("save-credentials created a file".to_owned());
        }
        if !problems.is_empty() {
            problems.insert(0, format!("{entry:?}\nstdout: {stdout}\nstderr: {stderr}"));
        }
        problems
    }
}

#[test]
fn every_bad_input_blocks_the_requirer_and_writes_nothing() {
    let pki = TestPki::generate();
    let corpus = load_corpus(&corpus_path(), &pki).unwrap();
    assert!(corpus.len() >= 100, "only {} entries", corpus.len());
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..SHARDS)
            .map(|shard| {
                let (pki, corpus) = (&pki, &corpus);
                scope.spawn(move || {
                    let mut world = Shard::new(pki);
                    let mut failures = Vec::new();
                    for entry in corpus.iter().skip(shard).step_by(SHARDS) {
                        failures.extend(world.check(entry));
                    }
                    // Statuses, logs and errors describe bad values: never with key material.
                    assert_no_key_material(&world.world.everything_printed(), &[pki], true);
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
