//! The whole requirer story against a live cluster, for each proxy mode the certificate
//! allows: provider reads the membership → requirer resolves client endpoints from peer URLs
//! only → renders and installs the unit → the test starts the proxy from the rendered
//! `ExecStart` argv (not through systemd) → put/get through it → one member dies → put/get
//! still works.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use etcd_proxy::endpoints::{resolve_endpoints, EndpointSource, ResolveLimits};
use etcd_proxy::membership::{fetch_members, DEFAULT_TIMEOUT};
use etcd_proxy::proxy::{
    install, render, restart_if_changed, CredentialPaths, ProxyMode, ProxySpec,
    RecordingServiceManager, RenderError, RenderedProxy, ServiceCall,
};

use etcd_proxy::testing::CertSpec;
use etcd_proxy::tls::ClientTls;
use etcd_proxy::ClientCredentials;
use etcd_proxy::{save_client_credentials, Ownership};

use crate::support::{free_port, wait_for, CertFiles, Daemon, PROXY_READY_LIMIT};
use crate::support::{EtcdCluster, EtcdctlTls};

/// Provider publishes from the live cluster; requirer resolves, renders and installs.
fn render_for(
    cluster: &EtcdCluster,
    mode: ProxyMode,
    pair: &CertFiles,
) -> (RenderedProxy, SocketAddr) {
    // The relation's credentials, validated as the requirer validates them.
    let creds = ClientCredentials::from_pem(
        cluster.pki().ca_pem.clone(),
        pair.cert_pem.clone(),
        pair.key_pem.clone(),
    )
    .unwrap();
    let tls = ClientTls::from_credentials(&creds).unwrap();
    // Provider: the cluster string from its own peer URL.
    let own_peer = cluster.peer_urls()[0].parse().unwrap();
    let membership = fetch_members(&own_peer, &tls, DEFAULT_TIMEOUT).unwrap();
    let cluster_string = membership.cluster_string().unwrap();
    // Requirer: as from a deployed Python provider, which sends no client_urls.
    let resolved = resolve_endpoints(&cluster_string, None, &tls, ResolveLimits::default());
    assert!(
        matches!(resolved.source, EndpointSource::PeerMembers { .. }),
        "{resolved:?}"
    );

    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let pki = cluster.pki();
    let credentials = CredentialPaths {
        ca: pki.ca_path.clone(),
        cert: pair.cert_path.clone(),
        key: pair.key_path.clone(),
    };
    let mut spec = ProxySpec::new(
        mode,
        resolved.urls,
        cluster_string,
        credentials,
        creds.has_common_name(),
    );
    spec.listen = listen;
    spec.etcd_bin = cluster.bins().etcd.clone();
    spec.etcd_version = Some(cluster.bins().version());
    let scratch = cluster.scratch_dir().join(mode.as_str());
    spec.data_dir = scratch.join("data");
    spec.env_file = Some(scratch.join("etcd-proxy.env"));
    let rendered = render(&spec).unwrap();

    let unit_path = scratch.join("etcd-proxy.service");
    let mut manager = RecordingServiceManager::default();
    let changed = install(&rendered, &unit_path).unwrap();
    assert!(restart_if_changed(changed, &unit_path, &mut manager).unwrap());
    // Rendering the same again changes nothing and restarts nothing.
    let again = install(&render(&spec).unwrap(), &unit_path).unwrap();
    assert!(!restart_if_changed(again, &unit_path, &mut manager).unwrap());
    let restarts = manager
        .calls
        .iter()
        .filter(|c| matches!(c, ServiceCall::Restart(_)))
        .count();
    assert_eq!(restarts, 1);
    (rendered, listen)
}

/// Starts the proxy from its rendered `ExecStart` (see `testing::etcd::start_proxy`).
fn start_proxy(cluster: &EtcdCluster, rendered: &RenderedProxy, listen: SocketAddr) -> Daemon {
    let log = cluster.scratch_dir().join(format!("{}.log", rendered.mode));
    crate::support::start_proxy(rendered, listen, &log).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn gateway_serves_tls_clients_and_survives_a_member_loss() {
    let bins = crate::require_etcd!();
    let mut cluster = EtcdCluster::start(&bins, 3);
    let client = cluster.pki().client.clone();
    let (rendered, listen) = render_for(&cluster, ProxyMode::Gateway, &client);
    let _proxy = start_proxy(&cluster, &rendered, listen);

    // TLS passes through: the local client dials https://127.0.0.1:PORT with the certs.
    let endpoint = format!("https://{listen}");
    cluster.put_get(&endpoint, EtcdctlTls::Client(&client), "gw", "one");
    cluster.stop_member(0);
    cluster.put_get(&endpoint, EtcdctlTls::Client(&client), "gw", "two");
}

#[test]
fn grpc_proxy_serves_plaintext_clients_and_survives_a_member_loss() {
    let bins = crate::require_etcd!();
    let mut cluster = EtcdCluster::start(&bins, 3);
    let no_cn = cluster.pki().client_no_cn.clone();
    let (rendered, listen) = render_for(&cluster, ProxyMode::GrpcProxy, &no_cn);
    let _proxy = start_proxy(&cluster, &rendered, listen);

    let endpoint = listen.to_string();
    cluster.put_get(&endpoint, EtcdctlTls::Plain, "grpc", "one");
    cluster.stop_member(0);
    cluster.put_get(&endpoint, EtcdctlTls::Plain, "grpc", "two");
}

#[test]
fn grpc_proxy_with_the_charm_certificate_is_refused_at_render_time() {
    let bins = crate::require_etcd!();
    let cluster = EtcdCluster::start(&bins, 3);
    let pki = cluster.pki();
    let creds = CredentialPaths {
        ca: pki.ca_path.clone(),
        cert: pki.client.cert_path.clone(),
        key: pki.client.key_path.clone(),
    };
    let endpoints = cluster
        .client_urls()
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
    let cluster_string = cluster.initial_cluster().parse().unwrap();
    let charm_cert = ClientCredentials::from_pem(
        pki.ca_pem.clone(),
        pki.client.cert_pem.clone(),
        pki.client.key_pem.clone(),
    )
    .unwrap();
    assert!(charm_cert.has_common_name());
    let mut spec = ProxySpec::new(
        ProxyMode::GrpcProxy,
        endpoints,
        cluster_string,
        creds,
        charm_cert.has_common_name(),
    );
    spec.etcd_bin = bins.etcd.clone();
    assert!(matches!(
        render(&spec),
        Err(RenderError::CommonNameForGrpcProxy)
    ));

    // What rendering prevents: etcd itself refuses that certificate.
    spec.client_cert_has_common_name = false;
    spec.listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let rendered = render(&spec).unwrap();
    let log = cluster.scratch_dir().join("grpc-proxy-cn.log");
    let mut proxy = Daemon::spawn("grpc-proxy-cn", &rendered.exec_start, &[], &log);
    let exited = wait_for(PROXY_READY_LIMIT, || proxy.exit_status());
    let status = exited.unwrap_or_else(|| panic!("grpc-proxy kept running with a CN certificate"));
    assert!(!status.success());
    assert!(
        proxy.log().contains("non empty Common Name"),
        "{}",
        proxy.log_tail(20)
    );
}

#[test]
fn v2_proxy_serves_the_json_gateway_and_survives_a_member_loss() {
    let bins = crate::require_etcd!();
    if !bins.version().has_v2_proxy() {
        // Not a missing dependency: that etcd has no v2 proxy by design.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: v2-proxy: etcd {:?} has no v2 proxy (removed in 3.6)",
            bins.version()
        );
        return;
    }
    let mut cluster = EtcdCluster::start(&bins, 3);
    let client = cluster.pki().client.clone();
    let (rendered, listen) = render_for(&cluster, ProxyMode::V2Proxy, &client);
    let _proxy = start_proxy(&cluster, &rendered, listen);

    // No gRPC through the v2 proxy: use the v3 JSON gateway over plain http on loopback.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .into();
    let base = format!("http://{listen}");
    json_put_get(&cluster, &agent, &base, "v2", "one");
    cluster.stop_member(0);
    json_put_get(&cluster, &agent, &base, "v2", "two");
    assert!(!rendered.clear_on_change.is_empty());
    let sticky: &PathBuf = &rendered.clear_on_change[0];
    assert!(
        sticky.exists(),
        "the v2 proxy keeps its member list in {}",
        sticky.display()
    );
}

/// put then range through the JSON gateway, retried like [`EtcdCluster::put_get`].
fn json_put_get(cluster: &EtcdCluster, agent: &ureq::Agent, base: &str, key: &str, value: &str) {
    let put = format!(r#"{{"key":"{}","value":"{}"}}"#, base64(key), base64(value));
    let range = format!(r#"{{"key":"{}"}}"#, base64(key));
    let expected = format!(r#""value":"{}""#, base64(value));
    let mut errors = Vec::new();
    let ok = wait_for(Duration::from_secs(20), || {
        let attempt = (|| -> Result<(), String> {
            let post = |path: &str, body: &str| -> Result<String, String> {
                let mut response = agent
                    .post(&format!("{base}{path}"))
                    .send(body)
                    .map_err(|e| e.to_string())?;
                let text = response
                    .body_mut()
                    .read_to_string()
                    .map_err(|e| e.to_string())?;
                if response.status() != 200 {
                    return Err(format!("{path}: {} {text}", response.status()));
                }
                Ok(text)
            };
            post("/v3/kv/put", &put)?;
            let got = post("/v3/kv/range", &range)?;
            if got.contains(&expected) {
                Ok(())
            } else {
                Err(format!("range answered {got}"))
            }
        })();
        match attempt {
            Ok(()) => Some(()),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    });
    assert!(
        ok.is_some(),
        "JSON put/get via {base} failed: {errors:?}\n{}",
        cluster.logs()
    );
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64("v2"), "djI=");
    assert_eq!(base64("one"), "b25l");
    assert_eq!(base64("k"), "aw==");
}

#[test]
fn rotated_credentials_restart_the_proxy_once_and_it_serves_with_the_new_ones() {
    let bins = crate::require_etcd!();
    let cluster = EtcdCluster::start(&bins, 3);
    let pki = cluster.pki();
    let dir = cluster.scratch_dir().join("rotation");
    let paths = CredentialPaths::in_dir(&dir);
    // The requirer's own credential saving: atomic writes that report a change.
    let save = |cert: &str, key: &str| -> bool {
        let creds = ClientCredentials::from_pem(pki.ca_pem.clone(), cert, key).unwrap();
        save_client_credentials(&creds, &paths, Ownership::default()).unwrap()
    };
    let first = &pki.client_no_cn;
    assert!(save(&first.cert_pem, &first.key_pem));

    let endpoints = cluster
        .client_urls()
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
    let cluster_string = cluster.initial_cluster().parse().unwrap();
    let mut spec = ProxySpec::new(
        ProxyMode::GrpcProxy,
        endpoints,
        cluster_string,
        paths.clone(),
        false,
    );
    spec.etcd_bin = bins.etcd.clone();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    spec.listen = listen;
    let unit_path = dir.join("etcd-proxy.service");
    let mut manager = RecordingServiceManager::default();
    let rendered = render(&spec).unwrap();
    let changed = install(&rendered, &unit_path).unwrap();
    assert!(restart_if_changed(changed, &unit_path, &mut manager).unwrap());
    let mut proxy = start_proxy(&cluster, &rendered, listen);
    cluster.put_get(&listen.to_string(), EtcdctlTls::Plain, "rot", "one");

    // Rotation: new certificate and key at the same paths; the unit itself is unchanged.
    let rotated = pki.generated.issue(&CertSpec::default());
    let creds_changed = save(&rotated.cert_pem, &rotated.key_pem);
    let unit_changed = install(&render(&spec).unwrap(), &unit_path).unwrap();
    assert!(creds_changed && !unit_changed);
    assert!(restart_if_changed(creds_changed || unit_changed, &unit_path, &mut manager).unwrap());
    proxy.stop(); // What `systemctl restart` does.
    let _proxy = start_proxy(&cluster, &rendered, listen);
    cluster.put_get(&listen.to_string(), EtcdctlTls::Plain, "rot", "two");
    assert_eq!(
        std::fs::read_to_string(&paths.cert).unwrap(),
        rotated.cert_pem
    );

    // The same credentials again: nothing changes, nothing restarts.
    let again = save(&rotated.cert_pem, &rotated.key_pem);
    assert!(!again);
    assert!(!restart_if_changed(again, &unit_path, &mut manager).unwrap());
    let restarts = manager
        .calls
        .iter()
        .filter(|c| matches!(c, ServiceCall::Restart(_)))
        .count();
    assert_eq!(restarts, 2, "{:?}", manager.calls);
}
