//! The Juju `etcd-proxy` relation interface: the provider publishes an etcd cluster's
//! membership and TLS client credentials; the requirer validates them, saves the credentials
//! and renders a local etcd proxy service.
#![deny(missing_docs)]

pub mod cluster;
pub mod credentials;
mod error;
pub mod files;
mod provider;
mod requirer;
mod save;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod view;
pub mod wire;

pub use error::InterfaceError;
pub use files::{ensure_file, FileError, Ownership};
pub use provider::{Provider, ProviderReport, Publication};
pub use requirer::{choose, Chosen, Requirer, RequirerReport};
pub use save::{save_client_credentials, CredentialPaths};

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
