//! The requirer's local etcd proxy, rendered as a systemd unit: we configure and supervise
//! etcd's own proxies, we do not write one.
//!
//! # Modes
//!
//! | mode | command | TLS | etcd |
//! |---|---|---|---|
//! | [`ProxyMode::Gateway`] (default) | `etcd gateway start --endpoints=h:p,... --listen-addr=ADDR` | passed through (L4) | 3.1–3.7 |
//! | [`ProxyMode::GrpcProxy`] | `etcd grpc-proxy start --endpoints=https://... --cert --key --cacert --listen-addr --advertise-client-url` | terminated; plaintext listener | 3.1–3.7 |
//! | [`ProxyMode::V2Proxy`] | `etcd` with `ETCD_PROXY=on` etc. in an `EnvironmentFile` | re-encrypted; plaintext listener | 3.4/3.5 only |
//!
//! - **gateway**: a TCP proxy. Local clients connect to `https://ADDR` and do TLS themselves
//!   with the saved client certificate, key and CA; the cluster's server certificates must
//!   be valid for the address the client dials (the etcd charm puts `127.0.0.1` in their
//!   SANs). Works with the relation's usual certificate (CN `client`).
//! - **grpc-proxy**: presents the relation's certificate to etcd and serves local clients in
//!   plaintext (`http://ADDR`, gRPC). etcd ≥ 3.4 exits at once when that certificate has a
//!   subject CN, so rendering refuses such a certificate ([`RenderError::CommonNameForGrpcProxy`]).
//!   `--advertise-client-url` is set to the listen address, else a member list through the
//!   proxy shows `127.0.0.1:23790`.
//! - **v2-proxy**: the original consumer's set-up (the main `etcd` command in proxy mode,
//!   configured only through `ETCD_*` variables, since `gateway`/`grpc-proxy` ignore them and
//!   the main command refuses a variable that repeats a flag). It speaks HTTP/1.1 only (no
//!   gRPC; the v3 JSON gateway passes), finds client URLs itself through the peers'
//!   `/members`, and keeps the peer URLs it learnt in `<data dir>/proxy/cluster`, which wins
//!   over `ETCD_INITIAL_CLUSTER` on restart: [`RenderedProxy::clear_on_change`] lists it so
//!   that [`install`] removes it whenever the environment file changes. Deprecated in etcd 3.5,
//!   **removed in 3.6**.
//!
//! # Listen address
//!
//! grpc-proxy and v2-proxy serve plaintext with the relation's identity behind them, so they
//! must listen on a loopback address ([`RenderError::NotLoopback`]). The gateway may listen
//! anywhere: clients still need a certificate the cluster trusts.
//!
//! # Safety of the rendered files
//!
//! Values reach the files only through typed fields ([`EtcdUrl`], [`ClusterString`],
//! [`SocketAddr`], paths). As defence in depth, every rendered value is checked once more
//! and rendering fails ([`RenderError::UnsafeValue`]) if one holds whitespace, a control
//! character, a quote, a backslash, `$`, `%`, `;` or a backtick — the characters that could
//! start a new line or a new word, or that systemd expands, in a unit file, an environment
//! file or a command line. So every value is one word as it stands, and `ExecStart` is the
//! argv joined with spaces.
//!
//! # User templates
//!
//! [`render_with_template`] renders the unit file from a Jinja2 template (minijinja; unknown
//! variables are errors, the trailing newline is kept). The environment file of v2-proxy is
//! always the built-in one. Variables, all pre-validated and safe as above:
//!
//! | variable | example |
//! |---|---|
//! | `mode` | `gateway`, `grpc-proxy`, `v2-proxy` |
//! | `description` | `etcd gateway for the etcd-proxy relation` |
//! | `listen_addr` | `127.0.0.1:23790` |
//! | `endpoints` | list of client URLs, `["https://10.0.0.1:2379", ...]` |
//! | `endpoints_joined` | `https://10.0.0.1:2379,https://10.0.0.2:2379` |
//! | `exec_start` | the argv, a list of strings |
//! | `exec_start_line` | the argv as one `ExecStart=` value (systemd-quoted) |
//! | `ca_file`, `cert_file`, `key_file` | the saved credential paths |
//! | `cluster` | the cluster string |
//! | `etcd_bin` | `/usr/bin/etcd` |
//! | `data_dir` | the v2-proxy data directory |
//! | `env_file` | the environment file path, or none (gateway, grpc-proxy) |
//! | `environment` | list of `[name, value]` pairs of the environment file (v2-proxy) |

mod command;
mod service;
mod template;
mod unit;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

pub use service::{
    install, restart_if_changed, InstallError, RecordingServiceManager, ServiceCall, ServiceError,
    ServiceManager, Systemctl,
};

use crate::cluster::{ClusterString, EtcdUrl};
/// Where the relation's credentials were saved (the same type `save_client_credentials`
/// writes to).
pub use crate::save::CredentialPaths;

/// The default listen address: etcd's own default for gateway and grpc-proxy.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 23790);

/// The default etcd binary (Debian's `etcd-server`).
pub const DEFAULT_ETCD_BIN: &str = "/usr/bin/etcd";

/// The default v2-proxy data directory.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/etcd-proxy";

/// Which of etcd's proxies to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProxyMode {
    /// `etcd gateway start`: L4, TLS passes through. The default.
    #[default]
    Gateway,
    /// `etcd grpc-proxy start`: L7, needs a client certificate without a subject CN.
    GrpcProxy,
    /// The legacy v2 proxy (`ETCD_PROXY=on`): etcd 3.4/3.5 only, no gRPC.
    V2Proxy,
}

impl ProxyMode {
    /// The mode's name as the CLI and templates spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Gateway => "gateway",
            ProxyMode::GrpcProxy => "grpc-proxy",
            ProxyMode::V2Proxy => "v2-proxy",
        }
    }
}

impl std::fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProxyMode {
    type Err = RenderError;

    fn from_str(s: &str) -> Result<Self, RenderError> {
        match s {
            "gateway" => Ok(ProxyMode::Gateway),
            "grpc-proxy" => Ok(ProxyMode::GrpcProxy),
            "v2-proxy" => Ok(ProxyMode::V2Proxy),
            _ => Err(RenderError::UnknownMode),
        }
    }
}

/// Everything a proxy unit is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySpec {
    /// The proxy to run.
    pub mode: ProxyMode,
    /// Where local clients connect.
    pub listen: SocketAddr,
    /// The cluster's client URLs (gateway, grpc-proxy); see [`crate::endpoints`].
    pub endpoints: Vec<EtcdUrl>,
    /// The cluster string (v2-proxy).
    pub cluster: ClusterString,
    /// The saved credentials.
    pub credentials: CredentialPaths,
    /// Whether the client certificate has a subject CN (grpc-proxy refuses it).
    pub client_cert_has_common_name: bool,
    /// The etcd binary.
    pub etcd_bin: PathBuf,
    /// The v2-proxy data directory.
    pub data_dir: PathBuf,
    /// The environment file the unit reads (v2-proxy; required there, unused otherwise).
    pub env_file: Option<PathBuf>,
    /// The version of `etcd_bin`, when known (see [`EtcdVersion::parse`]): v2-proxy is then
    /// refused on etcd 3.6 and later, which removed it.
    pub etcd_version: Option<EtcdVersion>,
}

/// An etcd version, as far as the modes care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EtcdVersion {
    /// Major version (3).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl EtcdVersion {
    /// Reads the `etcd Version: 3.4.23` line of `etcd --version` output.
    pub fn parse(version_output: &str) -> Option<EtcdVersion> {
        let version = version_output
            .lines()
            .find_map(|line| line.trim().strip_prefix("etcd Version:"))?;
        let mut parts = version.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(EtcdVersion { major, minor })
    }

    /// Whether this etcd still has the v2 proxy (removed in 3.6).
    pub fn has_v2_proxy(self) -> bool {
        (self.major, self.minor) < (3, 6)
    }
}

impl std::fmt::Display for EtcdVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl ProxySpec {
    /// A spec with the defaults: [`DEFAULT_LISTEN`], [`DEFAULT_ETCD_BIN`],
    /// [`DEFAULT_DATA_DIR`], no environment file.
    pub fn new(
        mode: ProxyMode,
        endpoints: Vec<EtcdUrl>,
        cluster: ClusterString,
        credentials: CredentialPaths,
        client_cert_has_common_name: bool,
    ) -> Self {
        ProxySpec {
            mode,
            listen: DEFAULT_LISTEN,
            endpoints,
            cluster,
            credentials,
            client_cert_has_common_name,
            etcd_bin: PathBuf::from(DEFAULT_ETCD_BIN),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            env_file: None,
            etcd_version: None,
        }
    }
}

/// The rendered service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedProxy {
    /// The mode rendered.
    pub mode: ProxyMode,
    /// The systemd unit file.
    pub unit_file: String,
    /// The environment file (v2-proxy): its path and contents.
    pub env_file: Option<(PathBuf, String)>,
    /// The command the unit runs (its `ExecStart`), as argv.
    pub exec_start: Vec<String>,
    /// The environment variables the command needs (v2-proxy; what the environment file
    /// sets), in file order.
    pub environment: Vec<(String, String)>,
    /// Files to delete whenever the environment file changes (v2-proxy's sticky
    /// `<data dir>/proxy/cluster`).
    pub clear_on_change: Vec<PathBuf>,
}

/// Why a proxy could not be rendered. Messages are one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// Not one of `gateway`, `grpc-proxy`, `v2-proxy`.
    #[error("unknown proxy mode (expected gateway, grpc-proxy or v2-proxy)")]
    UnknownMode,
    /// grpc-proxy with a certificate that has a subject CN.
    #[error(
        "grpc-proxy cannot use this client certificate: it has a subject common name, and \
         etcd >= 3.4 refuses to start grpc-proxy with one; use the gateway mode, or a \
         certificate without CN"
    )]
    CommonNameForGrpcProxy,
    /// A plaintext proxy asked to listen beyond loopback.
    #[error("{mode} serves plaintext with the relation's identity, so it must listen on a loopback address, not {addr}")]
    NotLoopback {
        /// The mode.
        mode: ProxyMode,
        /// The refused address.
        addr: SocketAddr,
    },
    /// No client endpoint to proxy to (gateway, grpc-proxy).
    #[error("{0} needs at least one client endpoint")]
    NoEndpoints(ProxyMode),
    /// v2-proxy on an etcd that no longer has it.
    #[error("etcd {0} has no v2 proxy (removed in etcd 3.6); use the gateway mode")]
    V2ProxyRemoved(EtcdVersion),
    /// v2-proxy without an environment file path.
    #[error("v2-proxy needs an environment file path")]
    MissingEnvFile,
    /// A path that is not absolute.
    #[error("{what} must be an absolute path")]
    RelativePath {
        /// Which path.
        what: &'static str,
    },
    /// A value holding a character that could break out of its place in a file.
    #[error("{what} holds a character that is not allowed in a unit file ({found})")]
    UnsafeValue {
        /// Which value.
        what: String,
        /// The offending character, escaped.
        found: String,
    },
    /// The user template failed to parse or render.
    #[error("template: {0}")]
    Template(String),
}

/// Renders the built-in unit (and environment file) for `spec`.
///
/// # Errors
/// See [`RenderError`]: a CN certificate for grpc-proxy, a non-loopback plaintext listener,
/// no endpoints, a relative path, or a value that fails the safety check.
pub fn render(spec: &ProxySpec) -> Result<RenderedProxy, RenderError> {
    let parts = command::build(spec)?;
    let unit_file = unit::builtin(spec, &parts);
    Ok(parts.into_rendered(spec, unit_file))
}

/// Renders the unit from a user template (the environment file stays built-in).
///
/// # Errors
/// As [`render`], plus [`RenderError::Template`] for a template that does not parse or
/// render (e.g. an unknown variable).
pub fn render_with_template(
    spec: &ProxySpec,
    template: &str,
) -> Result<RenderedProxy, RenderError> {
    let parts = command::build(spec)?;
    let unit_file = template::render(spec, &parts, template)?;
    Ok(parts.into_rendered(spec, unit_file))
}

/// v2-proxy's sticky member file under `data_dir`.
pub fn v2_sticky_cluster_file(data_dir: &Path) -> PathBuf {
    data_dir.join("proxy").join("cluster")
}

#[cfg(test)]
mod tests;
