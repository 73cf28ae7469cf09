//! Provider side: the live membership of a 3-member TLS cluster, and the failures an operator
//! must be able to tell apart.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use etcd_proxy::membership::{
    fetch_members, FetchErrorKind, MembershipSource, TlsFailure, DEFAULT_TIMEOUT,
};
use etcd_proxy::tls::ClientTls;
use etcd_proxy::EtcdUrl;

use crate::support::{free_port, CertFiles, PkiFiles};
use crate::support::{EtcdCluster, EtcdctlTls};

pub fn client_tls(pki: &PkiFiles, pair: &CertFiles) -> ClientTls {
    ClientTls::from_pem(&pki.ca_pem, &pair.cert_pem, &pair.key_pem).unwrap()
}

fn url(text: &str) -> EtcdUrl {
    text.parse().unwrap()
}

fn sorted(mut urls: Vec<String>) -> Vec<String> {
    urls.sort();
    urls
}

#[test]
fn live_membership_from_a_peer_url_and_from_a_client_url() {
    let bins = crate::require_etcd!();
    // Without the strict check, a learner can be added at once (else etcd wants all members
    // connected for 5 s first).
    let cluster = EtcdCluster::start_with(&bins, 3, &["--strict-reconfig-check=false"]);
    let tls = client_tls(cluster.pki(), &cluster.pki().client);

    let started = Instant::now();
    let from_peer = fetch_members(&url(&cluster.peer_urls()[1]), &tls, DEFAULT_TIMEOUT).unwrap();
    eprintln!("GET /members took {:?}", started.elapsed());
    assert_eq!(from_peer.source, MembershipSource::PeerMembers);
    assert_eq!(from_peer.members.len(), 3);
    assert!(from_peer.cluster_id.is_some());
    assert_eq!(
        from_peer.cluster_string().unwrap().to_string(),
        cluster.initial_cluster()
    );
    let client_urls: Vec<String> = from_peer
        .client_urls()
        .iter()
        .map(|u| u.to_string())
        .collect();
    assert_eq!(client_urls, sorted(cluster.client_urls()));

    let from_client =
        fetch_members(&url(&cluster.client_urls()[0]), &tls, DEFAULT_TIMEOUT).unwrap();
    assert_eq!(from_client.source, MembershipSource::JsonGateway);
    assert_eq!(from_client.cluster_id, from_peer.cluster_id);
    let mut a = from_peer.members.clone();
    let mut b = from_client.members.clone();
    a.sort_by_key(|m| m.id);
    b.sort_by_key(|m| m.id);
    assert_eq!(a, b);

    // An added, not yet started learner is listed but left out of both views.
    let learner_peer = format!("https://127.0.0.1:{}", free_port());
    let added = cluster.etcdctl(
        &cluster.client_urls().join(","),
        EtcdctlTls::Client(&cluster.pki().client),
        &[
            "member",
            "add",
            "learner",
            "--learner",
            &format!("--peer-urls={learner_peer}"),
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let with_learner = fetch_members(&url(&cluster.peer_urls()[2]), &tls, DEFAULT_TIMEOUT).unwrap();
    assert_eq!(with_learner.members.len(), 4);
    let learner = with_learner
        .members
        .iter()
        .find(|m| m.peer_urls == [url(&learner_peer)])
        .unwrap();
    assert!(learner.is_learner && learner.name.is_empty() && learner.client_urls.is_empty());
    assert_eq!(
        with_learner.cluster_string().unwrap(),
        from_peer.cluster_string().unwrap()
    );
    assert_eq!(with_learner.client_urls(), from_peer.client_urls());
}

#[test]
fn with_the_json_gateway_off_peer_urls_still_work_and_client_urls_say_why_not() {
    let bins = crate::require_etcd!();
    // As the charm's config-file-driven etcd 3.4 runs: no gRPC gateway.
    let cluster = EtcdCluster::start_with(&bins, 1, &["--enable-grpc-gateway=false"]);
    let tls = client_tls(cluster.pki(), &cluster.pki().client);
    let from_peer = fetch_members(&url(&cluster.peer_urls()[0]), &tls, DEFAULT_TIMEOUT).unwrap();
    assert_eq!(
        from_peer.cluster_string().unwrap().to_string(),
        cluster.initial_cluster()
    );
    let err = fetch_members(&url(&cluster.client_urls()[0]), &tls, DEFAULT_TIMEOUT).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::NotServed, "{err}");
    assert!(err.to_string().contains("give a peer URL"), "{err}");
}

#[test]
fn failures_are_told_apart_quickly() {
    let bins = crate::require_etcd!();
    let cluster = EtcdCluster::start(&bins, 3);
    let pki = cluster.pki();
    let peer = url(&cluster.peer_urls()[0]);
    let limit = Duration::from_secs(3);

    let timed = |what: &str, f: &dyn Fn() -> FetchErrorKind| {
        let started = Instant::now();
        let kind = f();
        let took = started.elapsed();
        eprintln!("{what}: {kind} ({took:?})");
        assert!(took < limit, "{what} took {took:?}");
        kind
    };

    let closed = url(&format!("https://127.0.0.1:{}", free_port()));
    let tls = client_tls(pki, &pki.client);
    let kind = timed("refused", &|| {
        fetch_members(&closed, &tls, limit).unwrap_err().kind
    });
    assert_eq!(kind, FetchErrorKind::Refused);

    let generated = &pki.generated;
    // Another CA, and one with the same name but another key: both are "not our CA".
    for (what, ca) in [
        ("wrong CA", &generated.other_ca_pem),
        ("impostor CA", &generated.impostor_ca_pem),
    ] {
        let wrong_ca = ClientTls::from_pem(ca, &pki.client.cert_pem, &pki.client.key_pem).unwrap();
        let kind = timed(what, &|| {
            fetch_members(&peer, &wrong_ca, limit).unwrap_err().kind
        });
        assert_eq!(kind, FetchErrorKind::Tls(TlsFailure::UnknownCa));
    }

    let anonymous = ClientTls::anonymous(&pki.ca_pem).unwrap();
    let kind = timed("no client cert", &|| {
        fetch_members(&peer, &anonymous, limit).unwrap_err().kind
    });
    assert!(
        matches!(
            kind,
            FetchErrorKind::Tls(TlsFailure::ClientCertificateRejected(_))
        ),
        "{kind:?}"
    );

    // Our CA trusts the server, but the server does not trust this client certificate.
    let foreign = ClientTls::from_pem(
        &pki.ca_pem,
        &generated.foreign_client.cert_pem,
        &generated.foreign_client.key_pem,
    )
    .unwrap();
    let kind = timed("untrusted client cert", &|| {
        fetch_members(&peer, &foreign, limit).unwrap_err().kind
    });
    assert!(
        matches!(
            kind,
            FetchErrorKind::Tls(TlsFailure::ClientCertificateRejected(_))
        ),
        "{kind:?}"
    );
    let error = fetch_members(&peer, &anonymous, limit)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("{peer}/members")) && !error.contains('\n'),
        "{error}"
    );
}

#[test]
fn a_silent_listener_times_out_within_the_bound() {
    // Accepts TCP (the kernel does, from the backlog) but never speaks TLS.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = url(&format!("https://{}", listener.local_addr().unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let pki = PkiFiles::generate(dir.path());
    let timeout = Duration::from_millis(400);
    let started = Instant::now();
    let err = fetch_members(&silent, &client_tls(&pki, &pki.client), timeout).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Timeout(timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
