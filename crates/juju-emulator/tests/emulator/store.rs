//! The model store as processes use it: parallel tool calls in one hook, concurrent
//! commands, private files whatever the umask, and a hook environment with nothing of the
//! caller's.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use juju_emulator::{Emulator, HookReport};

use crate::support::{cli, emulator_binary, text, unit, write_charm};

/// Juju's hook tools all talk to the one context of the running hook, which applies their
/// calls one at a time (worker/uniter/runner/jujuc/server.go serves each call on the hook's
/// context; relation-set.go stages into its settings): twenty `relation-set` calls in
/// parallel all land.
#[test]
fn twenty_parallel_relation_sets_in_one_hook_all_commit() {
    let root = tempfile::tempdir().unwrap();
    let provider = root.path().join("provider");
    write_charm(
        &provider,
        "name: p\nprovides:\n  db:\n    interface: kv\n",
        "#!/bin/bash\n\
         [ \"$JUJU_HOOK_NAME\" = db-relation-created ] || exit 0\n\
         for i in $(seq 20); do relation-set k$i=v$i & done\n\
         wait\n",
    );
    let requirer = root.path().join("requirer");
    write_charm(
        &requirer,
        "name: r\nrequires:\n  db:\n    interface: kv\n",
        // A tool feeding another through a pipe: neither may wait for the other's lock.
        "#!/bin/sh\n[ \"$JUJU_HOOK_NAME\" = db-relation-changed ] || exit 0\n\
         relation-get --format=yaml - \"$JUJU_REMOTE_UNIT\" | relation-set --file -\n",
    );
    let mut emulator =
        Emulator::create(&root.path().join("model"), "m", &emulator_binary()).unwrap();
    emulator
        .deploy(&"p".parse().unwrap(), &provider, 1)
        .unwrap();
    emulator
        .deploy(&"r".parse().unwrap(), &requirer, 1)
        .unwrap();
    let relation = emulator.relate("p", "r").unwrap();
    let reports = emulator.settle(100).unwrap();
    assert!(reports.iter().all(HookReport::succeeded), "{reports:#?}");
    let created = reports
        .iter()
        .find(|r| r.invocation.hook == "db-relation-created" && r.invocation.unit == unit("p/0"))
        .unwrap();
    assert_eq!(created.tool_calls, 20);
    let bag = &emulator.model().relations[&relation].unit_bags[&unit("p/0")];
    for i in 1..=20 {
        assert_eq!(
            bag.get(&format!("k{i}")).map(String::as_str),
            Some(format!("v{i}").as_str()),
            "{bag:?}"
        );
    }
    let copied = &emulator.model().relations[&relation].unit_bags[&unit("r/0")];
    assert_eq!(
        copied.get("k7").map(String::as_str),
        Some("v7"),
        "{copied:?}"
    );
    // And what the emulator process holds is what another one reads from disk.
    let reopened = Emulator::open(emulator.dir(), &emulator_binary()).unwrap();
    assert_eq!(reopened.model(), emulator.model());
}

#[test]
fn concurrent_commands_lose_no_write() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    let charm = root.path().join("charm");
    write_charm(&charm, "name: c\n", "#!/bin/sh\n");
    assert!(cli(&model, &["create"], &[]).status.success());
    let out = cli(&model, &["deploy", charm.to_str().unwrap(), "-n", "2"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(emulator_binary())
                .args(["--no-settle", "set-leader-data", "c", &format!("k{i}=v{i}")])
                .env_clear()
                .env("JUJU_EMULATOR_DIR", &model)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let emulator = Emulator::open(&model, &emulator_binary()).unwrap();
    let data = &emulator.model().applications[&"c".parse().unwrap()].leader_data;
    assert_eq!(data.len(), 12, "{data:?}");
    assert_eq!(
        emulator.queued().unwrap().len(),
        1,
        "the changes queued one leader-settings-changed for c/1 (repeats coalesce)"
    );
}

fn mode(path: PathBuf) -> u32 {
    std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn model_files_are_private_whatever_the_umask() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    let charm = root.path().join("charm");
    write_charm(
        &charm,
        "name: c\npeers:\n  mesh:\n    interface: m\n",
        // While the emulator runs, the WAL files exist: the hook records their modes.
        "#!/bin/sh\nrelation-ids mesh >/dev/null\njuju-log hello\n\
         cd \"$JUJU_EMULATOR_DIR\" && stat -c '%n %a' model.db-wal model.db-shm \
         >> \"$JUJU_CHARM_DIR/modes\"\n",
    );
    let emulator = emulator_binary();
    let script = format!(
        "umask 000 && {e} create && {e} deploy {c} -n 2",
        e = emulator.display(),
        c = charm.display()
    );
    let out = Command::new("/bin/sh")
        .args(["-c", &script])
        .env_clear()
        .env("JUJU_EMULATOR_DIR", &model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(mode(model.clone()), 0o700);
    for file in ["model.db", "calls.jsonl", "hooks.jsonl"] {
        assert_eq!(mode(model.join(file)), 0o600, "{file}");
    }
    let modes = std::fs::read_to_string(model.join("units/c-0/charm/modes")).unwrap();
    assert!(modes.lines().count() >= 2, "{modes}");
    for line in modes.lines() {
        assert!(line.ends_with(" 600"), "{modes}");
    }
}

#[test]
fn hooks_get_nothing_of_the_callers_environment() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model");
    let charm = root.path().join("charm");
    write_charm(
        &charm,
        "name: c\n",
        "#!/bin/sh\n[ \"$JUJU_HOOK_NAME\" = install ] && env > \"$JUJU_CHARM_DIR/env.txt\"\nexit 0\n",
    );
    let caller = [
        ("SECRET_X", "1"),
        ("PATH", "/caller/bin:/usr/bin:/bin"),
        ("HOME", "/caller"),
    ];
    assert!(cli(&model, &["create"], &caller).status.success());
    let out = cli(&model, &["deploy", charm.to_str().unwrap()], &caller);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let emulator = Emulator::open(&model, &emulator_binary()).unwrap();
    let env =
        std::fs::read_to_string(emulator.unit_charm_dir(&unit("c/0")).join("env.txt")).unwrap();
    let vars: std::collections::BTreeMap<&str, &str> =
        env.lines().filter_map(|l| l.split_once('=')).collect();
    assert!(!vars.contains_key("SECRET_X"), "{env}");
    assert!(!vars.contains_key("HOME"), "{env}");
    let path = vars["PATH"];
    assert!(
        path.starts_with(&format!("{}:", model.join("tools").display())),
        "{path}"
    );
    assert!(!path.contains("/caller"), "{path}");
    // Juju: worker/uniter/runner/context/env.go `ubuntuEnv`, context.go `HookVars`.
    assert_eq!(vars["LANG"], "C.UTF-8");
    assert_eq!(vars["TERM"], "tmux-256color");
    assert_eq!(vars["DEBIAN_FRONTEND"], "noninteractive");
    assert_eq!(vars["APT_LISTCHANGES_FRONTEND"], "none");
    assert_eq!(vars["JUJU_SLA"], "unsupported");
    assert!(vars["JUJU_VERSION"].starts_with("3.6."));
    let unexpected: Vec<&&str> = vars
        .keys()
        .filter(|k| {
            !k.starts_with("JUJU_")
                && !matches!(
                    **k,
                    "PATH"
                        | "LANG"
                        | "TERM"
                        | "DEBIAN_FRONTEND"
                        | "APT_LISTCHANGES_FRONTEND"
                        | "CHARM_DIR"
                        | "CLOUD_API_VERSION"
                        | "PWD"
                        | "SHLVL"
                        | "_"
                )
        })
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
}
