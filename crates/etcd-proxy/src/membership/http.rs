//! The two HTTP calls and the translation of transport failures into one-line, typed errors.

use std::fmt;
use std::io;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError};

use super::decode;
use super::{Membership, MembershipSource};
use crate::cluster::{excerpt_of, EtcdUrl, UrlScheme, MESSAGE_CHARS};
use crate::tls::ClientTls;

/// Answers bigger than this are refused: a member list that fits the limits of a cluster
/// string (64 KiB of peer URLs, as many of client URLs, names and ids) is far smaller.
pub(crate) const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Listing members at a URL failed. The message is one line: the URL called and the cause,
/// never certificate or key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot list etcd members at {url}: {kind}")]
pub struct MembershipError {
    /// The URL that was called (with its path).
    pub url: String,
    /// What went wrong.
    pub kind: FetchErrorKind,
}

/// The cause of a [`MembershipError`], so callers can react to the kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchErrorKind {
    /// Nothing listens on that address and port.
    #[error("connection refused (is etcd running and listening there?)")]
    Refused,
    /// The connection failed or broke for another reason (host unknown, network down,
    /// connection reset, ...).
    #[error("cannot connect: {0}")]
    Unreachable(String),
    /// No complete answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The TLS handshake failed.
    #[error("TLS failed: {0}")]
    Tls(TlsFailure),
    /// An HTTP status other than 200.
    #[error("HTTP status {0}")]
    Status(u16),
    /// Neither `GET /members` nor `POST /v3/cluster/member/list` exists there (both 404).
    #[error(
        "neither GET /members (peer URL) nor POST /v3/cluster/member/list (JSON gateway) is \
         served there (HTTP 404); give a peer URL, or enable the gRPC gateway"
    )]
    NotServed,
    /// The answer is not the expected JSON.
    #[error("undecodable answer: {0}")]
    Body(String),
}

/// Why a TLS handshake failed, as far as the client can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate does not chain to the CA we were given.
    UnknownCa,
    /// The server's certificate is not valid for the host in the URL.
    WrongHost,
    /// The server refused our client certificate (none sent, or not one it trusts): the TLS
    /// alert it sent, or that it closed the connection right after the handshake (with TLS
    /// 1.3 the client learns of the refusal only then, sometimes only as a broken pipe).
    ClientCertificateRejected(String),
    /// Anything else rustls reported.
    Other(String),
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::UnknownCa => {
                f.write_str("the server certificate is not signed by the given CA")
            }
            TlsFailure::WrongHost => {
                f.write_str("the server certificate is not valid for this host")
            }
            TlsFailure::ClientCertificateRejected(how) => write!(
                f,
                "the server rejected the client certificate (missing or not trusted; {how})"
            ),
            TlsFailure::Other(why) => f.write_str(why),
        }
    }
}

/// An agent for one fetch: only `tls`'s CA trusted, no proxy, no redirects, statuses
/// returned rather than raised, every request bounded by `timeout`.
pub(crate) fn agent(tls: &ClientTls, timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(tls.ureq_config())
        .proxy(None)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .user_agent("etcd-proxy-relation")
        .build()
        .into()
}

/// `GET <url>/members`.
pub(crate) fn get_peer_members(
    agent: &ureq::Agent,
    url: &EtcdUrl,
    timeout: Duration,
) -> Result<Membership, MembershipError> {
    let target = format!("{url}/members");
    let https = url.scheme() == UrlScheme::Https;
    let fail = |kind| MembershipError {
        url: target.clone(),
        kind,
    };
    let mut response = agent
        .get(&target)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| fail(classify(e, timeout, https)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(fail(FetchErrorKind::Status(status)));
    }
    let header_id = response
        .headers()
        .get("X-Etcd-Cluster-Id")
        .map(|v| v.to_str().map(str::to_owned));
    let body = read_body(&mut response).map_err(|e| fail(classify(e, timeout, https)))?;
    let cluster_id = match header_id {
        None => None,
        Some(text) => Some(
            text.ok()
                .and_then(|t| u64::from_str_radix(&t, 16).ok())
                .ok_or_else(|| {
                    fail(FetchErrorKind::Body(
                        "X-Etcd-Cluster-Id is not a hexadecimal id".into(),
                    ))
                })?,
        ),
    };
    let members = decode::peer_members(&body).map_err(|e| fail(FetchErrorKind::Body(e)))?;
    Ok(Membership {
        cluster_id,
        members,
        source: MembershipSource::PeerMembers,
    })
}

/// `POST <url>/v3/cluster/member/list` with body `{}`.
pub(crate) fn post_member_list(
    agent: &ureq::Agent,
    url: &EtcdUrl,
    timeout: Duration,
) -> Result<Membership, MembershipError> {
    let target = format!("{url}/v3/cluster/member/list");
    let https = url.scheme() == UrlScheme::Https;
    let fail = |kind| MembershipError {
        url: target.clone(),
        kind,
    };
    let mut response = agent
        .post(&target)
        .header("Content-Type", "application/json")
        .send("{}")
        .map_err(|e| fail(classify(e, timeout, https)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(fail(FetchErrorKind::Status(status)));
    }
    let body = read_body(&mut response).map_err(|e| fail(classify(e, timeout, https)))?;
    let (cluster_id, members) =
        decode::gateway_member_list(&body).map_err(|e| fail(FetchErrorKind::Body(e)))?;
    Ok(Membership {
        cluster_id,
        members,
        source: MembershipSource::JsonGateway,
    })
}

fn read_body(response: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, ureq::Error> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
}

/// Sorts a ureq failure into the kinds an operator can act on.
/// `https`: whether the URL used TLS, which makes a connection the server drops right after
/// the handshake a refused client certificate.
fn classify(error: ureq::Error, timeout: Duration, https: bool) -> FetchErrorKind {
    match error {
        ureq::Error::Timeout(_) => FetchErrorKind::Timeout(timeout),
        ureq::Error::Rustls(e) => FetchErrorKind::Tls(tls_failure(&e)),
        ureq::Error::Tls(why) => FetchErrorKind::Tls(TlsFailure::Other(short(why))),
        ureq::Error::Io(e) => classify_io(&e, timeout, https),
        ureq::Error::HostNotFound => FetchErrorKind::Unreachable("host not found".into()),
        ureq::Error::BodyExceedsLimit(_) => {
            FetchErrorKind::Body(format!("answer larger than {MAX_BODY_BYTES} bytes"))
        }
        other => FetchErrorKind::Unreachable(short(&other.to_string())),
    }
}

/// A transport's message, cut: it may carry what the server sent (a header, an alert text).
fn short(message: &str) -> String {
    excerpt_of(message, MESSAGE_CHARS)
}

fn classify_io(error: &io::Error, timeout: Duration, https: bool) -> FetchErrorKind {
    if let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return FetchErrorKind::Tls(tls_failure(tls));
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused => FetchErrorKind::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchErrorKind::Timeout(timeout),
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
            if https =>
        {
            FetchErrorKind::Tls(TlsFailure::ClientCertificateRejected(format!(
                "the server closed the connection after the TLS handshake: {}",
                short(&error.to_string())
            )))
        }
        _ => FetchErrorKind::Unreachable(short(&error.to_string())),
    }
}

fn tls_failure(error: &rustls::Error) -> TlsFailure {
    match error {
        // BadSignature: an issuer with the CA's name, but not the CA's key (two CAs with one
        // name, as test or easyrsa CAs may have).
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => TlsFailure::UnknownCa,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => TlsFailure::WrongHost,
        rustls::Error::AlertReceived(
            alert @ (AlertDescription::BadCertificate
            | AlertDescription::CertificateRequired
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::AccessDenied),
        ) => TlsFailure::ClientCertificateRejected(format!("alert {alert:?}")),
        other => TlsFailure::Other(short(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_and_timeouts_are_told_apart() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let t = Duration::from_secs(2);
        assert_eq!(
            classify(ureq::Error::Io(refused), t, true),
            FetchErrorKind::Refused
        );
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(
            classify(ureq::Error::Io(timed_out), t, true),
            FetchErrorKind::Timeout(t)
        );
    }

    #[test]
    fn tls_errors_inside_io_errors_are_tls_failures() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = io::Error::new(io::ErrorKind::InvalidData, inner);
        assert_eq!(
            classify(ureq::Error::Io(io), Duration::from_secs(1), true),
            FetchErrorKind::Tls(TlsFailure::UnknownCa)
        );
        let alert = rustls::Error::AlertReceived(AlertDescription::CertificateRequired);
        assert!(matches!(
            classify(ureq::Error::Rustls(alert), Duration::from_secs(1), true),
            FetchErrorKind::Tls(TlsFailure::ClientCertificateRejected(_))
        ));
    }

    #[test]
    fn a_dropped_tls_connection_is_a_refused_certificate_but_not_over_http() {
        let t = Duration::from_secs(1);
        let pipe = || ureq::Error::Io(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(
            classify(pipe(), t, true),
            FetchErrorKind::Tls(TlsFailure::ClientCertificateRejected(_))
        ));
        assert!(matches!(
            classify(pipe(), t, false),
            FetchErrorKind::Unreachable(_)
        ));
    }

    #[test]
    fn messages_are_one_line_and_name_the_url() {
        let err = MembershipError {
            url: "https://10.0.0.1:2380/members".into(),
            kind: FetchErrorKind::Tls(TlsFailure::UnknownCa),
        };
        let text = err.to_string();
        assert!(text.contains("https://10.0.0.1:2380/members"));
        assert!(text.contains("not signed by the given CA"));
        assert!(!text.contains('\n'));
    }
}
