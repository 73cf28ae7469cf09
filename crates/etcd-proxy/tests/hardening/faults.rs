//! Hook-tool faults end to end: a requirer hook (`Requirer::sync`, credentials saved, state
//! committed through `transact` on a `FileFlagStore`) whose tool exits 1, exits 2, hangs,
//! prints garbage or is missing fails with an error naming the tool, and persists nothing:
//! the state file, the credential files and the unit's status are as before.
//!
//! Each faulty run is an `upgrade-charm` hook after a successful one: that hook reads
//! everything (`relation-ids`, `relation-list`, `relation-get`), and the new data changes the
//! status (`status-set`); for `juju-log` the new data is invalid, which logs the reason.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use etcd_proxy::testing::TestPki;
use etcd_proxy::{
    save_client_credentials, CredentialPaths, InterfaceError, Ownership, Requirer, RequirerReport,
};
use juju_hooks::testing::{HookInvocation, Model};
use juju_hooks::{
    transact, CachedTools, Databag, FileFlagStore, HookTools, JujuContext, StatusKind,
    ToolErrorKind,
};

use crate::fake_tools::{FakeTools, Fault, TOOLS};
use crate::support::{bag, publication, related_model, set_remote_bag, unit, upgrade_hook};

const CLUSTER_A: &str = "etcd0=https://10.0.0.1:2380";
const CLUSTER_B: &str = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380";
/// Short, so that the hang cases stay quick; the shell tools answer in milliseconds.
const TOOL_TIMEOUT: Duration = Duration::from_secs(2);

/// The data the faulty run sees: valid new data, or (for `juju-log`) invalid data.
fn next_data(tool: &str, pki_b: &TestPki) -> Databag {
    if tool == "juju-log" {
        bag(&[("cluster", "etcd0 = not a cluster")])
    } else {
        publication(pki_b, CLUSTER_B)
    }
}

/// A unit's charm directory: state file and credentials.
struct UnitDir {
    dir: tempfile::TempDir,
}

impl UnitDir {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join(".etcd-proxy-relation.state.json")
    }

    fn creds(&self) -> PathBuf {
        self.dir.path().join("creds")
    }

    /// Every file under the directory with its bytes and inode: what "nothing persisted"
    /// compares (a rewrite with equal bytes changes the inode; a leftover temp file shows).
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>, u64)> {
        let mut out = Vec::new();
        let mut dirs = vec![self.dir.path().to_owned()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let ino = fs::metadata(&path).unwrap().ino();
                    out.push((path.clone(), fs::read(&path).unwrap(), ino));
                }
            }
        }
        out.sort();
        out
    }
}

/// The charm's hook: sync, save valid credentials, commit only on success.
fn hook_body(
    ctx: &JujuContext,
    tools: &mut dyn HookTools,
    unit_dir: &UnitDir,
) -> Result<RequirerReport, InterfaceError> {
    let mut store = FileFlagStore::new(unit_dir.state());
    transact(&mut store, |state| {
        let report = Requirer::new("proxy".parse().unwrap()).sync(ctx, tools, state)?;
        if let Some(credentials) = report.credentials() {
            save_client_credentials(
                credentials,
                &CredentialPaths::in_dir(&unit_dir.creds()),
                Ownership::default(),
            )?;
        }
        Ok(report)
    })
}

fn assert_names_tool(err: &InterfaceError, tool: &str) {
    let InterfaceError::Tool(tool_err) = err else {
        panic!("expected a tool error from {tool}, got {err:?}");
    };
    assert_eq!(tool_err.tool(), tool, "{err}");
    assert!(err.to_string().starts_with(&format!("{tool} ")), "{err}");
}

// --- through real processes (ProcessHookTools over shell scripts) ---------------------------

fn context(unit_dir: &UnitDir, hook: &HookInvocation, run: u32) -> JujuContext {
    let mut env = hook.env("m", unit_dir.dir.path());
    env.insert("JUJU_CONTEXT_ID".into(), format!("kube/0-run-{run}"));
    JujuContext::from_map(&env, None).unwrap()
}

fn process_hook(
    fake: &FakeTools,
    unit_dir: &UnitDir,
    hook: &HookInvocation,
    run: u32,
) -> Result<RequirerReport, InterfaceError> {
    let ctx = context(unit_dir, hook, run);
    let mut tools = CachedTools::new(fake.tools(TOOL_TIMEOUT), unit("kube/0"));
    hook_body(&ctx, &mut tools, unit_dir)
}

fn first_hook() -> HookInvocation {
    HookInvocation::changed(unit("kube/0"), "proxy:1".parse().unwrap(), unit("etcd/0"))
}

/// A unit that ran one successful hook with data A; the fake tools and its directory.
fn settled_unit(pki_a: &TestPki) -> (FakeTools, UnitDir) {
    let fake = FakeTools::new(&publication(pki_a, CLUSTER_A));
    let unit_dir = UnitDir::new();
    let report = process_hook(&fake, &unit_dir, &first_hook(), 1).unwrap();
    assert!(report.credentials().is_some());
    assert!(unit_dir.state().exists());
    (fake, unit_dir)
}

/// Runs the faulty hook for every tool that can have `fault`; returns how long each took.
fn process_fault_case(fault: Fault, tools: &[&str]) -> Vec<Duration> {
    let (pki_a, pki_b) = (TestPki::generate(), TestPki::generate());
    let mut took = Vec::new();
    for tool in tools {
        let (fake, unit_dir) = settled_unit(&pki_a);
        let before = unit_dir.snapshot();
        fake.publish(&next_data(tool, &pki_b));
        fake.inject(tool, fault);
        let started = Instant::now();
        let err = process_hook(&fake, &unit_dir, &upgrade_hook(), 2).unwrap_err();
        took.push(started.elapsed());
        eprintln!("faults: {fault:?} of {tool}: {err}");
        assert_names_tool(&err, tool);
        let InterfaceError::Tool(tool_err) = &err else {
            unreachable!()
        };
        let kind_ok = match fault {
            Fault::Exit1 => {
                matches!(&tool_err.kind, ToolErrorKind::Runtime { code: 1, stderr } if stderr.contains(tool))
            }
            Fault::Exit2 => {
                matches!(&tool_err.kind, ToolErrorKind::Usage { stderr } if stderr.contains(tool))
            }
            Fault::Hang => matches!(tool_err.kind, ToolErrorKind::Timeout { .. }),
            Fault::Garbage => matches!(tool_err.kind, ToolErrorKind::Decode { .. }),
            Fault::Missing => tool_err.is_unsupported(),
        };
        assert!(kind_ok, "{fault:?} of {tool}: {err}");
        assert_eq!(
            unit_dir.snapshot(),
            before,
            "{fault:?} of {tool} persisted something"
        );

        // Control: the same hook without the fault persists the new data.
        let fake = FakeTools::new(&next_data(tool, &pki_b));
        process_hook(&fake, &unit_dir, &upgrade_hook(), 3).unwrap();
        assert_ne!(
            unit_dir.snapshot(),
            before,
            "{tool}: the control run changed nothing"
        );
    }
    took
}

#[test]
fn a_tool_exiting_1_fails_the_hook_and_persists_nothing() {
    process_fault_case(Fault::Exit1, &TOOLS);
}

#[test]
fn a_tool_exiting_2_fails_the_hook_and_persists_nothing() {
    process_fault_case(Fault::Exit2, &TOOLS);
}

#[test]
fn a_missing_tool_fails_the_hook_and_persists_nothing() {
    process_fault_case(Fault::Missing, &TOOLS);
}

#[test]
fn a_reading_tool_printing_garbage_fails_the_hook_and_persists_nothing() {
    // Only the reading tools' output is decoded; status-set and juju-log print nothing.
    process_fault_case(Fault::Garbage, &TOOLS[..3]);
}

#[test]
fn a_hanging_tool_is_killed_after_the_timeout_and_persists_nothing() {
    let took = process_fault_case(Fault::Hang, &TOOLS);
    for (tool, took) in TOOLS.iter().zip(took) {
        assert!(
            took >= TOOL_TIMEOUT && took < TOOL_TIMEOUT + Duration::from_secs(5),
            "{tool}: the hook took {took:?} with a {TOOL_TIMEOUT:?} limit"
        );
    }
}

// --- on the in-memory model (InMemoryTools::fail) -------------------------------------------

fn in_memory_hook(
    model: &mut Model,
    hook: &HookInvocation,
    unit_dir: &UnitDir,
    fault: Option<(&'static str, i32)>,
) -> Result<RequirerReport, InterfaceError> {
    let mut report = None;
    let outcome = juju_hooks::testing::run(model, hook, unit_dir.dir.path(), |ctx, tools| {
        if let Some((tool, code)) = fault {
            tools.fail(tool, code, format!("ERROR injected failure of {tool}"));
        }
        report = Some(hook_body(ctx, tools, unit_dir)?);
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    *model = outcome.model;
    outcome.result.map(|()| report.unwrap())
}

#[test]
fn in_memory_tool_failures_fail_the_hook_and_persist_nothing() {
    let (pki_a, pki_b) = (TestPki::generate(), TestPki::generate());
    for code in [1, 2] {
        for tool in TOOLS {
            let (mut model, number) = related_model();
            set_remote_bag(&mut model, number, &publication(&pki_a, CLUSTER_A));
            let unit_dir = UnitDir::new();
            let first = crate::support::changed_hook(&model, number);
            in_memory_hook(&mut model, &first, &unit_dir, None).unwrap();
            let before = unit_dir.snapshot();
            let status_before = model.status_get(&unit("kube/0"));
            assert_eq!(status_before.kind, StatusKind::Active);

            set_remote_bag(&mut model, number, &next_data(tool, &pki_b));
            let err = in_memory_hook(&mut model, &upgrade_hook(), &unit_dir, Some((tool, code)))
                .unwrap_err();
            assert_names_tool(&err, tool);
            let InterfaceError::Tool(tool_err) = &err else {
                unreachable!()
            };
            let kind_ok = match code {
                2 => matches!(tool_err.kind, ToolErrorKind::Usage { .. }),
                _ => matches!(tool_err.kind, ToolErrorKind::Runtime { code: 1, .. }),
            };
            assert!(kind_ok, "exit {code} of {tool}: {err:?}");
            assert_eq!(
                unit_dir.snapshot(),
                before,
                "exit {code} of {tool} persisted something"
            );
            assert_eq!(model.status_get(&unit("kube/0")), status_before, "{tool}");

            // Control: without the fault the same hook changes state and status.
            in_memory_hook(&mut model, &upgrade_hook(), &unit_dir, None).unwrap();
            assert_ne!(
                unit_dir.snapshot(),
                before,
                "{tool}: the control run changed nothing"
            );
            assert_ne!(model.status_get(&unit("kube/0")), status_before, "{tool}");
        }
    }
}
