//! The whole relation life cycle with the example bash charms, the real binary in every hook:
//! relate → data in pieces → rotate → one provider unit departs → relation removed.

use std::fs;
use std::path::{Path, PathBuf};

use etcd_proxy::testing::TestPki;
use juju_hooks::{Databag, StatusKind, WorkloadStatus};

use crate::support::{assert_no_key_material, mode, write_tls_dir, World};

const CLUSTER: &str = "etcd1=https://127.0.0.3:2380,etcd0=https://127.0.0.2:2380";
const CANONICAL: &str = "etcd0=https://127.0.0.2:2380,etcd1=https://127.0.0.3:2380";
const REQUIRER: &str = "kube/0";
const SAVED: &str = "saved client credentials to";

/// The example provider (`etcd`, N units) and requirer (`kube`), related as relation 0.
struct Deployment {
    world: World,
    providers: Vec<String>,
    creds: PathBuf,
}

impl Deployment {
    /// The example charms, the requirer on Juju 2.9 (wire version 1, as the deployed
    /// Python requirers).
    fn new(provider_units: u32) -> Self {
        Self::deploy(provider_units, true)
    }

    /// Both example charms on the emulator's Juju 3.6: wire version 2.
    fn new_v2(provider_units: u32) -> Self {
        Self::deploy(provider_units, false)
    }

    fn deploy(provider_units: u32, v1: bool) -> Self {
        let world = World::new();
        let provider = world.example_charm("bash-provider");
        let requirer = world.example_charm("bash-requirer");
        if v1 {
            world.pin_juju_2_9(&requirer);
        }
        let n = provider_units.to_string();
        world.emulator(&["deploy", path(&provider), "etcd", "-n", &n]);
        world.emulator(&["deploy", path(&requirer), "kube"]);
        // Not created yet: the binary must create it (0755).
        let creds = world.path("etc/ssl/etcd");
        let setting = format!("credentials-dir={}", creds.display());
        let unit_file = format!("unit-file={}", world.path("etcd-proxy.service").display());
        // No systemd here: the unit is rendered, not started.
        world.emulator(&[
            "config",
            "kube",
            &setting,
            &unit_file,
            "manage-service=false",
        ]);
        let related = world.emulator(&["relate", "etcd:proxy", "kube:proxy"]);
        assert!(related.stdout.contains("as relation 0"), "{related}");
        let providers = (0..provider_units).map(|i| format!("etcd/{i}")).collect();
        let deployment = Self {
            world,
            providers,
            creds,
        };
        deployment.expect_requirer(
            &["proxy.connected"],
            StatusKind::Waiting,
            "waiting for etcd to publish on relation proxy",
        );
        if v1 {
            deployment.expect_published(&Databag::new());
        }
        deployment
    }

    fn config(&self, pair: &str) {
        self.world.emulator(&["config", "etcd", pair]);
    }

    fn tls(&self, name: &str, pki: &TestPki) -> String {
        let dir = write_tls_dir(&self.world.path(name), pki);
        format!("tls-dir={}", dir.display())
    }

    #[track_caller]
    fn expect_requirer(&self, flags: &[&str], kind: StatusKind, message: &str) {
        assert_eq!(self.world.flags(REQUIRER), flags, "requirer flags");
        assert_eq!(
            self.world.status(REQUIRER),
            WorkloadStatus::new(kind, message),
            "requirer status"
        );
        let state = self.world.state_file(REQUIRER);
        assert_eq!(mode(&state), 0o600, "{}", state.display());
    }

    /// Every remaining provider unit publishes exactly `wire` (beyond Juju's address keys).
    #[track_caller]
    fn expect_published(&self, wire: &Databag) {
        for unit in &self.providers {
            assert_eq!(&self.world.wire_bag(0, unit), wire, "databag of {unit}");
            assert_eq!(
                self.world.flags(unit),
                ["proxy.connected"],
                "flags of {unit}"
            );
            assert_eq!(mode(&self.world.state_file(unit)), 0o600);
        }
    }

    #[track_caller]
    fn expect_files(&self, pki: &TestPki) {
        let file = |name: &str| self.creds.join(name);
        assert_eq!(mode(&self.creds), 0o755, "credentials dir");
        for (name, content, want_mode) in [
            ("client-key.pem", &pki.client.key_pem, 0o600),
            ("client-cert.pem", &pki.client.cert_pem, 0o644),
            ("client-ca.pem", &pki.ca_pem, 0o644),
        ] {
            let path = file(name);
            assert!(
                fs::read_to_string(&path).unwrap() == *content,
                "{} does not hold the published PEM",
                path.display()
            );
            assert_eq!(mode(&path), want_mode, "{}", path.display());
        }
    }

    fn saves_logged(&self) -> usize {
        let logs = self.world.logs(REQUIRER);
        logs.iter().filter(|l| l.contains(SAVED)).count()
    }

    /// The flags the requirer printed at the end of each of its hooks since hook `from`.
    fn requirer_hook_flags(&self, from: usize) -> Vec<String> {
        self.world.hooks()[from..]
            .iter()
            .filter(|r| r.invocation.unit.to_string() == REQUIRER)
            .map(|r| r.stdout.trim().to_owned())
            .collect()
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const ALL_FLAGS: [&str; 3] = ["proxy.available", "proxy.connected", "proxy.tls.available"];
/// No etcd answers in these tests, and the provider sends no client_urls: a guess.
const READY: &str = "proxy: etcd cluster of 2 member(s), TLS credentials ready; client \
                     endpoints guessed (port 2379 on the peer hosts)";

#[test]
fn cluster_first_then_credentials_then_rotation_departure_and_removal() {
    let d = Deployment::new(3);
    let pki = TestPki::generate();

    // The cluster alone: usable, but an https cluster needs credentials.
    d.config(&format!("cluster={CLUSTER}"));
    d.expect_published(&[("cluster".to_owned(), CANONICAL.to_owned())].into());
    d.expect_requirer(
        &["proxy.available", "proxy.connected"],
        StatusKind::Waiting,
        "proxy: waiting for etcd client credentials",
    );
    assert!(!d.creds.exists(), "no credentials yet, no directory");

    // Then the credentials: exactly the Python provider's four keys, raw PEM strings.
    let tls1 = d.tls("tls1", &pki);
    d.config(&tls1);
    d.expect_published(&pki.python_provider_databag(CANONICAL));
    for unit in &d.providers {
        let bag = d.world.bag(0, unit);
        assert!(bag["client_key"].starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(bag["client_cert"].ends_with("-----END CERTIFICATE-----\n"));
    }
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    d.expect_files(&pki);
    assert_eq!(d.saves_logged(), 1, "{:?}", d.world.logs(REQUIRER));

    // Rotation: the provider units switch one by one; the files change once, and the
    // availability flags never drop in between.
    let pki2 = TestPki::generate();
    let hooks_before = d.world.hooks().len();
    let tls2 = d.tls("tls2", &pki2);
    d.config(&tls2);
    d.expect_published(&pki2.python_provider_databag(CANONICAL));
    let printed = d.requirer_hook_flags(hooks_before);
    assert_eq!(
        printed.len(),
        3,
        "one -changed per provider unit: {printed:?}"
    );
    for line in &printed {
        assert!(
            line.ends_with(&serde_json::to_string(&ALL_FLAGS).unwrap()),
            "{printed:?}"
        );
    }
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    d.expect_files(&pki2);
    assert_eq!(d.saves_logged(), 2, "{:?}", d.world.logs(REQUIRER));

    // `emulator status` shows the same to a person.
    let status = d.world.emulator(&["status"]).stdout;
    let line = status.lines().find(|l| l.starts_with("kube/0*")).unwrap();
    assert!(line.contains("active") && line.contains(READY), "{status}");

    // One provider unit of three departs: nothing is cleared.
    d.world.emulator(&["remove-unit", "etcd/2"]);
    let d = Deployment {
        providers: vec!["etcd/0".into(), "etcd/1".into()],
        ..d
    };
    assert!(d
        .world
        .model()
        .unit(&crate::support::unit("etcd/2"))
        .is_none());
    d.expect_published(&pki2.python_provider_databag(CANONICAL));
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    d.expect_files(&pki2);
    assert_eq!(d.saves_logged(), 2);

    // The relation goes: every flag is cleared on both sides.
    d.world.emulator(&["unrelate", "0"]);
    d.expect_requirer(
        &[],
        StatusKind::Waiting,
        "waiting for a relation to etcd on endpoint proxy",
    );
    for unit in &d.providers {
        assert_eq!(d.world.flags(unit), Vec::<String>::new(), "{unit}");
    }
    assert!(d.world.model().relations.is_empty());

    assert_no_key_material(&d.world.everything_printed(), &[&pki, &pki2], true);
}

#[test]
fn credentials_first_then_cluster() {
    let d = Deployment::new(2);
    let pki = TestPki::generate();

    let tls = d.tls("tls", &pki);
    d.config(&tls);
    let mut credentials_only = pki.python_provider_databag(CANONICAL);
    credentials_only.remove("cluster");
    d.expect_published(&credentials_only);
    d.expect_requirer(
        &["proxy.connected", "proxy.tls.available"],
        StatusKind::Waiting,
        "proxy: waiting for the etcd cluster string",
    );
    d.expect_files(&pki);
    assert_eq!(d.saves_logged(), 1);

    d.config(&format!("cluster={CLUSTER}"));
    d.expect_published(&pki.python_provider_databag(CANONICAL));
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    d.expect_files(&pki);
    assert_eq!(d.saves_logged(), 1, "the credentials did not change");

    d.world.emulator(&["unrelate", "0"]);
    d.expect_requirer(
        &[],
        StatusKind::Waiting,
        "waiting for a relation to etcd on endpoint proxy",
    );

    assert_no_key_material(&d.world.everything_printed(), &[&pki], true);
}

/// While the client endpoints are a guess, `requires sync` keeps saying so: the status does
/// not flip between two messages (and two `status-set` calls) in every hook.
#[test]
fn a_guessed_status_is_set_once_not_in_every_hook() {
    let d = Deployment::new(1);
    let pki = TestPki::generate();
    d.config(&format!("cluster={CLUSTER}"));
    let tls = d.tls("tls", &pki);
    d.config(&tls);
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    let before = d.world.calls().len();
    d.world.emulator(&["run", REQUIRER, "update-status"]);
    d.world
        .emulator(&["run", REQUIRER, "leader-settings-changed"]);
    let calls = d.world.calls();
    let sets: Vec<&Vec<String>> = calls[before..]
        .iter()
        .filter(|c| c.tool == "status-set")
        .map(|c| &c.argv)
        .collect();
    assert!(sets.is_empty(), "{sets:?}");
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
}

/// Wire version 2 through the real binary and the emulator's secret tools: the example
/// charms negotiate it, the credentials travel only in a secret, and a rotation reaches the
/// requirer's files through `secret-changed` alone.
#[test]
fn on_juju_3_the_example_charms_keep_every_key_out_of_the_databags() {
    let d = Deployment::new_v2(2);
    let pki = TestPki::generate();
    d.config(&format!("cluster={CLUSTER}"));
    let tls = d.tls("tls", &pki);
    d.config(&tls);
    let model = d.world.model();
    let relation = &model.relations[&0];
    assert_eq!(
        relation.app_bags[&"kube".parse().unwrap()]["wire_version"],
        "2"
    );
    let published = &relation.app_bags[&"etcd".parse().unwrap()];
    assert_eq!(published["cluster"], CANONICAL);
    assert!(published["client_credentials_secret"].starts_with("secret:"));
    for (owner, bag) in relation
        .unit_bags
        .iter()
        .map(|(u, b)| (u.to_string(), b))
        .chain(relation.app_bags.iter().map(|(a, b)| (a.to_string(), b)))
    {
        for key in ["client_ca", "client_cert", "client_key", "cluster"] {
            assert!(
                !bag.contains_key(key) || (owner == "etcd" && key == "cluster"),
                "{owner} holds {key}"
            );
        }
    }
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    d.expect_files(&pki);
    assert_eq!(d.saves_logged(), 1);

    // Rotation: one new revision; the requirer's secret-changed rewrites the files once.
    let pki2 = TestPki::generate();
    let hooks_before = d.world.hooks().len();
    let tls2 = d.tls("tls2", &pki2);
    d.config(&tls2);
    d.expect_files(&pki2);
    assert_eq!(d.saves_logged(), 2, "{:?}", d.world.logs(REQUIRER));
    let requirer_hooks: Vec<String> = d.world.hooks()[hooks_before..]
        .iter()
        .filter(|r| r.invocation.unit.to_string() == REQUIRER)
        .map(|r| r.invocation.hook.clone())
        .collect();
    assert_eq!(requirer_hooks, ["secret-changed"]);
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);
    assert_no_key_material(&d.world.everything_printed(), &[&pki, &pki2], true);
}

/// Two rotations through the real binary: after each, the requirer's `secret-changed`
/// refreshes to the new revision, Juju (here the emulator) fires `secret-remove` on the
/// provider's leader for the revision nobody tracks (juju/juju 3.6
/// `worker/uniter/runner/jujuc/secret-remove.go`, `--revision`), and the example provider's
/// `provides publish` removes it: `emulator show` lists only the latest revision.
#[test]
fn rotating_twice_leaves_only_the_latest_revision_of_the_secret() {
    let d = Deployment::new_v2(2);
    d.config(&format!("cluster={CLUSTER}"));
    let tls = d.tls("tls", &TestPki::generate());
    d.config(&tls);
    let hooks_before = d.world.hooks().len();
    let (pki2, pki3) = (TestPki::generate(), TestPki::generate());
    for (name, pki) in [("tls2", &pki2), ("tls3", &pki3)] {
        let tls = d.tls(name, pki);
        d.config(&tls);
    }
    d.expect_files(&pki3);
    d.expect_requirer(&ALL_FLAGS, StatusKind::Active, READY);

    let shown: serde_json::Value =
        serde_json::from_str(&d.world.emulator(&["show"]).stdout).unwrap();
    let secrets = shown["secrets"].as_object().unwrap();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let (_, record) = secrets.iter().next().unwrap();
    assert_eq!(record["latest"], 3);
    let revisions: Vec<&String> = record["revisions"].as_object().unwrap().keys().collect();
    assert_eq!(revisions, ["3"], "revisions 1 and 2 removed");

    let removals: Vec<(String, String)> = d.world.hooks()[hooks_before..]
        .iter()
        .filter(|r| r.invocation.hook == "secret-remove")
        .map(|r| (r.invocation.unit.to_string(), r.stdout.clone()))
        .collect();
    assert_eq!(removals.len(), 2, "{removals:?}");
    assert!(
        removals.iter().all(|(unit, _)| unit == "etcd/0"),
        "{removals:?}"
    );
    let removed: Vec<String> = d
        .world
        .calls()
        .iter()
        .filter(|c| c.tool == "secret-remove")
        .map(|c| c.argv.join(" "))
        .collect();
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(
        removed[0].ends_with("--revision 1") && removed[1].ends_with("--revision 2"),
        "{removed:?}"
    );
}
