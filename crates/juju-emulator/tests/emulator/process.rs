//! The built binary as real processes: hook tools through symlinks named after them, and the
//! emulator's own command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{emulator_binary, text, Fixture};

/// A directory of symlinks named after every hook tool, pointing at the binary.
fn tools_dir(root: &Path) -> PathBuf {
    let dir = root.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    for tool in juju_emulator::HOOK_TOOLS {
        std::os::unix::fs::symlink(emulator_binary(), dir.join(tool)).unwrap();
    }
    dir
}

fn run(program: &Path, args: &[&str], env: &[(String, String)], stdin: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn tools_invoked_by_name_answer_like_juju() {
    let mut f = Fixture::new();
    let bin = tools_dir(f.path());
    let hook = f.kube_changed();
    let id = f.begin(&hook);
    let env: Vec<(String, String)> = f.env(&id).into_iter().collect();

    let out = run(
        &bin.join("relation-get"),
        &["--format=json", "port", "etcd/0"],
        &env,
        "",
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "\"12345\"\n".to_owned())
    );

    let out = run(&bin.join("relation-list"), &["-r", "nope"], &env, "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "ERROR invalid value \"nope\" for option -r: invalid relation id\n"
    );

    let out = run(
        &bin.join("relation-set"),
        &["--file", "-"],
        &env,
        "{\"k\": \"v\"}",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(&bin.join("relation-get"), &["k", "kube/0"], &env, "");
    assert_eq!(text(&out.stdout), "v\n", "own pending write is visible");

    let out = run(&bin.join("relation-set"), &["--help"], &env, "");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--file"));

    let out = run(&bin.join("is-leader"), &[], &[], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "ERROR JUJU_CONTEXT_ID not set\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn the_command_line_teaches_and_drives_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = emulator_binary();
    let help = run(&emulator, &["--help"], &[], "");
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    for word in [
        "Quick start",
        "deploy",
        "relate",
        "settle",
        "JUJU_EMULATOR_DIR",
        "--no-settle",
    ] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }

    let charm = dir.path().join("charm");
    std::fs::create_dir_all(&charm).unwrap();
    std::fs::write(
        charm.join("metadata.yaml"),
        "name: solo\npeers:\n  mesh: {interface: solo-peers}\n",
    )
    .unwrap();
    let env = vec![
        (
            "JUJU_EMULATOR_DIR".to_owned(),
            dir.path().join("model").to_string_lossy().into_owned(),
        ),
        ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
    ];
    let out = run(&emulator, &["create", "--name", "cli"], &env, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        &emulator,
        &["deploy", charm.to_str().unwrap(), "-n", "2"],
        &env,
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("deployed solo: solo/0, solo/1"), "{stdout}");
    // No handler in this charm: hooks are skipped as successes, peers get joined.
    assert!(
        stdout.contains("solo/1       mesh-relation-joined  mesh:0 remote=solo/0  skipped"),
        "{stdout}"
    );
    let out = run(&emulator, &["status"], &env, "");
    let stdout = text(&out.stdout);
    let solo0 = stdout.lines().find(|l| l.starts_with("solo/0*")).unwrap();
    assert!(solo0.ends_with("mesh-relation-changed ok"), "{stdout}");
    assert!(stdout.contains("Queued hooks: 0"), "{stdout}");
    let out = run(&emulator, &["unrelate", "7"], &env, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("relation 7 does not exist"),
        "{}",
        text(&out.stderr)
    );
}
