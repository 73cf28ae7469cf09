//! The CLI contract inside real hooks: exit codes, what is printed, and what is (not) written.

use std::fs;

use etcd_proxy::testing::TestPki;
use juju_hooks::{Databag, StatusKind};

use crate::support::{assert_no_key_material, epr, mode, step, World};

const CANONICAL: &str = "etcd0=https://127.0.0.2:2380,etcd1=https://127.0.0.3:2380";
const PROVIDER: &str = "etcd/0";
const REQUIRER: &str = "kube/0";

/// A scripted provider `etcd` (1 unit) and requirer `kube`, related as relation 0.
fn related_world() -> World {
    let world = World::new();
    let provider = world.scripted_provider();
    let requirer = world.scripted_requirer();
    world.emulator(&["deploy", provider.to_str().unwrap(), "etcd"]);
    world.emulator(&["deploy", requirer.to_str().unwrap(), "kube"]);
    world.emulator(&["relate", "etcd:proxy", "kube:proxy"]);
    world
}

fn in_provider(world: &World, steps: Vec<crate::support::Step>) -> Vec<crate::support::Output> {
    world.in_hook(PROVIDER, "update-status", steps)
}

fn in_requirer(world: &World, steps: Vec<crate::support::Step>) -> Vec<crate::support::Output> {
    world.in_hook(REQUIRER, "update-status", steps)
}

fn pem_files(world: &World, name: &str, ca: &str, cert: &str, key: &str) -> [String; 3] {
    let dir = world.path(name);
    fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    [
        write("ca.pem", ca),
        write("cert.pem", cert),
        write("key.pem", key),
    ]
}

fn publish_credentials(files: &[String; 3]) -> Vec<String> {
    let mut args: Vec<String> = vec!["provides".into(), "publish".into()];
    for (flag, file) in ["--ca", "--cert", "--key"].iter().zip(files) {
        args.push((*flag).into());
        args.push(file.clone());
    }
    args
}

#[test]
fn requirer_commands_report_missing_incomplete_and_ready_data() {
    let world = related_world();
    let pki = TestPki::generate();
    let saved = world.path("saved");
    let dir = saved.display().to_string();

    // Nothing published yet.
    let out = in_requirer(
        &world,
        vec![
            step(&["requires", "cluster-string"]).expect(1),
            step(&["requires", "sync", "--strict"]).expect(3),
            step(&["requires", "sync"]),
            step(&["requires", "save-credentials", "--dir", &dir]).expect(1),
        ],
    );
    assert_eq!(out[0].stdout, "");
    assert!(
        out[0].stderr.contains("no valid cluster string")
            && out[0].stderr.contains("waiting for etcd to publish"),
        "{}",
        out[0]
    );
    assert_eq!(
        out[2].stdout,
        "waiting: waiting for etcd to publish on relation proxy\nflags: proxy.connected\n"
    );
    assert!(
        out[3].stderr.contains("no valid client credentials"),
        "{}",
        out[3]
    );
    assert!(!saved.exists(), "save-credentials created {dir}");

    // The cluster alone: the cluster string is there, an https cluster is not ready yet.
    in_provider(
        &world,
        vec![step(&[
            "provides",
            "publish",
            "--cluster",
            "etcd1=https://127.0.0.3:2380,etcd0=https://127.0.0.2:2380",
        ])],
    );
    let out = in_requirer(
        &world,
        vec![
            step(&["requires", "cluster-string"]),
            step(&["requires", "save-credentials", "--dir", &dir]).expect(1),
        ],
    );
    assert_eq!(out[0].stdout, format!("{CANONICAL}\n"));
    assert_eq!(out[0].stderr, "");
    assert!(!saved.exists());

    // Complete: both shapes of save-credentials.
    let files = pem_files(
        &world,
        "tls",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    in_provider(&world, vec![step(&publish_credentials(&files))]);
    let explicit = world.path("explicit");
    fs::create_dir_all(&explicit).unwrap();
    let (key, cert, ca) = (
        explicit.join("k.pem"),
        explicit.join("c.pem"),
        explicit.join("ca.pem"),
    );
    let [key_s, cert_s, ca_s] = [&key, &cert, &ca].map(|p| p.display().to_string());
    let out = in_requirer(
        &world,
        vec![
            step(&["requires", "sync", "--strict"]),
            step(&["requires", "save-credentials", "--dir", &dir]),
            step(&["requires", "save-credentials", "--dir", &dir]),
            step(&[
                "requires",
                "save-credentials",
                "--key",
                &key_s,
                "--cert",
                &cert_s,
                "--ca",
                &ca_s,
            ]),
            step(&[
                "requires",
                "save-credentials",
                "--key",
                &key_s,
                "--cert",
                &cert_s,
                "--ca",
                &ca_s,
            ]),
            step(&[
                "requires",
                "save-credentials",
                "--dir",
                &dir,
                "--key",
                &key_s,
            ])
            .expect(2),
            step(&["requires", "save-credentials", "--key", &key_s]).expect(2),
        ],
    );
    assert_eq!(
        out[0].stdout,
        "active: proxy: etcd cluster of 2 member(s), TLS credentials ready\n\
         flags: proxy.available proxy.cluster.changed proxy.connected proxy.tls.available proxy.tls.changed\n"
    );
    let printed: Vec<&str> = out[1..5].iter().map(|o| o.stdout.as_str()).collect();
    assert_eq!(
        printed,
        ["changed\n", "unchanged\n", "changed\n", "unchanged\n"]
    );
    assert_eq!(mode(&saved), 0o755);
    for (path, text, want) in [
        (saved.join("client-key.pem"), &pki.client.key_pem, 0o600),
        (saved.join("client-cert.pem"), &pki.client.cert_pem, 0o644),
        (saved.join("client-ca.pem"), &pki.ca_pem, 0o644),
        (key.clone(), &pki.client.key_pem, 0o600),
        (cert.clone(), &pki.client.cert_pem, 0o644),
        (ca.clone(), &pki.ca_pem, 0o644),
    ] {
        assert!(
            fs::read_to_string(&path).unwrap() == *text,
            "{}",
            path.display()
        );
        assert_eq!(mode(&path), want, "{}", path.display());
    }
    assert_eq!(mode(&world.state_file(REQUIRER)), 0o600);

    assert_no_key_material(&world.everything_printed(), &[&pki], true);
}

#[test]
fn flags_clear_removes_only_the_named_flags() {
    let world = related_world();
    in_provider(
        &world,
        vec![step(&[
            "provides",
            "publish",
            "--cluster",
            "e0=http://127.0.0.2:2380",
        ])],
    );
    let state = world.state_file(REQUIRER);
    let state_s = state.display().to_string();
    assert_eq!(
        world.flags(REQUIRER),
        [
            "proxy.available",
            "proxy.cluster.changed",
            "proxy.connected"
        ]
    );
    let out = world.cli(epr(&[
        "flags",
        "--state-file",
        &state_s,
        "--clear",
        "proxy.cluster.changed",
        "--clear",
        "no.such.flag",
    ]));
    assert_eq!(out.stdout, "proxy.available\nproxy.connected\n");
    assert_eq!(
        world.flags(REQUIRER),
        ["proxy.available", "proxy.connected"]
    );
    assert_eq!(mode(&state), 0o600);

    // An http cluster needs no credentials: ready, so --strict exits 0.
    let out = in_requirer(&world, vec![step(&["requires", "sync", "--strict"])]);
    assert_eq!(
        out[0].stdout,
        "active: proxy: etcd cluster of 1 member(s)\nflags: proxy.available proxy.connected\n"
    );

    // Outside a hook, without --state-file or --unit, flags cannot know where to look: a
    // usage error that says what to give.
    let out = epr(&["flags"]).expect(2).run();
    assert!(out.stderr.contains("JUJU_"), "{out}");
}

#[test]
fn publish_refuses_invalid_input_and_publishes_nothing() {
    let world = related_world();
    let pki = TestPki::generate();
    let good = pem_files(
        &world,
        "good",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    let foreign_key = pem_files(
        &world,
        "foreign-key",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.foreign_client.key_pem,
    );
    let other_ca = pem_files(
        &world,
        "other-ca",
        &pki.other_ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    let expired = pem_files(
        &world,
        "expired",
        &pki.ca_pem,
        &pki.expired_client.cert_pem,
        &pki.expired_client.key_pem,
    );
    let missing = [
        good[0].clone(),
        good[1].clone(),
        world.path("absent.pem").display().to_string(),
    ];
    let invalid: Vec<(Vec<String>, &str)> = vec![
        (
            cluster_args("etcd0=https://127.0.0.2:2380/path"),
            "--cluster",
        ),
        (cluster_args("etcd0=ftp://127.0.0.2:2380"), "--cluster"),
        (
            cluster_args("etcd0=https://127.0.0.2:2380\nExecStart=/bin/sh"),
            "--cluster",
        ),
        (cluster_args(""), "--cluster"),
        (publish_credentials(&foreign_key), "client_key"),
        (publish_credentials(&other_ca), "client_cert"),
        (publish_credentials(&expired), "client_cert"),
        (publish_credentials(&missing), "absent.pem"),
    ];

    let check_refusals = |before: &Databag| {
        for (args, names) in &invalid {
            let out = in_provider(&world, vec![step(args).expect(1)]);
            assert!(
                out[0].stderr.contains("nothing published") && out[0].stderr.contains(names),
                "{}",
                out[0]
            );
            assert_eq!(&world.bag(0, PROVIDER), before, "after {}", out[0].shown);
        }
        // The refused data was not remembered either: a sync publishes nothing new.
        in_provider(&world, vec![step(&["provides", "sync"])]);
        assert_eq!(&world.bag(0, PROVIDER), before);
    };

    let empty = world.bag(0, PROVIDER);
    check_refusals(&empty);

    let out = in_provider(&world, vec![step(&cluster_args(CANONICAL))]);
    assert_eq!(out[0].stdout, "published on 1 of 1 relations\n");
    let out = in_provider(&world, vec![step(&publish_credentials(&good))]);
    assert_eq!(out[0].stdout, "published on 1 of 1 relations\n");
    assert_eq!(
        world.wire_bag(0, PROVIDER),
        pki.python_provider_databag(CANONICAL)
    );
    // The same data again costs no relation-set.
    let out = in_provider(&world, vec![step(&publish_credentials(&good))]);
    assert_eq!(out[0].stdout, "published on 0 of 1 relations\n");

    let full = world.bag(0, PROVIDER);
    check_refusals(&full);

    // Neither --cluster nor credentials: a usage mistake, reported as a refusal.
    let out = in_provider(&world, vec![step(&["provides", "publish"]).expect(1)]);
    assert!(out[0].stderr.contains("nothing published"), "{}", out[0]);

    assert_no_key_material(&world.everything_printed(), &[&pki], true);
}

fn cluster_args(cluster: &str) -> Vec<String> {
    vec![
        "provides".into(),
        "publish".into(),
        "--cluster".into(),
        cluster.into(),
    ]
}

#[test]
fn hook_commands_outside_a_hook_fail_with_a_reason() {
    for args in [
        &["requires", "sync"][..],
        &["requires", "cluster-string"],
        &["provides", "sync"],
    ] {
        let out = epr(args).expect(1).run();
        assert!(out.stderr.starts_with("error: "), "{out}");
        assert!(out.stderr.contains("JUJU_"), "{out}");
        assert_eq!(out.stdout, "");
    }
    let out = epr(&["requires", "frobnicate"]).expect(2).run();
    assert!(out.stderr.contains("frobnicate"), "{out}");
    let help = epr(&["--help"]).run();
    assert!(help.stdout.contains("3  --strict only"), "{help}");
}

/// `emulator` hands its arguments to the emulator's own parser (so the hook commands do not
/// build its command tree): its help, usage errors and exit codes are the emulator's, under
/// this binary's name.
#[test]
fn the_emulator_alias_parses_its_own_arguments() {
    let help = epr(&["emulator", "--help"]).run();
    assert!(help.stdout.contains("A local stand-in for Juju"), "{help}");
    assert!(
        help.stdout.contains("Usage: etcd-proxy-relation emulator"),
        "{help}"
    );
    let sub = epr(&["emulator", "deploy", "--help"]).run();
    assert!(
        sub.stdout
            .contains("Usage: etcd-proxy-relation emulator deploy"),
        "{sub}"
    );
    let bad = epr(&["emulator", "--frobnicate"]).expect(2).run();
    assert!(bad.stderr.contains("--frobnicate"), "{bad}");
    let top = epr(&["--help"]).run();
    assert!(top.stdout.contains("emulator"), "{top}");
}

#[test]
fn the_deployed_status_and_strict_mode_agree_on_invalid_data() {
    let world = related_world();
    let pki = TestPki::generate();
    let good = pem_files(
        &world,
        "good",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    in_provider(
        &world,
        vec![
            step(&cluster_args(CANONICAL)),
            step(&publish_credentials(&good)),
        ],
    );
    // The provider validates, so invalid data can only come from another provider: write it
    // as one would, with relation-set, from a hook of the provider unit.
    let mut bag = pki.python_provider_databag(CANONICAL);
    bag.insert("client_key".into(), pki.unrelated_key_pem.clone());
    let json = world.path("bad.json");
    fs::write(&json, serde_json::to_string(&bag).unwrap()).unwrap();
    world.charm(
        "raw-writer",
        "name: raw-writer\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        &format!(
            "#!/bin/sh\nset -e\nfor rid in $(relation-ids proxy); do relation-set -r \"$rid\" --file '{}'; done\n",
            json.display()
        ),
    );
    let writer = world.path("charms/raw-writer");
    world.emulator(&["deploy", writer.to_str().unwrap(), "etcd2"]);
    world.emulator(&["relate", "etcd2:proxy", "kube:proxy"]);
    // Two providers disagree: the valid publication wins as a whole.
    let out = in_requirer(&world, vec![step(&["requires", "sync", "--strict"])]);
    assert!(out[0].stdout.starts_with("active: "), "{}", out[0]);
    // The valid provider goes: only the invalid one is left.
    world.emulator(&["unrelate", "0"]);
    let out = in_requirer(
        &world,
        vec![
            step(&["requires", "sync", "--strict"]).expect(3),
            step(&["requires", "cluster-string"]).expect(1),
        ],
    );
    assert!(
        out[0]
            .stdout
            .starts_with("blocked: proxy: etcd2/0 sent client_key: "),
        "{}",
        out[0]
    );
    assert_eq!(world.status(REQUIRER).kind, StatusKind::Blocked);
    assert!(out[1].stderr.contains("client_key"), "{}", out[1]);
    // The `changed` flags are the charm's to clear; the availability flags are gone.
    let flags = world.flags(REQUIRER);
    assert!(flags.contains(&"proxy.connected".to_owned()), "{flags:?}");
    assert!(
        !flags.iter().any(|f| f.ends_with(".available")),
        "{flags:?}"
    );

    assert_no_key_material(&world.everything_printed(), &[&pki], true);
}

/// `--help`: "3  --strict only: the relation data is incomplete or invalid". An https cluster
/// without credentials is incomplete (the status says `waiting`), so --strict must exit 3.
#[test]
fn strict_sync_exits_3_while_an_https_cluster_waits_for_credentials() {
    let world = related_world();
    in_provider(&world, vec![step(&cluster_args(CANONICAL))]);
    let out = in_requirer(&world, vec![step(&["requires", "sync"])]);
    assert!(out[0].stdout.starts_with("waiting: "), "{}", out[0]);
    in_requirer(
        &world,
        vec![step(&["requires", "sync", "--strict"]).expect(3)],
    );
}

/// A symlink planted where the key goes is replaced, never written through.
#[test]
fn save_credentials_replaces_a_planted_symlink_instead_of_following_it() {
    let world = related_world();
    let pki = TestPki::generate();
    let files = pem_files(
        &world,
        "tls",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    in_provider(
        &world,
        vec![
            step(&cluster_args(CANONICAL)),
            step(&publish_credentials(&files)),
        ],
    );
    let saved = world.path("saved");
    fs::create_dir_all(&saved).unwrap();
    let victim = world.path("victim.txt");
    fs::write(&victim, "not yours\n").unwrap();
    std::os::unix::fs::symlink(&victim, saved.join("client-key.pem")).unwrap();

    let dir = saved.display().to_string();
    let out = in_requirer(
        &world,
        vec![step(&["requires", "save-credentials", "--dir", &dir])],
    );
    assert_eq!(out[0].stdout, "changed\n");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "not yours\n");
    let key = saved.join("client-key.pem");
    assert!(!fs::symlink_metadata(&key).unwrap().file_type().is_symlink());
    assert!(fs::read_to_string(&key).unwrap() == pki.client.key_pem);
    assert_eq!(mode(&key), 0o600);
    assert_no_key_material(&world.everything_printed(), &[&pki], true);
}

/// `--uid`/`--gid` give the saved files to the proxy's service user (root can; others are
/// told why not).
#[test]
fn save_credentials_sets_the_requested_owner() {
    use std::os::unix::fs::MetadataExt;
    let world = related_world();
    let pki = TestPki::generate();
    let files = pem_files(
        &world,
        "tls",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    in_provider(
        &world,
        vec![
            step(&cluster_args(CANONICAL)),
            step(&publish_credentials(&files)),
        ],
    );
    let dir = world.path("owned").display().to_string();
    let args = [
        "requires",
        "save-credentials",
        "--dir",
        &dir,
        "--uid",
        "65534",
        "--gid",
        "65534",
    ];
    let running_as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !running_as_root {
        let out = in_requirer(&world, vec![step(&args).expect(1)]);
        assert!(out[0].stderr.contains("owned"), "{}", out[0].stderr);
        return;
    }
    let out = in_requirer(&world, vec![step(&args)]);
    assert_eq!(out[0].stdout, "changed\n");
    for name in ["client-ca.pem", "client-cert.pem", "client-key.pem"] {
        let meta = fs::metadata(world.path("owned").join(name)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "{name}");
    }
    // The same owner again: nothing to change.
    let out = in_requirer(&world, vec![step(&args)]);
    assert_eq!(out[0].stdout, "unchanged\n");
}

/// `emulator status` is a table: each column starts where its header does.
#[test]
fn emulator_status_columns_line_up() {
    let world = related_world();
    let status = world.emulator(&["status"]).stdout;
    let header = status.lines().find(|l| l.starts_with("App ")).unwrap();
    let units_at = header.find("Units").unwrap();
    for app in ["etcd", "kube"] {
        let row = status
            .lines()
            .find(|l| l.starts_with(&format!("{app} ")))
            .unwrap_or_else(|| panic!("no row for {app}:\n{status}"));
        assert_eq!(
            row.get(units_at..units_at + 1),
            Some("1"),
            "the unit count of {app} is not under `Units`:\n{header}\n{row}"
        );
    }
}

/// Modes are the contract whatever the hook's umask: key 0600, certificates 0644, created
/// directories 0755, state file 0600.
#[test]
fn file_modes_do_not_depend_on_the_umask() {
    let world = related_world();
    let pki = TestPki::generate();
    let files = pem_files(
        &world,
        "tls",
        &pki.ca_pem,
        &pki.client.cert_pem,
        &pki.client.key_pem,
    );
    in_provider(
        &world,
        vec![
            step(&cluster_args(CANONICAL)),
            step(&publish_credentials(&files)),
        ],
    );
    let mut wrong = Vec::new();
    for mask in [0o077, 0o000, 0o027] {
        let root = world.path(&format!("umask-{mask:03o}"));
        let dir = root.join("etc/ssl/etcd");
        let state = world.state_file(REQUIRER);
        fs::remove_file(&state).unwrap();
        in_requirer(
            &world,
            vec![
                step(&["requires", "sync"]).umask(mask),
                step(&[
                    "requires",
                    "save-credentials",
                    "--dir",
                    dir.to_str().unwrap(),
                ])
                .umask(mask),
            ],
        );
        for (path, want) in [
            (state, 0o600),
            (dir.join("client-key.pem"), 0o600),
            (dir.join("client-cert.pem"), 0o644),
            (dir.clone(), 0o755),
            (root.join("etc/ssl"), 0o755),
            (root.join("etc"), 0o755),
        ] {
            let got = mode(&path);
            if got != want {
                wrong.push(format!(
                    "umask {mask:03o}: {} is {got:03o}, not {want:03o}",
                    path.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `flags` outside a hook: a unit of the emulator's model by name, as the README's tour does.
#[test]
fn flags_of_an_emulated_unit_outside_a_hook() {
    let world = related_world();
    in_requirer(&world, vec![step(&["requires", "sync"])]);
    let model = world.model_dir.display().to_string();
    let out = world.cli(epr(&[
        "flags",
        "--json",
        "--unit",
        REQUIRER,
        "--model-dir",
        &model,
    ]));
    let shown: Vec<String> = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(shown, world.flags(REQUIRER));
    assert!(shown.contains(&"proxy.connected".to_owned()), "{out}");
    let out = world.cli(epr(&["flags", "--unit", "nope/0", "--model-dir", &model]).expect(1));
    assert!(out.stderr.contains("no unit nope/0"), "{out}");
    let out = world.cli(epr(&["flags"]).expect(2));
    assert!(out.stderr.contains("--unit UNIT"), "{out}");
    let out = world.cli(epr(&["--state-file", "x", "flags", "--unit", REQUIRER]).expect(2));
    assert!(out.stderr.contains("not both"), "{out}");
}

/// A PEM key passed where a flag was expected: the usage error does not repeat it.
#[test]
fn a_rejected_argument_is_not_repeated_whole() {
    let pki = TestPki::generate();
    let out = epr(&["provides", "publish", pki.client.key_pem.as_str()])
        .expect(2)
        .run();
    assert!(
        out.stderr.contains("unexpected argument '-----BEGIN"),
        "{out}"
    );
    assert!(out.stderr.len() < 400, "{out}");
    assert_no_key_material(&[("stderr".to_owned(), out.stderr.clone())], &[&pki], false);
    // --help still exits 0.
    let out = epr(&["provides", "publish", "--help"]).run();
    assert!(out.stdout.contains("--from-etcd"), "{out}");
}
