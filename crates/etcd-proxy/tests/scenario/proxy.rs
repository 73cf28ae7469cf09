//! `LocalProxy::ensure` on top of a requirer hook: files, unit, restart only on change.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use etcd_proxy::endpoints::{EndpointSource, ResolveLimits};
use etcd_proxy::proxy::{ProxyMode, RecordingServiceManager, ServiceCall};
use etcd_proxy::testing::TestPki;
use etcd_proxy::{
    ClientCredentials, CredentialPaths, InterfaceError, LocalProxy, ProxyOutcome, ProxyPlan,
    Publication, Requirer,
};
use juju_hooks::testing::HookInvocation;
use juju_hooks::FlagStore;

use crate::support::{creds, unit, World};

const CLUSTER: &str = "etcd0=https://127.0.0.1:2380";
const CLIENT_URLS: &str = "https://127.0.0.1:2379";

fn plan(dir: &Path, mode: ProxyMode) -> ProxyPlan {
    ProxyPlan {
        mode,
        listen: "127.0.0.1:23790".parse().unwrap(),
        unit_file: dir.join("etcd-proxy.service"),
        env_file: Some(dir.join("etcd-proxy.env")),
        template: None,
        owner: Default::default(),
        credentials: CredentialPaths::in_dir(&dir.join("ssl")),
        etcd_bin: None,
        data_dir: Some(dir.join("data")),
        etcd_version: None,
        limits: ResolveLimits::default(),
    }
}

fn publish(world: &mut World, credentials: ClientCredentials) {
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(CLUSTER.parse().unwrap()),
            credentials: Some(credentials),
            client_urls: Some(etcd_proxy::wire::parse_client_urls(CLIENT_URLS).unwrap()),
        },
    );
}

/// kube/0 related to etcd/0, which publishes the test cluster with `credentials`.
fn related_world(credentials: ClientCredentials) -> World {
    let mut world = World::new(&[("etcd", 1)]);
    publish(&mut world, credentials);
    world.relate("etcd");
    world
}

/// Runs an update-status hook on kube/0 that syncs and ensures the proxy.
fn ensure(
    world: &mut World,
    plan: &ProxyPlan,
    services: &mut RecordingServiceManager,
) -> Result<ProxyOutcome, InterfaceError> {
    ensure_in(world, "update-status", plan, services).0
}

/// Runs hook `hook` on kube/0 that syncs and ensures the proxy; also returns its tool calls.
fn ensure_in(
    world: &mut World,
    hook: &str,
    plan: &ProxyPlan,
    services: &mut RecordingServiceManager,
) -> (Result<ProxyOutcome, InterfaceError>, Vec<String>) {
    let hook = HookInvocation::new(unit("kube/0"), hook);
    let mut store = world.stores.remove(&unit("kube/0")).unwrap_or_default();
    let mut outcome = None;
    let run = juju_hooks::testing::run(&world.model, &hook, &world.charm_dir, |ctx, tools| {
        let mut state = store.load()?;
        let report = Requirer::new("proxy".parse().unwrap()).sync(ctx, tools, &mut state)?;
        let proxy = LocalProxy::new("proxy".parse().unwrap());
        outcome = Some(proxy.ensure(ctx, tools, &report, plan, Some(services), &mut state));
        store.save(&state)?;
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    world.stores.insert(unit("kube/0"), store);
    world.model = run.model;
    let calls = run.calls.iter().map(|c| c.command_line()).collect();
    (outcome.unwrap(), calls)
}

#[test]
fn gateway_is_installed_once_and_restarted_only_on_change() {
    let pki = TestPki::generate();
    let mut world = related_world(creds(&pki));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::Gateway);
    let mut services = RecordingServiceManager::default();

    let first = ensure(&mut world, &plan, &mut services).unwrap();
    assert!(first.credentials_changed && first.unit_changed && first.restarted);
    let unit_text = std::fs::read_to_string(&plan.unit_file).unwrap();
    assert!(
        unit_text.contains("--endpoints=127.0.0.1:2379"),
        "endpoints from client_urls, no network: {unit_text}"
    );
    let restarts = |s: &RecordingServiceManager| {
        s.calls
            .iter()
            .filter(|c| matches!(c, ServiceCall::Restart(_)))
            .count()
    };
    assert_eq!(restarts(&services), 1);

    let again = ensure(&mut world, &plan, &mut services).unwrap();
    assert!(!again.credentials_changed && !again.unit_changed && !again.restarted);
    assert_eq!(restarts(&services), 1, "nothing changed, no restart");

    // Rotation: the files change once; the gateway passes TLS through and does not use
    // them, so it is not restarted (issue 10: only grpc-proxy and v2-proxy are).
    let rotated = TestPki::generate();
    publish(&mut world, creds(&rotated));
    let next = world.run(HookInvocation::new(unit("etcd/0"), "config-changed"));
    world.settle(next);
    let rotation = ensure(&mut world, &plan, &mut services).unwrap();
    assert!(rotation.credentials_changed && !rotation.restarted);
    assert_eq!(restarts(&services), 1);
    let key = std::fs::read_to_string(&plan.credentials.key).unwrap();
    assert_eq!(key, rotated.client.key_pem);
}

#[test]
fn grpc_proxy_with_a_cn_certificate_is_refused_and_writes_nothing() {
    let pki = TestPki::generate();
    let mut world = related_world(creds(&pki));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::GrpcProxy);
    let mut services = RecordingServiceManager::default();
    let err = ensure(&mut world, &plan, &mut services).unwrap_err();
    assert!(err.to_string().contains("common name"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(services.calls.is_empty());
}

#[test]
fn grpc_proxy_with_a_cnless_certificate_renders() {
    let pki = TestPki::generate();
    let cnless = ClientCredentials::from_pem(
        pki.ca_pem.clone(),
        pki.cnless_client.cert_pem.clone(),
        pki.cnless_client.key_pem.clone(),
    )
    .unwrap();
    let mut world = related_world(cnless);
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::GrpcProxy);
    let mut services = RecordingServiceManager::default();
    let outcome = ensure(&mut world, &plan, &mut services).unwrap();
    assert_eq!(outcome.rendered.exec_start[1], "grpc-proxy");
}

#[test]
fn nothing_is_written_while_the_data_is_not_available() {
    let mut world = World::new(&[("etcd", 1)]);
    world.relate("etcd");
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::Gateway);
    let mut services = RecordingServiceManager::default();
    let err = ensure(&mut world, &plan, &mut services).unwrap_err();
    assert!(matches!(err, InterfaceError::NotAvailable(_)), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A service manager whose restarts fail.
struct BrokenSystemd;

impl etcd_proxy::proxy::ServiceManager for BrokenSystemd {
    fn daemon_reload(&mut self) -> Result<(), etcd_proxy::proxy::ServiceError> {
        Ok(())
    }
    fn enable(&mut self, _unit: &str) -> Result<(), etcd_proxy::proxy::ServiceError> {
        Ok(())
    }
    fn restart(&mut self, unit: &str) -> Result<(), etcd_proxy::proxy::ServiceError> {
        Err(etcd_proxy::proxy::ServiceError::Failed {
            command: format!("systemctl restart {unit}"),
            status: "exit status: 1".into(),
            stderr: "injected".into(),
        })
    }
}

#[test]
fn a_failed_restart_is_retried_although_the_files_are_already_written() {
    let pki = TestPki::generate();
    let mut world = related_world(creds(&pki));
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::Gateway);

    // The hook writes the files, then the restart fails: the hook fails, its state is lost.
    let hook = HookInvocation::new(unit("kube/0"), "update-status");
    let mut store = world.stores.remove(&unit("kube/0")).unwrap();
    let failed = juju_hooks::testing::run(&world.model, &hook, &world.charm_dir, |ctx, tools| {
        let mut state = store.load()?;
        let report = Requirer::new("proxy".parse().unwrap()).sync(ctx, tools, &mut state)?;
        LocalProxy::new("proxy".parse().unwrap()).ensure(
            ctx,
            tools,
            &report,
            &plan,
            Some(&mut BrokenSystemd),
            &mut state,
        )?;
        store.save(&state)?;
        Ok::<(), InterfaceError>(())
    })
    .unwrap();
    assert!(failed.result.is_err());
    world.stores.insert(unit("kube/0"), store);
    assert!(
        plan.unit_file.exists(),
        "the files were written before the restart"
    );

    // The retried hook finds the files current and still restarts.
    let mut services = RecordingServiceManager::default();
    let retry = ensure(&mut world, &plan, &mut services).unwrap();
    assert!(!retry.unit_changed && !retry.credentials_changed);
    assert!(retry.restarted, "the failed restart is made again");
    let again = ensure(&mut world, &plan, &mut services).unwrap();
    assert!(!again.restarted);
}

/// A peer that answers every request with a 200 KB `/members` answer, counting requests.
fn hostile_peer() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body = format!(r#"[{{"id":"{}"}}]"#, "A".repeat(200_000));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, asked)
}

#[test]
fn a_hostile_members_answer_is_a_short_warning_and_a_remembered_guess() {
    let (port, asked) = hostile_peer();
    let pki = TestPki::generate();
    let mut world = World::new(&[("etcd", 1)]);
    world.publish.insert(
        unit("etcd/0"),
        Publication {
            cluster: Some(format!("etcd0=http://127.0.0.1:{port}").parse().unwrap()),
            credentials: Some(creds(&pki)),
            client_urls: None,
        },
    );
    world.relate("etcd");
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), ProxyMode::Gateway);
    let mut services = RecordingServiceManager::default();

    let (first, calls) = ensure_in(&mut world, "update-status", &plan, &mut services);
    let first = first.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(first.endpoints.source, EndpointSource::Guessed);
    assert!(first.restarted);
    let logs: Vec<&String> = calls.iter().filter(|c| c.starts_with("juju-log")).collect();
    assert!(
        logs.iter().any(|c| c.contains("not a member list")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|c| c.contains("guessing port 2379")),
        "{logs:?}"
    );
    assert!(logs.iter().all(|c| c.len() < 1000), "{logs:?}");
    let status = calls.iter().rfind(|c| c.starts_with("status-set"));
    assert!(
        status.is_some_and(|c| c.contains("client endpoints guessed")),
        "{calls:?}"
    );

    // Another hook: the guess is remembered, nobody is asked, nothing restarts.
    let (second, calls) = ensure_in(&mut world, "leader-settings-changed", &plan, &mut services);
    let second = second.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1, "{calls:?}");
    assert_eq!(second.endpoints.source, EndpointSource::Guessed);
    assert!(!second.restarted && !second.unit_changed);
    assert!(
        !calls.iter().any(|c| c.starts_with("juju-log")),
        "{calls:?}"
    );

    // update-status asks again while it is a guess; the same guess restarts nothing.
    let (third, _) = ensure_in(&mut world, "update-status", &plan, &mut services);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    assert!(!third.unwrap().restarted);
}
