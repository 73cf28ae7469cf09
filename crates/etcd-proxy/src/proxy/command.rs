//! The command line and environment of each mode, and the last safety check on every value.

use std::path::{Path, PathBuf};

use super::{v2_sticky_cluster_file, ProxyMode, ProxySpec, RenderError, RenderedProxy};

/// What every unit is made of, before it becomes text.
pub(super) struct Parts {
    pub(super) exec_start: Vec<String>,
    pub(super) environment: Vec<(String, String)>,
    pub(super) env_file: Option<PathBuf>,
    pub(super) clear_on_change: Vec<PathBuf>,
}

impl Parts {
    pub(super) fn into_rendered(self, spec: &ProxySpec, unit_file: String) -> RenderedProxy {
        let env_file = self.env_file.map(|path| {
            let mut text =
                String::from("# Rendered by etcd-proxy-relation; changes are overwritten.\n");
            for (name, value) in &self.environment {
                text.push_str(&format!("{name}={value}\n"));
            }
            (path, text)
        });
        RenderedProxy {
            mode: spec.mode,
            unit_file,
            env_file,
            exec_start: self.exec_start,
            environment: self.environment,
            clear_on_change: self.clear_on_change,
        }
    }
}

/// Checks `spec` and builds the argv and environment of its mode.
pub(super) fn build(spec: &ProxySpec) -> Result<Parts, RenderError> {
    let etcd = path_value("etcd binary", &spec.etcd_bin)?;
    // Checked in every mode: templates may use them all.
    path_value("CA certificate path", &spec.credentials.ca)?;
    path_value("client certificate path", &spec.credentials.cert)?;
    path_value("client key path", &spec.credentials.key)?;
    path_value("data directory", &spec.data_dir)?;
    let listen = spec.listen.to_string();
    if spec.mode != ProxyMode::Gateway && !spec.listen.ip().is_loopback() {
        return Err(RenderError::NotLoopback {
            mode: spec.mode,
            addr: spec.listen,
        });
    }
    let parts = match spec.mode {
        ProxyMode::Gateway => {
            let endpoints = joined_endpoints(spec, |url| url.host_port())?;
            Parts {
                exec_start: vec![
                    etcd,
                    "gateway".into(),
                    "start".into(),
                    format!("--endpoints={endpoints}"),
                    format!("--listen-addr={listen}"),
                ],
                environment: Vec::new(),
                env_file: None,
                clear_on_change: Vec::new(),
            }
        }
        ProxyMode::GrpcProxy => {
            if spec.client_cert_has_common_name {
                return Err(RenderError::CommonNameForGrpcProxy);
            }
            let endpoints = joined_endpoints(spec, |url| url.to_string())?;
            let creds = &spec.credentials;
            Parts {
                exec_start: vec![
                    etcd,
                    "grpc-proxy".into(),
                    "start".into(),
                    format!("--endpoints={endpoints}"),
                    format!("--listen-addr={listen}"),
                    format!("--advertise-client-url={listen}"),
                    format!(
                        "--cert={}",
                        path_value("client certificate path", &creds.cert)?
                    ),
                    format!("--key={}", path_value("client key path", &creds.key)?),
                    format!("--cacert={}", path_value("CA certificate path", &creds.ca)?),
                ],
                environment: Vec::new(),
                env_file: None,
                clear_on_change: Vec::new(),
            }
        }
        ProxyMode::V2Proxy => {
            if let Some(version) = spec.etcd_version.filter(|v| !v.has_v2_proxy()) {
                return Err(RenderError::V2ProxyRemoved(version));
            }
            let env_file = spec.env_file.clone().ok_or(RenderError::MissingEnvFile)?;
            path_value("environment file path", &env_file)?;
            let creds = &spec.credentials;
            let environment = vec![
                ("ETCD_PROXY".into(), "on".into()),
                (
                    "ETCD_DATA_DIR".into(),
                    path_value("data directory", &spec.data_dir)?,
                ),
                ("ETCD_INITIAL_CLUSTER".into(), spec.cluster.to_string()),
                ("ETCD_LISTEN_CLIENT_URLS".into(), format!("http://{listen}")),
                (
                    "ETCD_PEER_CERT_FILE".into(),
                    path_value("client certificate path", &creds.cert)?,
                ),
                (
                    "ETCD_PEER_KEY_FILE".into(),
                    path_value("client key path", &creds.key)?,
                ),
                (
                    "ETCD_PEER_TRUSTED_CA_FILE".into(),
                    path_value("CA certificate path", &creds.ca)?,
                ),
            ];
            Parts {
                exec_start: vec![etcd],
                environment,
                env_file: Some(env_file),
                clear_on_change: vec![v2_sticky_cluster_file(&spec.data_dir)],
            }
        }
    };
    for (i, arg) in parts.exec_start.iter().enumerate() {
        check_value(&format!("command argument {i}"), arg)?;
    }
    for (name, value) in &parts.environment {
        check_value(name, value)?;
    }
    Ok(parts)
}

fn joined_endpoints(
    spec: &ProxySpec,
    form: impl Fn(&crate::cluster::EtcdUrl) -> String,
) -> Result<String, RenderError> {
    if spec.endpoints.is_empty() {
        return Err(RenderError::NoEndpoints(spec.mode));
    }
    Ok(spec
        .endpoints
        .iter()
        .map(form)
        .collect::<Vec<_>>()
        .join(","))
}

/// An absolute, UTF-8, safe path as text.
fn path_value(what: &'static str, path: &Path) -> Result<String, RenderError> {
    if !path.is_absolute() {
        return Err(RenderError::RelativePath { what });
    }
    let text = path.to_str().ok_or_else(|| RenderError::UnsafeValue {
        what: what.into(),
        found: "non-UTF-8 bytes".into(),
    })?;
    check_value(what, text)?;
    Ok(text.to_owned())
}

/// Whether `c` may appear in a rendered value: not whitespace, not a control character, and
/// none of `" ' \ $ % ; ``.
pub(super) fn is_safe_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '$' | '%' | ';' | '`'))
}

/// Defence in depth: fails if `value` is empty or holds a character that is not
/// [`is_safe_char`].
pub(super) fn check_value(what: &str, value: &str) -> Result<(), RenderError> {
    if value.is_empty() {
        return Err(RenderError::UnsafeValue {
            what: what.into(),
            found: "empty value".into(),
        });
    }
    match value.chars().find(|c| !is_safe_char(*c)) {
        None => Ok(()),
        Some(c) => Err(RenderError::UnsafeValue {
            what: what.into(),
            found: c.escape_debug().collect(),
        }),
    }
}
