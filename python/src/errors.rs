//! The exceptions: one base class, one subclass per kind of failure. Their text is the Rust
//! error's one-line reason, which never holds a private key.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _core,
    EtcdProxyError,
    PyException,
    "Base class of every error raised by etcd_proxy_relation."
);
create_exception!(
    _core,
    InvalidData,
    EtcdProxyError,
    "A value (cluster string, client URLs, credentials) is invalid; the message names the key and why."
);
create_exception!(
    _core,
    InvalidClusterString,
    InvalidData,
    "The cluster string is not `name=peerURL[,name=peerURL...]` as etcd parses it."
);
create_exception!(
    _core,
    InvalidClientUrls,
    InvalidData,
    "The client URLs are not a comma-joined list of http(s) URLs with a port."
);
create_exception!(
    _core,
    InvalidCredentials,
    InvalidData,
    "The client credentials are invalid as a whole (PEM, key/certificate match, CA signature, validity)."
);
create_exception!(
    _core,
    NotAvailable,
    EtcdProxyError,
    "The relation holds no valid cluster string or credentials (yet)."
);
create_exception!(
    _core,
    RenderError,
    EtcdProxyError,
    "The proxy unit cannot be rendered as asked (e.g. grpc-proxy with a CN certificate)."
);
create_exception!(
    _core,
    WriteError,
    EtcdProxyError,
    "A file could not be written; the previous file is intact."
);
create_exception!(
    _core,
    MembershipError,
    EtcdProxyError,
    "The live etcd cluster's membership could not be read."
);

/// An exception of type `T` carrying `reason` as its one-line message.
pub fn err<T: pyo3::PyTypeInfo>(reason: impl std::fmt::Display) -> PyErr {
    PyErr::new::<T, _>(reason.to_string())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EtcdProxyError", py.get_type::<EtcdProxyError>())?;
    m.add("InvalidData", py.get_type::<InvalidData>())?;
    m.add(
        "InvalidClusterString",
        py.get_type::<InvalidClusterString>(),
    )?;
    m.add("InvalidClientUrls", py.get_type::<InvalidClientUrls>())?;
    m.add("InvalidCredentials", py.get_type::<InvalidCredentials>())?;
    m.add("NotAvailable", py.get_type::<NotAvailable>())?;
    m.add("RenderError", py.get_type::<RenderError>())?;
    m.add("WriteError", py.get_type::<WriteError>())?;
    m.add("MembershipError", py.get_type::<MembershipError>())?;
    Ok(())
}
