//! Requirer side: client endpoints from a cluster string of peer URLs only, as the deployed
//! Python provider sends it.

use etcd_proxy::endpoints::{resolve_endpoints, EndpointSource, ResolveLimits};
use etcd_proxy::{ClusterString, EtcdUrl};

use crate::membership::client_tls;
use crate::support::EtcdCluster;

#[test]
fn peer_urls_only_resolve_through_members_even_with_a_member_down() {
    let bins = crate::require_etcd!();
    let mut cluster = EtcdCluster::start(&bins, 3);
    let tls = client_tls(cluster.pki(), &cluster.pki().client);
    let cluster_string: ClusterString = cluster.initial_cluster().parse().unwrap();
    let mut expected = cluster.client_urls();
    expected.sort();

    let resolved = resolve_endpoints(&cluster_string, None, &tls, ResolveLimits::default());
    let first_peer: EtcdUrl = cluster.peer_urls()[0].parse().unwrap();
    assert_eq!(
        resolved.source,
        EndpointSource::PeerMembers { from: first_peer }
    );
    let urls: Vec<String> = resolved.urls.iter().map(|u| u.to_string()).collect();
    assert_eq!(urls, expected);
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);

    // The first peer in canonical order is down: the next one answers, with a warning.
    cluster.stop_member(0);
    let resolved = resolve_endpoints(&cluster_string, None, &tls, ResolveLimits::default());
    let second_peer: EtcdUrl = cluster.peer_urls()[1].parse().unwrap();
    assert_eq!(
        resolved.source,
        EndpointSource::PeerMembers { from: second_peer }
    );
    assert_eq!(resolved.urls.len(), 3, "a stopped member is still a member");
    assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
    assert!(
        resolved.warnings[0].contains("refused"),
        "{:?}",
        resolved.warnings
    );

    // A cluster string spelling a peer differently from what etcd advertises (a DNS name
    // for 127.0.0.1): the answer is still used, with a warning.
    let by_name: ClusterString =
        format!("etcd1=https://localhost:{}", cluster.members()[1].peer_port)
            .parse()
            .unwrap();
    let resolved = resolve_endpoints(&by_name, None, &tls, ResolveLimits::default());
    assert!(
        matches!(resolved.source, EndpointSource::PeerMembers { .. }),
        "{resolved:?}"
    );
    assert_eq!(resolved.urls.len(), 3);
    assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
    assert!(
        resolved.warnings[0].contains("using it anyway"),
        "{:?}",
        resolved.warnings
    );
}
