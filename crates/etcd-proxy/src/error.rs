//! The interface's error type.

use juju_hooks::{StateError, ToolError};

use crate::files::FileError;

/// Why an interface operation failed. Incomplete relation data is not an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InterfaceError {
    /// A hook-tool call failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The unit state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// A file could not be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// Data given to the provider to publish is invalid; nothing was published.
    #[error("refusing to publish: {0}")]
    InvalidInput(String),
    /// The requested relation data is not (validly) available.
    #[error("{0}")]
    NotAvailable(String),
    /// The proxy cannot be rendered as asked (e.g. grpc-proxy with a CN certificate).
    #[error(transparent)]
    Render(#[from] crate::proxy::RenderError),
    /// The rendered proxy could not be installed.
    #[error(transparent)]
    Install(#[from] crate::proxy::InstallError),
    /// The service manager failed.
    #[error(transparent)]
    Service(#[from] crate::proxy::ServiceError),
    /// The credentials cannot make a TLS client.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The live cluster's membership could not be read.
    #[error(transparent)]
    Membership(#[from] crate::membership::MembershipError),
}
