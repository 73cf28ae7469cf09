//! Wire version 2 against real etcd: the requirer gets its credentials through a Juju secret
//! (in-memory model, Juju 3.6 rules), renders the proxy and clients put/get through it; the
//! provider rotates key and certificate (a new client certificate from the test CA) and
//! clients with the new files put/get again. Restarts as issue 10 says: none for the gateway
//! (it passes TLS through), one for grpc-proxy.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;

use etcd_proxy::endpoints::ResolveLimits;
use etcd_proxy::proxy::{ProxyMode, RecordingServiceManager, ServiceCall};
use etcd_proxy::testing::{CertSpec, IssuedCert};
use etcd_proxy::{
    ClientCredentials, CredentialPaths, LocalProxy, Provider, ProxyOutcome, ProxyPlan, Publication,
    Requirer,
};
use juju_hooks::testing::{EndpointRole, HookInvocation, Model, RelationEnd};
use juju_hooks::{FlagStore, MemoryFlagStore, UnitName};

use crate::support::{free_port, start_proxy, CertFiles, EtcdCluster, EtcdctlTls};

struct Charms {
    model: Model,
    stores: BTreeMap<UnitName, MemoryFlagStore>,
    publication: Publication,
    hooks: u64,
}

impl Charms {
    /// etcd/0 (provider) and kube/0 (requirer), both on Juju 3.6, related and settled.
    fn related(publication: Publication) -> Self {
        let mut model = Model::new("etcd-wire2");
        let endpoint = || "proxy".parse().unwrap();
        for (app, role) in [
            ("etcd", EndpointRole::Provides),
            ("kube", EndpointRole::Requires),
        ] {
            let endpoints = BTreeMap::from([(endpoint(), (role, "etcd-proxy".to_owned()))]);
            model.deploy(&app.parse().unwrap(), endpoints, 1).unwrap();
        }
        let (_, hooks) = model
            .relate(
                &RelationEnd::new("etcd".parse().unwrap(), endpoint()),
                &RelationEnd::new("kube".parse().unwrap(), endpoint()),
            )
            .unwrap();
        let mut charms = Self {
            model,
            stores: BTreeMap::new(),
            publication,
            hooks: 0,
        };
        charms.settle(hooks);
        charms
    }

    /// Runs hooks and what they trigger; the requirer's hooks also ensure the proxy when
    /// `proxy` is given, and report what the last ensure did.
    fn settle(&mut self, hooks: Vec<HookInvocation>) {
        self.settle_with(hooks, None);
    }

    fn settle_with(
        &mut self,
        hooks: Vec<HookInvocation>,
        mut proxy: Option<(
            &ProxyPlan,
            &mut RecordingServiceManager,
            &mut Vec<ProxyOutcome>,
        )>,
    ) {
        let mut queue = VecDeque::from(hooks);
        while let Some(hook) = queue.pop_front() {
            let who = hook.unit.clone();
            let mut store = self.stores.remove(&who).unwrap_or_default();
            self.hooks += 1;
            let id = format!("{who}-{}", self.hooks);
            let publication = self.publication.clone();
            let proxy = proxy.as_mut();
            let outcome =
                juju_hooks::testing::run(&self.model, &hook, "/charm".as_ref(), |ctx, tools| {
                    let mut ctx = ctx.clone();
                    ctx.context_id = Some(id.clone());
                    ctx.juju_version = Some("3.6.1".to_owned());
                    let mut state = store.load()?;
                    if who.app().as_str() == "etcd" {
                        Provider::new("proxy".parse()?).publish(
                            &ctx,
                            tools,
                            &mut state,
                            &publication,
                        )?;
                    } else {
                        let report =
                            Requirer::new("proxy".parse()?).sync(&ctx, tools, &mut state)?;
                        if let (Some((plan, services, outcomes)), Some(_)) =
                            (proxy, report.credentials())
                        {
                            let local = LocalProxy::new("proxy".parse()?);
                            outcomes.push(local.ensure(
                                &ctx,
                                tools,
                                &report,
                                plan,
                                Some(&mut **services),
                                &mut state,
                            )?);
                        }
                    }
                    store.save(&state)?;
                    Ok::<(), Box<dyn std::error::Error>>(())
                })
                .unwrap();
            assert!(outcome.result.is_ok(), "{hook:?}: {:?}", outcome.result);
            self.stores.insert(who, store);
            self.model = outcome.model;
            queue.extend(outcome.next);
        }
    }
}

fn publication(cluster: &EtcdCluster, cert: &IssuedCert) -> Publication {
    let pki = cluster.pki();
    Publication {
        cluster: Some(cluster.initial_cluster().parse().unwrap()),
        credentials: Some(
            ClientCredentials::from_pem(
                pki.ca_pem.clone(),
                cert.cert_pem.clone(),
                cert.key_pem.clone(),
            )
            .unwrap(),
        ),
        client_urls: Some(
            cluster
                .client_urls()
                .iter()
                .map(|u| u.parse().unwrap())
                .collect(),
        ),
    }
}

fn plan(dir: &Path, mode: ProxyMode, etcd: &Path, listen: SocketAddr) -> ProxyPlan {
    ProxyPlan {
        mode,
        listen,
        unit_file: dir.join("etcd-proxy.service"),
        env_file: Some(dir.join("etcd-proxy.env")),
        template: None,
        owner: Default::default(),
        credentials: CredentialPaths::in_dir(&dir.join("ssl")),
        etcd_bin: Some(etcd.to_path_buf()),
        data_dir: Some(dir.join("data")),
        etcd_version: None,
        limits: ResolveLimits::default(),
    }
}

/// The saved files, as a client of the proxy uses them.
fn saved(plan: &ProxyPlan) -> CertFiles {
    CertFiles {
        cert_pem: std::fs::read_to_string(&plan.credentials.cert).unwrap(),
        key_pem: std::fs::read_to_string(&plan.credentials.key).unwrap(),
        cert_path: plan.credentials.cert.clone(),
        key_path: plan.credentials.key.clone(),
    }
}

fn restarts(services: &RecordingServiceManager) -> usize {
    services
        .calls
        .iter()
        .filter(|c| matches!(c, ServiceCall::Restart(_)))
        .count()
}

/// Rotates to `next` and runs the hooks it causes; returns what the requirer's ensures did.
fn rotate(
    charms: &mut Charms,
    cluster: &EtcdCluster,
    next: &IssuedCert,
    plan: &ProxyPlan,
    services: &mut RecordingServiceManager,
) -> Vec<ProxyOutcome> {
    charms.publication = publication(cluster, next);
    let mut outcomes = Vec::new();
    let hook = HookInvocation::new("etcd/0".parse().unwrap(), "config-changed");
    charms.settle_with(vec![hook], Some((plan, services, &mut outcomes)));
    outcomes
}

fn first_ensure(
    charms: &mut Charms,
    plan: &ProxyPlan,
    services: &mut RecordingServiceManager,
) -> ProxyOutcome {
    let mut outcomes = Vec::new();
    let hook = HookInvocation::new("kube/0".parse().unwrap(), "update-status");
    charms.settle_with(vec![hook], Some((plan, services, &mut outcomes)));
    outcomes.pop().expect("the requirer ensured the proxy")
}

#[test]
fn a_version_2_requirer_runs_the_gateway_on_credentials_from_a_secret_and_survives_rotation() {
    let bins = crate::require_etcd!();
    let cluster = EtcdCluster::start(&bins, 3);
    let pki = &cluster.pki().generated;
    let first = pki.issue(&CertSpec::client("client"));
    let mut charms = Charms::related(publication(&cluster, &first));
    // Version 2 negotiated: the credentials are in a secret, in no databag.
    assert_eq!(charms.model.secrets.len(), 1);
    for bag in charms
        .model
        .relations
        .values()
        .flat_map(|r| r.unit_bags.values().chain(r.app_bags.values()))
    {
        assert!(!bag.contains_key("client_key"), "{:?}", bag.keys());
    }

    let dir = cluster.scratch_dir().join("wire2-gateway");
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let plan = plan(&dir, ProxyMode::Gateway, &bins.etcd, listen);
    let mut services = RecordingServiceManager::default();
    let outcome = first_ensure(&mut charms, &plan, &mut services);
    assert!(outcome.credentials_changed && outcome.restarted);
    let log = cluster.scratch_dir().join("wire2-gateway.log");
    let _gateway = start_proxy(&outcome.rendered, listen, &log).unwrap();
    let endpoint = format!("https://{listen}");
    cluster.put_get(&endpoint, EtcdctlTls::Client(&saved(&plan)), "v2", "one");

    // Rotation: key and certificate together, in one new secret revision.
    let second = pki.issue(&CertSpec::client("client"));
    let outcomes = rotate(&mut charms, &cluster, &second, &plan, &mut services);
    assert_eq!(outcomes.len(), 1, "one requirer hook: secret-changed");
    assert!(outcomes[0].credentials_changed && !outcomes[0].restarted);
    assert_eq!(
        restarts(&services),
        1,
        "the gateway passes TLS through: no restart"
    );
    let files = saved(&plan);
    assert_eq!(files.key_pem, second.key_pem);
    cluster.put_get(&endpoint, EtcdctlTls::Client(&files), "v2", "two");
}

#[test]
fn a_version_2_grpc_proxy_restarts_once_for_rotated_credentials() {
    let bins = crate::require_etcd!();
    let cluster = EtcdCluster::start(&bins, 3);
    let pki = &cluster.pki().generated;
    // grpc-proxy presents the certificate to etcd: no common name (etcd would take it as
    // the user).
    let first = pki.issue(&CertSpec::default());
    let mut charms = Charms::related(publication(&cluster, &first));
    let dir = cluster.scratch_dir().join("wire2-grpc");
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let plan = plan(&dir, ProxyMode::GrpcProxy, &bins.etcd, listen);
    let mut services = RecordingServiceManager::default();
    let outcome = first_ensure(&mut charms, &plan, &mut services);
    let log = cluster.scratch_dir().join("wire2-grpc.log");
    let mut proxy = start_proxy(&outcome.rendered, listen, &log).unwrap();
    cluster.put_get(&listen.to_string(), EtcdctlTls::Plain, "v2g", "one");

    let second = pki.issue(&CertSpec::default());
    let outcomes = rotate(&mut charms, &cluster, &second, &plan, &mut services);
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].credentials_changed && outcomes[0].restarted);
    assert_eq!(restarts(&services), 2, "{:?}", services.calls);
    proxy.stop(); // what `systemctl restart` does
    let _proxy = start_proxy(&outcomes[0].rendered, listen, &log).unwrap();
    assert_eq!(saved(&plan).cert_pem, second.cert_pem);
    cluster.put_get(&listen.to_string(), EtcdctlTls::Plain, "v2g", "two");
}
