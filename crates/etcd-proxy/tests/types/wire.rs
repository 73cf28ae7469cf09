//! The wire codec against exactly what the deployed Python provider writes.

use etcd_proxy::testing::TestPki;
use etcd_proxy::wire::{
    KEY_CLIENT_CA, KEY_CLIENT_CERT, KEY_CLIENT_KEY, KEY_CLIENT_URLS, KEY_CLUSTER,
};
use etcd_proxy::{
    ClientUrlsField, ClusterField, ClusterString, CredentialsField, Publication, RemoteData,
};

/// layer-etcd joins `name=peerURL` pairs in member-list order, unsorted.
const PYTHON_CLUSTER: &str =
    "etcd2=https://10.5.0.12:2380,etcd0=https://10.5.0.10:2380,etcd1=https://10.5.0.11:2380";

#[test]
fn the_python_provider_databag_reads_as_valid() {
    let pki = TestPki::generate();
    let bag = pki.python_provider_databag(PYTHON_CLUSTER);
    assert_eq!(bag.len(), 4);
    assert!(bag[KEY_CLIENT_CERT].contains('\n'));
    let data = RemoteData::from_databag(&bag);
    let ClusterField::Valid(cluster) = &data.cluster else {
        panic!("cluster: {:?}", data.cluster);
    };
    assert_eq!(
        cluster.to_string(),
        "etcd0=https://10.5.0.10:2380,etcd1=https://10.5.0.11:2380,etcd2=https://10.5.0.12:2380"
    );
    let CredentialsField::Valid(creds) = &data.credentials else {
        panic!("credentials: {:?}", data.credentials);
    };
    assert_eq!(creds.common_name(), Some("client"));
    assert_eq!(creds.key_pem(), bag[KEY_CLIENT_KEY]);
    assert_eq!(data.client_urls, ClientUrlsField::Missing);
}

#[test]
fn credentials_arriving_in_pieces_are_incomplete() {
    let pki = TestPki::generate();
    let mut bag = pki.python_provider_databag(PYTHON_CLUSTER);
    bag.remove(KEY_CLIENT_KEY);
    let data = RemoteData::from_databag(&bag);
    assert_eq!(
        data.credentials,
        CredentialsField::Incomplete {
            missing: vec![KEY_CLIENT_KEY]
        }
    );
    bag.remove(KEY_CLIENT_CA);
    bag.insert(KEY_CLIENT_KEY.into(), String::new());
    assert_eq!(
        RemoteData::from_databag(&bag).credentials,
        CredentialsField::Incomplete {
            missing: vec![KEY_CLIENT_CA, KEY_CLIENT_KEY]
        }
    );
}

#[test]
fn the_writer_produces_the_python_databag_and_reads_back() {
    let pki = TestPki::generate();
    let cluster: ClusterString = PYTHON_CLUSTER.parse().unwrap();
    let client_urls: Vec<etcd_proxy::EtcdUrl> = vec![
        "https://10.5.0.11:2379".parse().unwrap(),
        "https://10.5.0.10:2379".parse().unwrap(),
    ];
    let data = Publication {
        cluster: Some(cluster.clone()),
        credentials: Some(pki.credentials()),
        client_urls: Some(client_urls.clone()),
    };
    let bag = data.to_databag();
    assert_eq!(bag[KEY_CLIENT_CA], pki.ca_pem);
    assert_eq!(bag[KEY_CLIENT_CERT], pki.client.cert_pem);
    assert_eq!(bag[KEY_CLIENT_KEY], pki.client.key_pem);
    assert_eq!(
        bag[KEY_CLIENT_URLS],
        "https://10.5.0.10:2379,https://10.5.0.11:2379"
    );
    assert_eq!(bag[KEY_CLUSTER], cluster.to_string());
    // Without client_urls the databag is exactly the Python provider's.
    let python_like = Publication {
        client_urls: None,
        ..data.clone()
    };
    let python = pki.python_provider_databag(&cluster.to_string());
    assert_eq!(python_like.to_databag(), python);

    let back = RemoteData::from_databag(&bag);
    assert_eq!(back.cluster, ClusterField::Valid(cluster.clone()));
    assert_eq!(back.credentials, CredentialsField::Valid(pki.credentials()));
    assert_eq!(
        back.client_urls,
        ClientUrlsField::Valid(client_urls.iter().rev().cloned().collect())
    );
}
