//! The deployed Python provider's exact writes (four keys, raw strings, PEMs with newlines, a
//! CN=`client` certificate), made as charm-helpers makes them, reach the bash requirer.

use std::fs;

use etcd_proxy::testing::TestPki;
use etcd_proxy::ClientCredentials;
use juju_hooks::{Databag, StatusKind, WorkloadStatus};

use crate::support::{assert_no_key_material, mode, World};

/// The order the etcd charm joins its peers in: not canonical.
const CLUSTER: &str = "etcd1=https://127.0.0.3:2380,etcd0=https://127.0.0.2:2380";

/// charm-helpers' `relation_set`: `relation-set --help` to see that `--file` is accepted,
/// then `relation-set -r RID --file PATH` with the settings dumped by `yaml.safe_dump`.
const PYTHON_PROVIDER_DISPATCH: &str = r#"#!/bin/sh
set -e
relation-set --help | grep -q -- --file
for rid in $(relation-ids proxy); do
    relation-set -r "$rid" --file "$JUJU_CHARM_DIR/settings.yaml"
done
"#;

/// What PyYAML's `safe_dump` writes for a flat mapping of strings: keys sorted, multi-line
/// values single-quoted with each line break doubled and continuation lines indented.
fn python_safe_dump(bag: &Databag) -> String {
    let mut out = String::new();
    for (key, value) in bag {
        if !value.contains('\n') {
            out.push_str(&format!("{key}: {value}\n"));
            continue;
        }
        let mut quoted = String::from("'");
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                quoted.push_str("\n\n  ");
            }
            quoted.push_str(&line.replace('\'', "''"));
        }
        quoted.push('\'');
        out.push_str(&format!("{key}: {quoted}\n"));
    }
    out
}

#[test]
fn the_python_providers_databag_makes_the_requirer_ready() {
    let world = World::new();
    let pki = TestPki::generate();
    let bag = pki.python_provider_databag(CLUSTER);
    assert_eq!(
        bag.keys().collect::<Vec<_>>(),
        ["client_ca", "client_cert", "client_key", "cluster"]
    );
    let credentials =
        ClientCredentials::from_pem(&bag["client_ca"], &bag["client_cert"], &bag["client_key"])
            .unwrap();
    assert_eq!(credentials.common_name(), Some("client"));

    let provider = world.charm(
        "python-provider",
        "name: etcd\nprovides:\n  proxy:\n    interface: etcd-proxy\n",
        PYTHON_PROVIDER_DISPATCH,
    );
    let yaml = python_safe_dump(&bag);
    assert!(
        yaml.starts_with("client_ca: '-----BEGIN CERTIFICATE-----\n\n  "),
        "{yaml}"
    );
    fs::write(provider.join("settings.yaml"), yaml).unwrap();
    let requirer = world.example_charm("bash-requirer");
    world.pin_juju_2_9(&requirer);
    world.emulator(&["deploy", provider.to_str().unwrap(), "etcd", "-n", "3"]);
    world.emulator(&["deploy", requirer.to_str().unwrap(), "kube"]);
    let creds = world.path("creds");
    world.emulator(&[
        "config",
        "kube",
        &format!("credentials-dir={}", creds.display()),
        &format!("unit-file={}", world.path("etcd-proxy.service").display()),
        "manage-service=false",
    ]);
    world.emulator(&["relate", "etcd:proxy", "kube:proxy"]);

    for unit in ["etcd/0", "etcd/1", "etcd/2"] {
        assert_eq!(
            world.wire_bag(0, unit),
            bag,
            "the emulator stored {unit}'s bag as sent"
        );
    }
    assert_eq!(
        world.flags("kube/0"),
        ["proxy.available", "proxy.connected", "proxy.tls.available"]
    );
    assert_eq!(
        world.status("kube/0"),
        WorkloadStatus::new(
            StatusKind::Active,
            // No etcd answers: the client endpoints are a guess, and the status says so.
            "proxy: etcd cluster of 2 member(s), TLS credentials ready; client endpoints \
             guessed (port 2379 on the peer hosts)"
        )
    );
    for (name, text, want) in [
        ("client-key.pem", &pki.client.key_pem, 0o600),
        ("client-cert.pem", &pki.client.cert_pem, 0o644),
        ("client-ca.pem", &pki.ca_pem, 0o644),
    ] {
        let path = creds.join(name);
        assert!(
            fs::read_to_string(&path).unwrap() == *text,
            "{}",
            path.display()
        );
        assert_eq!(mode(&path), want);
    }
    assert_no_key_material(&world.everything_printed(), &[&pki], true);
}
