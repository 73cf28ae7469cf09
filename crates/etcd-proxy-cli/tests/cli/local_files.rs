//! Local files the binary is pointed at: a bad state file is recovered from, FIFOs and
//! devices are refused without hanging, and outputs that would overwrite each other (or an
//! owner chown(2) would ignore) are usage errors.

use std::fs;
use std::path::Path;
use std::process::Command;

use etcd_proxy::testing::TestPki;

use crate::support::{epr, step, World};

const REQUIRER: &str = "kube/0";

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn related_world() -> World {
    let world = World::new();
    let provider = world.scripted_provider();
    let requirer = world.scripted_requirer();
    world.emulator(&["deploy", provider.to_str().unwrap(), "etcd"]);
    world.emulator(&["deploy", requirer.to_str().unwrap(), "kube"]);
    world.emulator(&["relate", "etcd:proxy", "kube:proxy"]);
    world
}

#[test]
fn a_corrupt_state_file_is_logged_once_and_replaced() {
    let world = related_world();
    let state = world.state_file(REQUIRER);
    for garbage in ["{\"flags\": [\"proxy.conn", "[1, 2]", "{\"flags\": 7}"] {
        fs::write(&state, garbage).unwrap();
        let out = world.in_hook(REQUIRER, "update-status", vec![step(&["requires", "sync"])]);
        assert!(out[0].stderr.contains("is corrupt"), "{}", out[0]);
        let logs = world.logs(REQUIRER);
        let corrupt: Vec<&String> = logs.iter().filter(|l| l.contains("is corrupt")).collect();
        assert!(
            corrupt
                .last()
                .is_some_and(|l| l.contains("starting from no saved state")),
            "{logs:?}"
        );
        // The state was saved again, whole: the next hook finds no problem.
        let text = fs::read_to_string(&state).unwrap();
        assert!(text.contains("proxy.connected"), "{text}");
        let out = world.in_hook(REQUIRER, "update-status", vec![step(&["requires", "sync"])]);
        assert!(!out[0].stderr.contains("corrupt"), "{}", out[0]);
    }
}

#[test]
fn a_fifo_or_a_device_as_input_is_refused_at_once() {
    let world = related_world();
    let fifo = world.path("fifo");
    mkfifo(&fifo);
    let out = epr(&[
        "requires",
        "render",
        "--dir",
        world.path("creds").to_str().unwrap(),
        "--unit-file",
        world.path("unit.service").to_str().unwrap(),
        "--template",
        fifo.to_str().unwrap(),
    ])
    .expect(1)
    .run();
    assert!(out.stderr.contains("not a regular file"), "{out}");

    let pki = TestPki::generate();
    let dir = world.path("pem");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    fs::write(dir.join("cert.pem"), &pki.client.cert_pem).unwrap();
    for bad_key in [fifo.to_str().unwrap(), "/dev/zero"] {
        let out = world.in_hook(
            "etcd/0",
            "update-status",
            vec![step(&[
                "provides",
                "publish",
                "--ca",
                dir.join("ca.pem").to_str().unwrap(),
                "--cert",
                dir.join("cert.pem").to_str().unwrap(),
                "--key",
                bad_key,
            ])
            .expect(1)],
        );
        assert!(out[0].stderr.contains("not a regular file"), "{}", out[0]);
    }
    // The state file is read the same way.
    let state = world.path("state-fifo");
    mkfifo(&state);
    let out = epr(&["flags", "--state-file", state.to_str().unwrap()]).run();
    assert!(out.stderr.contains("not a regular file"), "{out}");
}

#[test]
fn overlapping_outputs_and_an_ignored_owner_are_usage_errors() {
    let world = World::new();
    let p = |name: &str| world.path(&format!("out/{name}")).display().to_string();
    let usage = |args: &[String]| {
        let out = epr(args).expect(2).run();
        assert!(out.stderr.starts_with("error:"), "{out}");
        out
    };
    let same = p("same.pem");
    let out = usage(&[
        "requires".into(),
        "save-credentials".into(),
        "--key".into(),
        same.clone(),
        "--cert".into(),
        p("cert.pem"),
        "--ca".into(),
        same,
    ]);
    assert!(
        out.stderr.contains("--ca and --key name the same file"),
        "{out}"
    );
    // Another spelling of the key's path for the unit file.
    let out = usage(&[
        "requires".into(),
        "render".into(),
        "--dir".into(),
        p("creds"),
        "--unit-file".into(),
        format!("{}/../creds/./client-key.pem", p("creds")),
    ]);
    assert!(out.stderr.contains("--unit-file and --key"), "{out}");
    for flag in ["--uid", "--gid"] {
        let out = usage(&[
            "requires".into(),
            "save-credentials".into(),
            "--dir".into(),
            p("creds"),
            flag.into(),
            "4294967295".into(),
        ]);
        assert!(out.stderr.contains("leave unchanged"), "{out}");
    }
    let out = usage(&[
        "requires".into(),
        "save-credentials".into(),
        "--uid".into(),
        "0".into(),
    ]);
    assert!(out.stderr.contains("--dir"), "{out}");
    assert!(!world.path("out").exists(), "nothing written");
}

#[test]
fn an_error_cause_is_printed_once() {
    let world = World::new();
    // A directory where the state file goes: loading recovers, saving cannot replace it.
    let dir = world.path("state");
    fs::create_dir_all(dir.join("x")).unwrap();
    let out = epr(&[
        "flags",
        "--state-file",
        dir.to_str().unwrap(),
        "--clear",
        "a",
    ])
    .expect(1)
    .run();
    let line = out.stderr.lines().last().unwrap();
    assert!(line.starts_with("error: unit state file"), "{out}");
    assert_eq!(line.matches("Is a directory").count(), 1, "{out}");
}
