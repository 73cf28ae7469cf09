//! The Juju `etcd-proxy` relation interface: the provider publishes an etcd cluster's
//! membership and TLS client credentials; the requirer validates them, saves the credentials
//! and renders a local etcd proxy service.
#![deny(missing_docs)]

pub mod cluster;
pub mod credentials;
pub mod endpoints;
pub mod files;
pub mod membership;
pub mod proxy;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod wire;

pub use cluster::{
    ClusterEntry, ClusterString, ClusterStringError, EtcdUrl, MemberName, MemberNameError,
    UrlError, UrlHost, UrlScheme,
};
pub use credentials::{
    ClientCredentials, CredentialKey, CredentialsError, CredentialsProblem, SubjectAltName,
};
pub use wire::{
    ClientUrlsField, ClusterField, CredentialsField, InvalidValue, ProviderData, RemoteData,
};
