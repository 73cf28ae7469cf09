//! Crash consistency: SIGKILL a process that keeps rewriting the credentials and the unit
//! state, at random moments, and check what it leaves on disk.
//!
//! Design: the writer is this test binary itself. [`writer_passes_alternate_versions`] is an
//! ordinary test; run with `HARDENING_CRASH_WRITER=<fixture dir>:<target dir>` (what the
//! killing test does, through `current_exe()` and libtest's `--exact` filter) it becomes the
//! writer loop and never returns until killed. So no extra binary is needed and the process
//! killed runs exactly the library code a hook runs: `save_client_credentials` (key, then
//! certificate, then CA, each with `ensure_file`) followed by `FileFlagStore::save`, as
//! `requires save-credentials` does (files first, state committed last).
//!
//! A pass writes version A or B of all four files. The writer starts with the version the
//! committed state does not hold yet (as Juju retries a failed hook with the same data), so
//! in write order (key, cert, CA, state) the files read as `v…v w…w`: one change point at
//! most. What a killed writer can leave besides: one temporary file per kill (`.tmp-*` next
//! to the credentials, `.<state file>.*.tmp` next to the state), holding a prefix of what
//! was being written, with the target's mode. Nothing removes them; they are never read,
//! since readers open the fixed names only.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use etcd_proxy::testing::TestPki;
use etcd_proxy::{save_client_credentials, ClientCredentials, CredentialPaths, Ownership};
use juju_hooks::{FileFlagStore, FlagStore, MemoryFlagStore, UnitState};

use crate::support::{
    changed_hook, publication, related_model, requirer_hook, seed, set_remote_bag, XorShift,
};

const WRITER_ENV: &str = "HARDENING_CRASH_WRITER";
const WRITER_TEST: &str = "crash::writer_passes_alternate_versions";
const READY: &str = "crash-writer: ready";
const KILLS: usize = 200;
const STATE_FILE: &str = ".etcd-proxy-relation.state.json";

/// The files of one version, in write order, with their modes.
const FILES: [(&str, u32); 4] = [
    ("creds/client-key.pem", 0o600),
    ("creds/client-cert.pem", 0o644),
    ("creds/client-ca.pem", 0o644),
    ("charm/.etcd-proxy-relation.state.json", 0o600),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Version {
    A,
    B,
}

impl Version {
    fn other(self) -> Self {
        match self {
            Version::A => Version::B,
            Version::B => Version::A,
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Version::A => "a",
            Version::B => "b",
        }
    }
}

/// Versions A and B as a writer needs them, loaded from a fixture directory.
struct Versions {
    creds: [ClientCredentials; 2],
    states: [UnitState; 2],
}

impl Versions {
    fn load(fixture: &Path) -> Self {
        let load = |v: Version| {
            let dir = fixture.join(v.dir());
            let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
            let creds = ClientCredentials::from_pem(
                read("creds/client-ca.pem"),
                read("creds/client-cert.pem"),
                read("creds/client-key.pem"),
            )
            .unwrap();
            let state = FileFlagStore::new(dir.join("charm").join(STATE_FILE))
                .load()
                .unwrap();
            (creds, state)
        };
        let (ca, sa) = load(Version::A);
        let (cb, sb) = load(Version::B);
        Self {
            creds: [ca, cb],
            states: [sa, sb],
        }
    }

    fn index(v: Version) -> usize {
        match v {
            Version::A => 0,
            Version::B => 1,
        }
    }

    /// One pass: credentials first, the state (the commit marker) last.
    fn write(&self, v: Version, target: &Path) {
        let i = Self::index(v);
        save_client_credentials(
            &self.creds[i],
            &CredentialPaths::in_dir(&target.join("creds")),
            Ownership::default(),
        )
        .unwrap();
        FileFlagStore::new(target.join("charm").join(STATE_FILE))
            .save(&self.states[i])
            .unwrap();
    }

    /// The version to write first in `target`: the one its committed state does not hold.
    fn resume_with(&self, target: &Path) -> Version {
        let state = FileFlagStore::new(target.join("charm").join(STATE_FILE))
            .load()
            .unwrap();
        if state == self.states[0] {
            Version::B
        } else {
            Version::A
        }
    }
}

/// The requirer state after syncing `bag` from scratch: a real state document.
fn requirer_state(bag: &juju_hooks::Databag, scratch: &Path) -> UnitState {
    let (mut model, number) = related_model();
    set_remote_bag(&mut model, number, bag);
    let hook = changed_hook(&model, number);
    let mut store = MemoryFlagStore::new();
    requirer_hook(&mut model, &hook, &mut store, scratch).unwrap();
    store.load().unwrap()
}

/// Writes versions A and B (from two PKIs and two clusters) into `fixture/{a,b}` with the
/// library's own writers, so they are also the byte-exact reference.
fn make_fixture(fixture: &Path) {
    for (v, cluster) in [
        (Version::A, "etcd0=https://10.0.0.1:2380"),
        (
            Version::B,
            "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380,etcd2=https://10.0.0.3:2380",
        ),
    ] {
        let pki = TestPki::generate();
        let bag = publication(&pki, cluster);
        let dir = fixture.join(v.dir());
        let state = requirer_state(&bag, &dir.join("scratch"));
        let creds =
            ClientCredentials::from_pem(&bag["client_ca"], &bag["client_cert"], &bag["client_key"])
                .unwrap();
        save_client_credentials(
            &creds,
            &CredentialPaths::in_dir(&dir.join("creds")),
            Ownership::default(),
        )
        .unwrap();
        fs::create_dir_all(dir.join("charm")).unwrap();
        FileFlagStore::new(dir.join("charm").join(STATE_FILE))
            .save(&state)
            .unwrap();
    }
}

fn new_target(root: &Path) -> PathBuf {
    let target = root.join("target");
    fs::create_dir_all(target.join("charm")).unwrap();
    target
}

/// Child mode: the endless writer. Bounded anyway (time and passes), so that a writer whose
/// parent died does not run forever.
fn writer_loop(spec: &str) {
    let (fixture, target) = spec.split_once(':').expect("fixture:target");
    let (fixture, target) = (Path::new(fixture), Path::new(target));
    let versions = Versions::load(fixture);
    let mut v = versions.resume_with(target);
    println!("{READY}");
    let started = Instant::now();
    for _ in 0..1_000_000 {
        versions.write(v, target);
        v = v.other();
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
}

#[test]
fn writer_passes_alternate_versions() {
    if let Ok(spec) = std::env::var(WRITER_ENV) {
        writer_loop(&spec);
        return;
    }
    // In-process: each pass leaves exactly one complete version and nothing else.
    let root = tempfile::tempdir().unwrap();
    make_fixture(&root.path().join("fixture"));
    let versions = Versions::load(&root.path().join("fixture"));
    let reference = Reference::load(&root.path().join("fixture"));
    let target = new_target(root.path());
    let mut v = versions.resume_with(&target);
    assert_eq!(v, Version::A, "a fresh unit starts with A");
    for _ in 0..4 {
        versions.write(v, &target);
        let seen = reference.inspect(&target).unwrap();
        assert_eq!(seen.versions, [Some(v); 4]);
        assert!(seen.leftovers.is_empty(), "{:?}", seen.leftovers);
        assert_eq!(versions.resume_with(&target), v.other());
        v = v.other();
    }
}

/// The byte-exact contents of each file in versions A and B.
struct Reference {
    files: Vec<[Vec<u8>; 2]>,
}

/// What one inspection of the target found.
#[derive(Debug)]
struct Seen {
    /// Per file in write order: which version it holds (`None`: absent).
    versions: [Option<Version>; 4],
    /// Temporary files left in the target, by name.
    leftovers: BTreeMap<String, Vec<u8>>,
}

impl Reference {
    fn load(fixture: &Path) -> Self {
        let files = FILES
            .iter()
            .map(|(name, _)| {
                [Version::A, Version::B]
                    .map(|v| fs::read(fixture.join(v.dir()).join(name)).unwrap())
            })
            .collect();
        Self { files }
    }

    /// Checks every invariant of a target directory; `Err` says which one broke.
    fn inspect(&self, target: &Path) -> Result<Seen, String> {
        let mut versions = [None; 4];
        for (i, (name, mode)) in FILES.iter().enumerate() {
            let path = target.join(name);
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("{name}: {e}")),
            };
            if !meta.file_type().is_file() {
                return Err(format!("{name} is not a regular file"));
            }
            if meta.mode() & 0o7777 != *mode {
                return Err(format!(
                    "{name} has mode {:o}, not {mode:o}",
                    meta.mode() & 0o7777
                ));
            }
            let bytes = fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
            versions[i] = Some(if bytes == self.files[i][0] {
                Version::A
            } else if bytes == self.files[i][1] {
                Version::B
            } else {
                return Err(format!(
                    "{name} is neither version A nor B ({} bytes: torn)",
                    bytes.len()
                ));
            });
        }
        // The state must load as a state (never torn), through the store's own reader.
        let state_path = target.join(FILES[3].0);
        if versions[3].is_some() {
            FileFlagStore::new(&state_path)
                .load()
                .map_err(|e| format!("the state does not load: {e}"))?;
        }
        // Write order: v…v w…w (at most one change; absent files only at the end).
        let changes = versions.windows(2).filter(|w| w[0] != w[1]).count();
        if changes > 1
            || versions
                .windows(2)
                .any(|w| w[0].is_none() && w[1].is_some())
        {
            return Err(format!("files out of write order: {versions:?}"));
        }
        // Three credential files of one version make a usable set.
        if let [Some(k), Some(c), Some(a), _] = versions {
            if k == c && c == a {
                let read = |n: &str| fs::read_to_string(target.join("creds").join(n)).unwrap();
                ClientCredentials::from_pem(
                    read("client-ca.pem"),
                    read("client-cert.pem"),
                    read("client-key.pem"),
                )
                .map_err(|e| format!("a complete set does not validate: {e}"))?;
            }
        }
        let leftovers = self.leftovers(target)?;
        Ok(Seen {
            versions,
            leftovers,
        })
    }

    /// The temporary files in the target; each must be named so that no reader takes it
    /// for a real file, hold a prefix of something being written, and be private if it holds
    /// (part of) a key or a state.
    fn leftovers(&self, target: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let mut found = BTreeMap::new();
        for (dir, real, is_temp) in [
            (
                "creds",
                &["client-ca.pem", "client-cert.pem", "client-key.pem"][..],
                (|n: &str| n.starts_with(".tmp-")) as fn(&str) -> bool,
            ),
            ("charm", &[STATE_FILE][..], |n: &str| {
                n.starts_with(&format!(".{STATE_FILE}.")) && n.ends_with(".tmp")
            }),
        ] {
            for entry in fs::read_dir(target.join(dir)).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                if real.contains(&name.as_str()) {
                    continue;
                }
                if !is_temp(&name) {
                    return Err(format!("unexpected file {dir}/{name}"));
                }
                let bytes = fs::read(entry.path()).unwrap();
                let mode = entry.metadata().unwrap().mode() & 0o777;
                let prefix_of = |i: usize| self.files[i].iter().any(|f| f.starts_with(&bytes));
                let candidates: Vec<usize> = if dir == "creds" {
                    vec![0, 1, 2]
                } else {
                    vec![3]
                };
                if !candidates.iter().any(|&i| prefix_of(i)) {
                    return Err(format!("{dir}/{name} holds something never written"));
                }
                // Secret: a prefix only a key or a state can have (`-----BEGIN ` is shared).
                let private = dir == "charm" || !(prefix_of(1) || prefix_of(2));
                if private && !bytes.is_empty() && mode & 0o077 != 0 {
                    return Err(format!("{dir}/{name} holds secret data with mode {mode:o}"));
                }
                found.insert(format!("{dir}/{name}"), bytes);
            }
        }
        Ok(found)
    }
}

/// A writer process, SIGKILLed on drop if the test did not (e.g. when it fails).
struct Writer(std::process::Child);

impl Writer {
    fn sigkill(&mut self) -> std::process::ExitStatus {
        self.0.kill().unwrap(); // std sends SIGKILL
        self.0.wait().unwrap()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Spawns the writer on `fixture` and `target`; returns once it is inside its loop.
fn spawn_writer(fixture: &Path, target: &Path, log: &Path) -> Writer {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([WRITER_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(
            WRITER_ENV,
            format!("{}:{}", fixture.display(), target.display()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest prints the test name without a newline before the test runs.
            if line.ends_with(READY) {
                let _ = tx.send(());
            }
        }
    });
    let mut writer = Writer(child);
    if rx.recv_timeout(Duration::from_secs(20)).is_err() {
        writer.sigkill();
        let log = fs::read_to_string(log).unwrap_or_default();
        panic!("the writer never got ready; its stderr:\n{log}");
    }
    writer
}

/// Average time of one pass (four files, each fsynced), measured in-process.
fn pass_time(fixture: &Path, scratch: &Path) -> Duration {
    let versions = Versions::load(fixture);
    let target = new_target(scratch);
    let started = Instant::now();
    let passes = 6;
    for i in 0..passes {
        versions.write(if i % 2 == 0 { Version::A } else { Version::B }, &target);
    }
    started.elapsed() / passes
}

#[test]
fn sigkill_mid_write_leaves_each_file_old_or_new() {
    let root = tempfile::tempdir().unwrap();
    // The writer's arguments are `fixture:target`: keep the path free of `:`.
    assert!(!root.path().to_string_lossy().contains(':'));
    let fixture = root.path().join("fixture");
    make_fixture(&fixture);
    let reference = Reference::load(&fixture);
    let pass = pass_time(&fixture, &root.path().join("measure"));
    // Kill anywhere in the first two passes (plus a little into the loop's start).
    let max_delay_us = (2 * pass.as_micros()).clamp(200, 200_000) as u64;
    let seed = seed();
    eprintln!("crash: seed {seed} (HARDENING_SEED), pass {pass:?}, delay 0..={max_delay_us} µs");
    let mut rng = XorShift::new(seed);
    let target = new_target(root.path());

    let (mut mixed, mut with_new_leftover, mut seen_a, mut seen_b) = (0, 0, 0, 0);
    let mut leftovers_before = 0;
    let started = Instant::now();
    for kill in 0..KILLS {
        let mut child = spawn_writer(&fixture, &target, &root.path().join("writer.log"));
        let delay = rng.below_or_eq(max_delay_us);
        std::thread::sleep(Duration::from_micros(delay));
        let status = child.sigkill();
        let seen = reference
            .inspect(&target)
            .unwrap_or_else(|e| panic!("kill {kill} after {delay} µs (seed {seed}): {e}"));
        assert_eq!(
            status.signal(),
            Some(9),
            "kill {kill}: the writer was not SIGKILLed ({status})"
        );
        // Writes are sequential, so one kill can leave at most one temporary file.
        let new = seen.leftovers.len().saturating_sub(leftovers_before);
        assert!(new <= 1, "kill {kill}: one kill left {new} temporary files");
        with_new_leftover += usize::from(new == 1);
        leftovers_before = seen.leftovers.len();
        let distinct = seen
            .versions
            .iter()
            .flatten()
            .collect::<std::collections::BTreeSet<_>>();
        if distinct.len() > 1 {
            mixed += 1;
        }
        seen_a += usize::from(seen.versions.contains(&Some(Version::A)));
        seen_b += usize::from(seen.versions.contains(&Some(Version::B)));
    }
    eprintln!(
        "crash: {KILLS} kills in {:?}: {mixed} between two renames of a pass, {with_new_leftover} \
         left a temporary file ({leftovers_before} in all), A seen {seen_a}×, B seen {seen_b}×",
        started.elapsed()
    );
    // The kills must have landed inside writes, or the test proved nothing.
    assert!(mixed > 0, "no kill landed between two renames");
    assert!(with_new_leftover > 0, "no kill landed inside a file write");
    assert!(seen_a > 0 && seen_b > 0, "the writer never alternated");

    // A writer started over the debris finishes a clean pass and reads back fine.
    let versions = Versions::load(&fixture);
    let v = versions.resume_with(&target);
    versions.write(v, &target);
    versions.write(v.other(), &target);
    let seen = reference.inspect(&target).unwrap();
    assert_eq!(seen.versions, [Some(v.other()); 4]);
}
