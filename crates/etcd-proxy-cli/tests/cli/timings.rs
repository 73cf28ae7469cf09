//! `--timings FILE`: every command appends one JSON line, on success and on failure, whose
//! tool calls are exactly those the emulator recorded for that hook.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use juju_emulator::{Emulator, HookOutcome, HookReport};
use juju_hooks::AppName;

use crate::support::{binary, epr, on_juju_2_9, sh_quote, unit, World};

const CLUSTER: &str = "etcd0=https://127.0.0.2:2380";

fn app(name: &str) -> AppName {
    name.parse().unwrap()
}

/// Replaces the emulator's `tool` with a wrapper that runs the real one (so the call is
/// recorded) and then fails.
fn fail_after_running(world: &World, tool: &str) {
    let real = world.path("real-tools");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(binary(), real.join(tool)).unwrap();
    let path = world.model_dir.join("tools").join(tool);
    fs::remove_file(&path).unwrap();
    let script = format!(
        "#!/bin/sh\n{} \"$@\"\necho 'ERROR cannot write relation settings' >&2\nexit 1\n",
        sh_quote(&real.join(tool).display().to_string())
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Each of `unit`'s hooks against its line in `timings`, in order.
fn check_lines(emulator: &Emulator, unit_name: &str, timings: &Path) -> Vec<HookReport> {
    let reports: Vec<HookReport> = emulator
        .hook_log()
        .unwrap()
        .into_iter()
        .filter(|r| r.invocation.unit == unit(unit_name))
        .collect();
    let text = fs::read_to_string(timings).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), reports.len(), "one line per hook:\n{text}");
    let calls = emulator.calls().unwrap();
    for (report, line) in reports.iter().zip(&lines) {
        let hook = &report.invocation.hook;
        let number = |key: &str| {
            line[key]
                .as_u64()
                .unwrap_or_else(|| panic!("{hook}: no {key} in {line}"))
        };
        let recorded: Vec<_> = calls
            .iter()
            .filter(|c| c.context_id.as_deref() == Some(report.context_id.as_str()))
            .collect();
        assert_eq!(line["command"], "provides publish", "{line}");
        assert_eq!(
            number("tool_calls"),
            recorded.len() as u64,
            "{hook}: {line}"
        );
        assert_eq!(recorded.len(), report.tool_calls, "{hook}");
        let (wall, tool, own) = (number("wall_us"), number("tool_us"), number("own_us"));
        assert!(own <= wall, "{hook}: {line}");
        assert_eq!(own, wall - tool, "{hook}: {line}");
        // The binary runs inside the hook process, each tool inside the binary's wait.
        assert!(wall <= report.duration_us, "{hook}: {line} vs {report:?}");
        let inside: u64 = recorded.iter().map(|c| c.duration_us).sum();
        assert!(tool >= inside, "{hook}: {line}, tools logged {inside} µs");
    }
    reports
}

#[test]
fn every_hook_appends_one_line_with_the_calls_the_emulator_recorded() {
    let world = World::new();
    let timings = world.path("timings.jsonl");
    let provider = world.charm(
        "etcd",
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &format!(
            "#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" provides publish \
             --cluster '{CLUSTER}' --timings {}\n",
            sh_quote(&timings.display().to_string())
        ),
    );
    let requirer = world.charm(
        "kube",
        "name: kube\nrequires:\n  proxy:\n    interface: etcd-proxy\n",
        &on_juju_2_9("#!/bin/sh\nexec \"$JUJU_CHARM_DIR/bin/etcd-proxy-relation\" requires sync\n"),
    );
    let mut emulator = Emulator::open(&world.model_dir, &binary()).unwrap();
    emulator.deploy(&app("etcd"), &provider, 1).unwrap();
    emulator.deploy(&app("kube"), &requirer, 1).unwrap();
    emulator.relate("etcd:proxy", "kube:proxy").unwrap();
    for report in emulator.settle(200).unwrap() {
        assert!(report.succeeded(), "{report:#?}");
    }
    let reports = check_lines(&emulator, "etcd/0", &timings);
    let published = emulator
        .calls()
        .unwrap()
        .iter()
        .any(|c| c.tool == "relation-set" && c.unit.as_deref() == Some("etcd/0"));
    assert!(published && reports.len() > 2, "{reports:#?}");

    // A hook whose relation-set fails still gets its line, the failed call counted.
    fail_after_running(&world, "relation-set");
    emulator.deploy(&app("kube2"), &requirer, 1).unwrap();
    emulator.relate("etcd:proxy", "kube2:proxy").unwrap();
    emulator.settle(200).unwrap();
    let reports = check_lines(&emulator, "etcd/0", &timings);
    let failed = reports.last().unwrap();
    assert_eq!(
        failed.outcome,
        HookOutcome::Failed { exit_code: Some(1) },
        "{failed:#?}"
    );
    assert!(failed.tool_calls > 0, "{failed:#?}");
}

#[test]
fn the_help_says_what_timings_are_for() {
    let help = epr(&["--help"]).run().stdout;
    assert!(help.contains("--timings <FILE>"), "{help}");
    // Wrapped to the terminal's width: compare words.
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("For profiling a charm's hooks"), "{help}");
    assert!(words.contains("own_us = wall_us - tool_us"), "{help}");
}
