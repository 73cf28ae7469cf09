//! Crash consistency: SIGKILL a process that keeps rewriting the credentials, the rendered
//! proxy service and the unit state, at random moments, and check what it leaves on disk.
//!
//! Design: the writer is this test binary itself. [`writer_passes_alternate_versions`] is an
//! ordinary test; run with `HARDENING_CRASH_WRITER=<fixture dir>:<target dir>` (what the
//! killing test does, through `current_exe()` and libtest's `--exact` filter) it becomes the
//! writer loop and never returns until killed. So no extra binary is needed and the process
//! killed runs exactly the library code a requirer hook runs (`requires render --restart`):
//! `LocalProxy::ensure` for a v2-proxy (credentials saved key, certificate, CA; the environment
//! file and the unit installed; the service restarted through a recording service manager
//! when anything changed, and then the started proxy records its cluster in its sticky
//! member file, as etcd's v2 proxy does), then `FileFlagStore::save` (the state, committed
//! last).
//!
//! A pass writes version A or B of everything. The writer starts with the version the
//! committed state does not hold yet (as Juju retries a failed hook with the same data), so
//! in write order the files read as `v…v w…w`: one change point at most (files equal in both
//! versions, like the v2-proxy unit file, are skipped). After each kill a retried hook (one
//! in-process pass) must leave everything consistent, including no stale v2-proxy member
//! file: `install` used to remove it only after replacing the environment file, so a kill in
//! between (e.g. during the directory fsync) left it for good, since the retry found the
//! environment file unchanged (found within 30 kills with every seed tried).
//!
//! What a killed writer can leave besides: one temporary file per kill (`.tmp-*` next to
//! the credentials and the proxy files, `.<state file>.*.tmp` next to the state), holding a
//! prefix of what was being written, with the target's mode. Nothing removes them; they are
//! never read, since readers open the fixed names only.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use etcd_proxy::endpoints::ResolveLimits;
use etcd_proxy::proxy::{
    render, v2_sticky_cluster_file, ProxyMode, ProxySpec, RecordingServiceManager, DEFAULT_LISTEN,
};
use etcd_proxy::testing::TestPki;
use etcd_proxy::{
    ensure_file, save_client_credentials, ClientCredentials, ClusterString, CredentialPaths,
    InterfaceError, LocalProxy, Ownership, ProxyOutcome, ProxyPlan, Requirer, RequirerReport,
};
use juju_hooks::{Databag, FileFlagStore, FlagStore, UnitState};

use crate::support::{
    bag, changed_hook, endpoint, publication, related_model, seed, set_remote_bag, XorShift,
};

const WRITER_ENV: &str = "HARDENING_CRASH_WRITER";
const WRITER_TEST: &str = "crash::writer_passes_alternate_versions";
const READY: &str = "crash-writer: ready";
const KILLS: usize = 200;
const STATE_FILE: &str = ".etcd-proxy-relation.state.json";
const ENV_FILE: &str = "proxy/etcd-proxy.env";
const UNIT_FILE: &str = "proxy/etcd-proxy.service";
const DATA_DIR: &str = "proxy-data";

/// The files of one pass, in write order, with their modes.
const FILES: [(&str, u32); 6] = [
    ("creds/client-key.pem", 0o600),
    ("creds/client-cert.pem", 0o644),
    ("creds/client-ca.pem", 0o644),
    (ENV_FILE, 0o644),
    (UNIT_FILE, 0o644),
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

    fn index(self) -> usize {
        match self {
            Version::A => 0,
            Version::B => 1,
        }
    }
}

/// Versions A and B as a writer needs them, loaded from a fixture directory.
struct Versions {
    /// What the requirer made of each publication (what `LocalProxy::ensure` takes).
    reports: [RequirerReport; 2],
    clusters: [ClusterString; 2],
    states: [UnitState; 2],
}

impl Versions {
    fn load(fixture: &Path) -> Self {
        let load = |v: Version| {
            let dir = fixture.join(v.dir());
            let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
            let cluster: ClusterString = read("cluster.txt").parse().unwrap();
            let bag = bag(&[
                ("cluster", &cluster.to_string()),
                ("client_ca", &read("creds/client-ca.pem")),
                ("client_cert", &read("creds/client-cert.pem")),
                ("client_key", &read("creds/client-key.pem")),
            ]);
            let (report, _) = requirer_run(&bag);
            let state = FileFlagStore::new(dir.join("charm").join(STATE_FILE))
                .load()
                .unwrap();
            (report, cluster, state)
        };
        let (ra, la, sa) = load(Version::A);
        let (rb, lb, sb) = load(Version::B);
        Self {
            reports: [ra, rb],
            clusters: [la, lb],
            states: [sa, sb],
        }
    }

    /// The v2-proxy service of version `v` for a unit whose files live in `target`.
    fn spec(&self, v: Version, target: &Path) -> ProxySpec {
        let mut spec = ProxySpec::new(
            ProxyMode::V2Proxy,
            Vec::new(),
            self.clusters[v.index()].clone(),
            CredentialPaths::in_dir(&target.join("creds")),
            true,
        );
        spec.env_file = Some(target.join(ENV_FILE));
        spec.data_dir = target.join(DATA_DIR);
        spec
    }

    /// What the v2 proxy keeps in its sticky member file once started with version `v`.
    fn sticky(&self, v: Version) -> String {
        format!("{}\n", self.clusters[v.index()])
    }

    /// How the writer runs the proxy in `target`: v2-proxy, files under `target`.
    fn plan(&self, target: &Path) -> ProxyPlan {
        ProxyPlan {
            mode: ProxyMode::V2Proxy,
            listen: DEFAULT_LISTEN,
            unit_file: target.join(UNIT_FILE),
            env_file: Some(target.join(ENV_FILE)),
            template: None,
            owner: Default::default(),
            credentials: CredentialPaths::in_dir(&target.join("creds")),
            etcd_bin: None,
            data_dir: Some(target.join(DATA_DIR)),
            etcd_version: None,
            limits: ResolveLimits::default(),
        }
    }

    /// One pass, as a requirer hook runs it: `LocalProxy::ensure` (credentials, proxy files,
    /// restart if anything changed; the restarted proxy records its members), then the state
    /// (the commit marker) last. Returns what `LocalProxy::ensure` did.
    fn write(&self, v: Version, target: &Path) -> ProxyOutcome {
        let i = v.index();
        let mut services = RecordingServiceManager::default();
        let env = [
            ("JUJU_UNIT_NAME", "kube/0".to_owned()),
            ("JUJU_HOOK_NAME", "update-status".to_owned()),
            ("JUJU_CHARM_DIR", target.join("charm").display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let ctx = juju_hooks::JujuContext::from_map(&env, None).unwrap();
        // What LocalProxy keeps about the running proxy is not saved below (the state file is
        // the version's byte-exact reference), so every pass restarts: versions alternate.
        let mut scratch = self.states[i].clone();
        // v2-proxy resolves nothing, so no hook tool is called: an empty model will do.
        let mut model = juju_hooks::testing::Model::default();
        let hook =
            juju_hooks::testing::HookInvocation::new("kube/0".parse().unwrap(), "update-status");
        let mut tools = juju_hooks::testing::InMemoryTools::new(&mut model, hook);
        let outcome = LocalProxy::new(endpoint())
            .ensure(
                &ctx,
                &mut tools,
                &self.reports[i],
                &self.plan(target),
                Some(&mut services),
                &mut scratch,
            )
            .unwrap();
        if outcome.restarted {
            let sticky = v2_sticky_cluster_file(&target.join(DATA_DIR));
            ensure_file(
                &sticky,
                self.sticky(v).as_bytes(),
                0o644,
                Ownership::default(),
            )
            .unwrap();
        }
        FileFlagStore::new(target.join("charm").join(STATE_FILE))
            .save(&self.states[i])
            .unwrap();
        outcome
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

/// The requirer's report and state after syncing `bag` from scratch on the in-memory model.
fn requirer_run(bag: &Databag) -> (RequirerReport, UnitState) {
    let (mut model, number) = related_model();
    set_remote_bag(&mut model, number, bag);
    let hook = changed_hook(&model, number);
    let mut state = UnitState::default();
    let mut report = None;
    let outcome = juju_hooks::testing::run(&model, &hook, Path::new("/charm"), |ctx, tools| {
        report = Some(Requirer::new(endpoint()).sync(ctx, tools, &mut state)?);
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    outcome.result.unwrap();
    (report.unwrap(), state)
}

/// Writes versions A and B (from two PKIs and two clusters) into `fixture/{a,b}` with the
/// library's own writers, so they are also the byte-exact reference (the proxy files, which
/// name the target's paths, are rendered per target).
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
        let (_, state) = requirer_run(&bag);
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
        fs::write(dir.join("cluster.txt"), cluster).unwrap();
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
    let target = new_target(root.path());
    let reference = Reference::new(&root.path().join("fixture"), &versions, &target);
    let mut v = versions.resume_with(&target);
    assert_eq!(v, Version::A, "a fresh unit starts with A");
    for _ in 0..4 {
        let outcome = versions.write(v, &target);
        assert!(outcome.restarted && outcome.unit_changed && outcome.credentials_changed);
        // The reference renders the spec `LocalProxy::ensure` builds.
        assert_eq!(
            outcome.rendered,
            render(&versions.spec(v, &target)).unwrap()
        );
        let seen = reference.inspect(&target).unwrap();
        assert_eq!(seen.complete_version(), Some(v), "{seen:?}");
        assert_eq!(seen.sticky, Held::Is(v));
        assert!(seen.leftovers.is_empty(), "{:?}", seen.leftovers);
        assert_eq!(versions.resume_with(&target), v.other());
        v = v.other();
    }
}

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Absent,
    Is(Version),
    /// The file is the same in both versions.
    Either,
}

/// The byte-exact contents of each file in versions A and B.
struct Reference {
    /// Per entry of [`FILES`].
    files: Vec<[Vec<u8>; 2]>,
    /// The v2 proxy's sticky member file.
    sticky: [Vec<u8>; 2],
}

/// What one inspection of the target found.
#[derive(Debug)]
struct Seen {
    /// Per entry of [`FILES`].
    files: [Held; 6],
    sticky: Held,
    /// Temporary files left in the target: name and size (never the bytes: a key's
    /// temporary file holds key material).
    leftovers: BTreeMap<String, usize>,
}

impl Seen {
    /// The version every file holds, if they all agree and none is absent.
    fn complete_version(&self) -> Option<Version> {
        let mut versions = self.files.iter().filter(|h| **h != Held::Either);
        let Some(Held::Is(first)) = versions.next() else {
            return None;
        };
        versions.all(|h| *h == Held::Is(*first)).then_some(*first)
    }
}

fn sticky_path(target: &Path) -> PathBuf {
    v2_sticky_cluster_file(&target.join(DATA_DIR))
}

/// Which version `path` holds, checking its type and mode; `Err` if it is neither.
fn held(path: &Path, mode: u32, both: &[Vec<u8>; 2]) -> Result<Held, String> {
    let shown = path.display();
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Held::Absent),
        Err(e) => return Err(format!("{shown}: {e}")),
    };
    if !meta.file_type().is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    if meta.mode() & 0o7777 != mode {
        let found = meta.mode() & 0o7777;
        return Err(format!("{shown} has mode {found:o}, not {mode:o}"));
    }
    let bytes = fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    if both[0] == both[1] && bytes == both[0] {
        Ok(Held::Either)
    } else if bytes == both[0] {
        Ok(Held::Is(Version::A))
    } else if bytes == both[1] {
        Ok(Held::Is(Version::B))
    } else {
        let len = bytes.len();
        Err(format!(
            "{shown} is neither version A nor B ({len} bytes: torn)"
        ))
    }
}

impl Reference {
    fn new(fixture: &Path, versions: &Versions, target: &Path) -> Self {
        let rendered = [Version::A, Version::B].map(|v| render(&versions.spec(v, target)).unwrap());
        let files = FILES
            .iter()
            .map(|(name, _)| {
                [Version::A, Version::B].map(|v| match *name {
                    ENV_FILE => rendered[v.index()].env_file.clone().unwrap().1.into_bytes(),
                    UNIT_FILE => rendered[v.index()].unit_file.clone().into_bytes(),
                    _ => fs::read(fixture.join(v.dir()).join(name)).unwrap(),
                })
            })
            .collect();
        let sticky = [Version::A, Version::B].map(|v| versions.sticky(v).into_bytes());
        Self { files, sticky }
    }

    /// Checks every invariant of a target directory; `Err` says which one broke.
    fn inspect(&self, target: &Path) -> Result<Seen, String> {
        let mut files = [Held::Absent; 6];
        for (i, (name, mode)) in FILES.iter().enumerate() {
            files[i] = held(&target.join(name), *mode, &self.files[i])?;
        }
        let sticky = held(&sticky_path(target), 0o644, &self.sticky)?;
        // The state must load as a state (never torn), through the store's own reader.
        if files[5] != Held::Absent {
            FileFlagStore::new(target.join(FILES[5].0))
                .load()
                .map_err(|e| format!("the state does not load: {e}"))?;
        }
        // Write order: v…v w…w (at most one change; absent files only at the end).
        let order: Vec<Option<Version>> = files
            .iter()
            .filter_map(|h| match h {
                Held::Absent => Some(None),
                Held::Is(v) => Some(Some(*v)),
                Held::Either => None,
            })
            .collect();
        let changes = order.windows(2).filter(|w| w[0] != w[1]).count();
        if changes > 1 || order.windows(2).any(|w| w[0].is_none() && w[1].is_some()) {
            return Err(format!("files out of write order: {files:?}"));
        }
        // Three credential files of one version make a usable set.
        if let [Held::Is(k), Held::Is(c), Held::Is(a), ..] = files {
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
            files,
            sticky,
            leftovers,
        })
    }

    /// The temporary files in the target; each must be named so that no reader takes it
    /// for a real file, hold a prefix of something being written, and be private if it holds
    /// (part of) a key or a state.
    fn leftovers(&self, target: &Path) -> Result<BTreeMap<String, usize>, String> {
        let tmp_dash: fn(&str) -> bool = |n| n.starts_with(".tmp-");
        let state_tmp: fn(&str) -> bool =
            |n| n.starts_with(&format!(".{STATE_FILE}.")) && n.ends_with(".tmp");
        let sticky_dir = sticky_path(Path::new(""));
        let sticky_dir = sticky_dir.parent().unwrap().to_str().unwrap();
        let dirs = [
            TempRule {
                dir: "creds",
                real: vec!["client-ca.pem", "client-cert.pem", "client-key.pem"],
                is_temp: tmp_dash,
                may_hold: vec![&self.files[0], &self.files[1], &self.files[2]],
            },
            TempRule {
                dir: "proxy",
                real: vec!["etcd-proxy.env", "etcd-proxy.service"],
                is_temp: tmp_dash,
                may_hold: vec![&self.files[3], &self.files[4]],
            },
            TempRule {
                dir: sticky_dir,
                real: vec!["cluster"],
                is_temp: tmp_dash,
                may_hold: vec![&self.sticky],
            },
            TempRule {
                dir: "charm",
                real: vec![STATE_FILE],
                is_temp: state_tmp,
                may_hold: vec![&self.files[5]],
            },
        ];
        let mut found = BTreeMap::new();
        for TempRule {
            dir,
            real,
            is_temp,
            may_hold,
        } in dirs
        {
            let Ok(entries) = fs::read_dir(target.join(dir)) else {
                continue; // not created yet
            };
            for entry in entries {
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
                let prefix_of = |both: &[Vec<u8>; 2]| both.iter().any(|f| f.starts_with(&bytes));
                if !may_hold.iter().any(|both| prefix_of(both)) {
                    return Err(format!("{dir}/{name} holds something never written"));
                }
                // Secret: a prefix only a key or a state can have (`-----BEGIN ` is shared
                // with the certificates).
                let private = dir == "charm"
                    || (dir == "creds"
                        && !(prefix_of(&self.files[1]) || prefix_of(&self.files[2])));
                if private && !bytes.is_empty() && mode & 0o077 != 0 {
                    return Err(format!("{dir}/{name} holds secret data with mode {mode:o}"));
                }
                found.insert(format!("{dir}/{name}"), bytes.len());
            }
        }
        Ok(found)
    }
}

/// Where a writer may leave temporary files: a directory, its real files, how its
/// temporary files are named, and what they may hold (a prefix of one of these).
struct TempRule<'a> {
    dir: &'a str,
    real: Vec<&'a str>,
    is_temp: fn(&str) -> bool,
    may_hold: Vec<&'a [Vec<u8>; 2]>,
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
    let versions = Versions::load(&fixture);
    let pass = pass_time(&fixture, &root.path().join("measure"));
    // Kill anywhere in the first two passes (plus a little into the loop's start).
    let max_delay_us = (2 * pass.as_micros()).clamp(200, 200_000) as u64;
    let seed = seed();
    eprintln!("crash: seed {seed} (HARDENING_SEED), pass {pass:?}, delay 0..={max_delay_us} µs");
    let mut rng = XorShift::new(seed);
    let target = new_target(root.path());
    let reference = Reference::new(&fixture, &versions, &target);

    let (mut mixed, mut with_new_leftover, mut seen_a, mut seen_b) = (0, 0, 0, 0);
    let mut leftovers_before = 0;
    let started = Instant::now();
    for kill in 0..KILLS {
        let mut writer = spawn_writer(&fixture, &target, &root.path().join("writer.log"));
        let delay = rng.below_or_eq(max_delay_us);
        std::thread::sleep(Duration::from_micros(delay));
        let status = writer.sigkill();
        let context = format!("kill {kill} after {delay} µs (seed {seed})");
        assert_eq!(
            status.signal(),
            Some(9),
            "{context}: not SIGKILLed ({status})"
        );
        let seen = reference
            .inspect(&target)
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        // Writes are sequential, so one kill can leave at most one temporary file.
        let new = seen.leftovers.len().saturating_sub(leftovers_before);
        assert!(new <= 1, "{context}: one kill left {new} temporary files");
        with_new_leftover += usize::from(new == 1);
        leftovers_before = seen.leftovers.len();
        let held: Vec<Version> = seen
            .files
            .iter()
            .filter_map(|h| match h {
                Held::Is(v) => Some(*v),
                _ => None,
            })
            .collect();
        mixed += usize::from(held.windows(2).any(|w| w[0] != w[1]));
        seen_a += usize::from(held.contains(&Version::A));
        seen_b += usize::from(held.contains(&Version::B));

        // The retried hook: one pass of the version the state does not hold yet.
        let v = versions.resume_with(&target);
        versions.write(v, &target);
        let after = reference
            .inspect(&target)
            .unwrap_or_else(|e| panic!("{context}, then a retried pass: {e}"));
        assert_eq!(
            after.complete_version(),
            Some(v),
            "{context}: a retried pass left {after:?}"
        );
        // A stale sticky member file would make the restarted v2 proxy ignore the cluster
        // in the environment file.
        assert!(
            matches!(after.sticky, Held::Absent) || after.sticky == Held::Is(v),
            "{context}: after a retried pass of {v:?} the v2 proxy's member file holds {:?} \
             (the crash came after the environment file was replaced and before the stale \
             member file was removed; before the kill: {seen:?})",
            after.sticky
        );
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
}
