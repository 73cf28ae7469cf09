//! The charm's options (`charm/config.yaml`), read once per hook.

use std::net::SocketAddr;
use std::path::PathBuf;

use etcd_proxy::proxy::ProxyMode;
use juju_hooks::Config;

/// The options as the operator set them. Values that need parsing stay raw here, so that a
/// bad value becomes a `blocked` status ([`CharmConfig::proxy`]) rather than a failed hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharmConfig {
    /// `proxy-mode`.
    pub proxy_mode: String,
    /// `listen-address`.
    pub listen_address: String,
    /// `credentials-dir`.
    pub credentials_dir: PathBuf,
    /// `unit-file`.
    pub unit_file: PathBuf,
    /// `environment-file` (v2-proxy).
    pub environment_file: PathBuf,
    /// `data-dir` (v2-proxy).
    pub data_dir: PathBuf,
    /// `etcd-package`; empty installs nothing.
    pub etcd_package: String,
    /// `dry-run`: record machine changes instead of making them.
    pub dry_run: bool,
}

impl Default for CharmConfig {
    /// The defaults of `config.yaml`.
    fn default() -> Self {
        Self {
            proxy_mode: "gateway".into(),
            listen_address: "127.0.0.1:23790".into(),
            credentials_dir: "/etc/ssl/etcd".into(),
            unit_file: "/etc/systemd/system/etcd-proxy.service".into(),
            environment_file: "/etc/default/etcd-proxy".into(),
            data_dir: "/var/lib/etcd-proxy".into(),
            etcd_package: "etcd-server".into(),
            dry_run: false,
        }
    }
}

/// The proxy settings, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySettings {
    /// The proxy to run.
    pub mode: ProxyMode,
    /// Where it listens.
    pub listen: SocketAddr,
}

impl CharmConfig {
    /// Reads the options from `config-get` output; a missing option keeps its default (Juju
    /// always sends them all, tests need not).
    pub fn from_config(config: &Config) -> Self {
        let defaults = Self::default();
        let text = |name: &str, default: &str| -> String {
            match config.get(name) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) if !other.is_null() => other.to_string(),
                _ => default.to_owned(),
            }
        };
        let dry_run = match config.get("dry-run") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => defaults.dry_run,
        };
        Self {
            proxy_mode: text("proxy-mode", &defaults.proxy_mode),
            listen_address: text("listen-address", &defaults.listen_address),
            credentials_dir: text("credentials-dir", &path_text(&defaults.credentials_dir)).into(),
            unit_file: text("unit-file", &path_text(&defaults.unit_file)).into(),
            environment_file: text("environment-file", &path_text(&defaults.environment_file))
                .into(),
            data_dir: text("data-dir", &path_text(&defaults.data_dir)).into(),
            etcd_package: text("etcd-package", &defaults.etcd_package),
            dry_run,
        }
    }

    /// The proxy mode and listen address, or why they are unusable (one line for the status).
    ///
    /// # Errors
    /// An unknown mode, or a listen address that is not `IP:port`.
    pub fn proxy(&self) -> Result<ProxySettings, String> {
        let mode = self.proxy_mode.parse::<ProxyMode>().map_err(|_| {
            format!(
                "config proxy-mode {:?}: expected gateway, grpc-proxy or v2-proxy",
                self.proxy_mode
            )
        })?;
        let listen = self.listen_address.parse::<SocketAddr>().map_err(|_| {
            format!(
                "config listen-address {:?}: expected IP:port, e.g. 127.0.0.1:23790",
                self.listen_address
            )
        })?;
        Ok(ProxySettings { mode, listen })
    }
}

fn path_text(path: &std::path::Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, serde_json::Value)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn missing_options_take_the_config_yaml_defaults() {
        let parsed = CharmConfig::from_config(&Config::new());
        assert_eq!(parsed, CharmConfig::default());
        let proxy = parsed.proxy().unwrap();
        assert_eq!(proxy.mode, ProxyMode::Gateway);
        assert_eq!(proxy.listen.to_string(), "127.0.0.1:23790");
    }

    #[test]
    fn options_are_read_with_their_types() {
        let parsed = CharmConfig::from_config(&config(&[
            ("proxy-mode", "grpc-proxy".into()),
            ("listen-address", "127.0.0.2:2000".into()),
            ("credentials-dir", "/srv/creds".into()),
            ("dry-run", true.into()),
            ("etcd-package", "".into()),
        ]));
        assert_eq!(parsed.proxy().unwrap().mode, ProxyMode::GrpcProxy);
        assert_eq!(parsed.credentials_dir, PathBuf::from("/srv/creds"));
        assert!(parsed.dry_run);
        assert_eq!(parsed.etcd_package, "");
    }

    #[test]
    fn bad_values_are_one_line_reasons_naming_the_option() {
        let bad_mode = CharmConfig::from_config(&config(&[("proxy-mode", "socks".into())]));
        let reason = bad_mode.proxy().unwrap_err();
        assert!(
            reason.contains("proxy-mode") && reason.contains("socks"),
            "{reason}"
        );
        let bad_listen = CharmConfig::from_config(&config(&[("listen-address", "local".into())]));
        let reason = bad_listen.proxy().unwrap_err();
        assert!(reason.contains("listen-address"), "{reason}");
        assert!(!reason.contains('\n'));
    }
}
