//! The harness itself: a cluster starts with TLS on both listeners and client-cert auth.

use std::time::{Duration, Instant};

use crate::support::{EtcdCluster, EtcdctlTls};

#[test]
fn cluster_serves_put_get_over_tls_and_rejects_anonymous_clients() {
    let bins = crate::require_etcd!();
    let started = Instant::now();
    let mut cluster = EtcdCluster::start(&bins, 3);
    eprintln!("3-member cluster healthy after {:?}", started.elapsed());
    let all = cluster.client_urls().join(",");
    cluster.put_get(&all, EtcdctlTls::Client(&cluster.pki().client), "k", "v1");

    // Client-cert auth is on: without a client certificate the health check fails.
    let anonymous = cluster.https_agent(None, Duration::from_secs(2));
    let url = format!("{}/health", cluster.client_urls()[0]);
    assert!(
        anonymous.get(&url).call().is_err(),
        "{url} answered a client without a certificate"
    );

    cluster.stop_member(2);
    let live = cluster.client_urls()[..2].join(",");
    cluster.put_get(&live, EtcdctlTls::Client(&cluster.pki().client), "k", "v2");
}
