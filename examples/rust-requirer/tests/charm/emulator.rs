//! The whole life of the Rust requirer charm on the hook-tool emulator: real processes,
//! real hook tools, real files under a temp dir; apt-get and systemctl in dry-run.

use std::fs;

use etcd_proxy::testing::TestPki;
use juju_hooks::testing::HookInvocation;
use juju_hooks::StatusKind;

use crate::support::{hooks_of, mode, unit, World};

const PROXY_FLAGS: [&str; 3] = ["proxy.available", "proxy.connected", "proxy.tls.available"];

fn proxy_flags(world: &World) -> Vec<String> {
    world
        .kube_flags()
        .into_iter()
        .filter(|f| f.starts_with("proxy."))
        .collect()
}

#[test]
fn install_relate_publish_rotate_reconfigure_depart_break() {
    let mut world = World::new(2);

    // install: the package, once, and the status says what is missing.
    assert_eq!(world.machine_log(), ["apt-get install -y etcd-server"]);
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Waiting);
    assert_eq!(
        status.message,
        "waiting for a relation to etcd on endpoint proxy"
    );

    // relate: connected, nothing published yet.
    world.emulator.relate("etcd", "kube").unwrap();
    let reports = world.settle();
    assert_eq!(
        hooks_of(&reports, "kube/0"),
        [
            "proxy-relation-created",
            "proxy-relation-joined",
            "proxy-relation-changed",
            "proxy-relation-joined",
            "proxy-relation-changed"
        ]
    );
    assert_eq!(proxy_flags(&world), ["proxy.connected"]);
    assert_eq!(world.kube_status().kind, StatusKind::Waiting);
    assert!(!world.machine("etc/ssl/etcd").exists());

    // publish, as the deployed Python provider does (four keys).
    let first = world.pki.python_provider_databag(&world.cluster);
    let reports = world.publish("first", &first);
    assert!(hooks_of(&reports, "kube/0").contains(&"proxy-relation-changed"));
    assert_eq!(proxy_flags(&world), PROXY_FLAGS);

    let creds = world.machine("etc/ssl/etcd");
    assert_eq!(
        mode(&creds),
        0o755,
        "a proxy running as another user reads through it"
    );
    let key = creds.join("client-key.pem");
    assert_eq!(fs::read_to_string(&key).unwrap(), world.pki.client.key_pem);
    assert_eq!(mode(&key), 0o600);
    for (file, pem) in [
        ("client-cert.pem", &world.pki.client.cert_pem),
        ("client-ca.pem", &world.pki.ca_pem),
    ] {
        assert_eq!(&fs::read_to_string(creds.join(file)).unwrap(), pem);
        assert_eq!(mode(&creds.join(file)), 0o644, "{file}");
    }

    let unit_path = world.machine("etc/systemd/system/etcd-proxy.service");
    let unit_file = fs::read_to_string(&unit_path).unwrap();
    assert_eq!(mode(&unit_path), 0o644);
    // No peer answered (closed loopback ports), so the client URLs are guessed on 2379.
    assert!(
        unit_file.contains(
            "ExecStart=/usr/bin/etcd gateway start --endpoints=127.0.0.1:2379 \
             --listen-addr=127.0.0.1:23790\n"
        ),
        "{unit_file}"
    );
    assert_eq!(
        world.machine_log(),
        [
            "apt-get install -y etcd-server",
            "systemctl daemon-reload",
            "systemctl enable etcd-proxy.service",
            "systemctl restart etcd-proxy.service",
        ]
    );
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Active);
    assert_eq!(
        status.message,
        "proxy: etcd cluster of 2 member(s), TLS credentials ready; gateway on 127.0.0.1:23790"
    );

    // A hook with nothing new changes nothing and restarts nothing.
    let report = world
        .emulator
        .run_hook(HookInvocation::new(unit("kube/0"), "update-status"))
        .unwrap();
    assert!(report.succeeded(), "{}", report.stderr);
    assert!(
        report
            .stdout
            .contains("credentials unchanged, unit unchanged, not restarted"),
        "{}",
        report.stdout
    );
    assert_eq!(world.restarts(), 1);

    // Rotation: new credentials, same cluster. Both provider units publish them, kube sees
    // two -changed hooks and rewrites the files; the gateway passes TLS through and is not
    // restarted (issue 10: only grpc-proxy and v2-proxy restart for new credentials).
    let rotated = TestPki::generate();
    let second = rotated.python_provider_databag(&world.cluster);
    let reports = world.publish("second", &second);
    assert_eq!(
        hooks_of(&reports, "kube/0"),
        ["proxy-relation-changed", "proxy-relation-changed"]
    );
    assert_eq!(fs::read_to_string(&key).unwrap(), rotated.client.key_pem);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(fs::read_to_string(&unit_path).unwrap(), unit_file);
    assert_eq!(world.restarts(), 1);
    assert_eq!(
        proxy_flags(&world),
        PROXY_FLAGS,
        "changed flags are cleared"
    );

    // grpc-proxy refuses a certificate with a CN: blocked, nothing restarted.
    world.set_config("kube", &[("proxy-mode", "grpc-proxy")]);
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(
        status
            .message
            .starts_with("cannot run the grpc-proxy proxy: grpc-proxy cannot use"),
        "{}",
        status.message
    );
    assert_eq!(world.restarts(), 1);

    // Back to the gateway on another port: the unit changes, one restart, active again.
    world.set_config(
        "kube",
        &[
            ("proxy-mode", "gateway"),
            ("listen-address", "127.0.0.1:23791"),
        ],
    );
    assert!(fs::read_to_string(&unit_path)
        .unwrap()
        .contains("--listen-addr=127.0.0.1:23791\n"));
    assert_eq!(world.restarts(), 2);
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Active);
    assert!(
        status.message.ends_with("gateway on 127.0.0.1:23791"),
        "{}",
        status.message
    );

    // One etcd unit leaves: the other still publishes the same data; no restart.
    world.emulator.remove_unit(&unit("etcd/1")).unwrap();
    let reports = world.settle();
    assert_eq!(hooks_of(&reports, "kube/0"), ["proxy-relation-departed"]);
    assert_eq!(proxy_flags(&world), PROXY_FLAGS);
    assert_eq!(world.kube_status().kind, StatusKind::Active);
    assert_eq!(world.restarts(), 2);

    // The relation goes: flags cleared, status waits, the files stay, nothing restarts.
    world.emulator.unrelate(0).unwrap();
    let reports = world.settle();
    assert_eq!(
        hooks_of(&reports, "kube/0"),
        ["proxy-relation-departed", "proxy-relation-broken"]
    );
    assert!(proxy_flags(&world).is_empty(), "{:?}", proxy_flags(&world));
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Waiting);
    assert_eq!(
        status.message,
        "waiting for a relation to etcd on endpoint proxy"
    );
    assert!(unit_path.exists() && key.exists());
    assert_eq!(world.restarts(), 2);

    // The package was installed once, and the real machine never touched.
    let installs = world
        .machine_log()
        .iter()
        .filter(|l| l.starts_with("apt-get"))
        .count();
    assert_eq!(installs, 1);
    world.assert_machine_untouched();
}

#[test]
fn invalid_relation_data_blocks_and_writes_nothing() {
    let mut world = World::new(1);
    world.emulator.relate("etcd", "kube").unwrap();
    world.settle();
    let mut bag = world.pki.python_provider_databag(&world.cluster);
    // A key that does not belong to the certificate.
    bag.insert("client_key".into(), world.pki.unrelated_key_pem.clone());
    world.publish("mismatch", &bag);
    let status = world.kube_status();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("client_key"), "{}", status.message);
    assert_eq!(proxy_flags(&world), ["proxy.connected"]);
    assert!(!world.machine("etc/ssl/etcd").exists());
    assert!(!world
        .machine("etc/systemd/system/etcd-proxy.service")
        .exists());
    assert_eq!(world.restarts(), 0);

    // The provider fixes its data: everything follows.
    let good = world.pki.python_provider_databag(&world.cluster);
    world.publish("fixed", &good);
    assert_eq!(proxy_flags(&world), PROXY_FLAGS);
    assert_eq!(world.kube_status().kind, StatusKind::Active);
    assert_eq!(world.restarts(), 1);
    world.assert_machine_untouched();
}

#[test]
fn client_urls_from_the_provider_are_used_as_they_are() {
    let mut world = World::new(1);
    world.emulator.relate("etcd", "kube").unwrap();
    world.settle();
    let mut bag = world.pki.python_provider_databag(&world.cluster);
    bag.insert(
        "client_urls".into(),
        "https://127.0.0.1:12379,https://127.0.0.2:12379".into(),
    );
    world.publish("with-client-urls", &bag);
    let unit_file =
        fs::read_to_string(world.machine("etc/systemd/system/etcd-proxy.service")).unwrap();
    assert!(
        unit_file.contains("--endpoints=127.0.0.1:12379,127.0.0.2:12379 "),
        "{unit_file}"
    );
}

#[test]
fn v2_proxy_renders_its_environment_file() {
    let mut world = World::new(1);
    world.set_config("kube", &[("proxy-mode", "v2-proxy")]);
    world.emulator.relate("etcd", "kube").unwrap();
    world.settle();
    let bag = world.pki.python_provider_databag(&world.cluster);
    world.publish("v2", &bag);
    let env_path = world.machine("etc/default/etcd-proxy");
    let env = fs::read_to_string(&env_path).unwrap();
    assert_eq!(mode(&env_path), 0o644);
    assert!(env.contains("ETCD_PROXY=on\n"), "{env}");
    assert!(
        env.contains(&format!("ETCD_INITIAL_CLUSTER={}\n", world.cluster)),
        "{env}"
    );
    let unit_file =
        fs::read_to_string(world.machine("etc/systemd/system/etcd-proxy.service")).unwrap();
    assert!(
        unit_file.contains(&format!("EnvironmentFile={}\n", env_path.display())),
        "{unit_file}"
    );
    assert_eq!(world.restarts(), 1);
    assert_eq!(world.kube_status().kind, StatusKind::Active);
}
