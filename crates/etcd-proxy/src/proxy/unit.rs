//! The built-in systemd unit.

use super::command::Parts;
use super::ProxySpec;

/// The unit's `Description=`.
pub(super) fn description(spec: &ProxySpec) -> String {
    format!("etcd {} for the etcd-proxy relation", spec.mode)
}

/// The `ExecStart=` value: every argument passed the safety check, so each is one word
/// that systemd neither splits nor expands, and joining with spaces is exact.
pub(super) fn exec_start_line(parts: &Parts) -> String {
    parts.exec_start.join(" ")
}

/// The unit file. `Type=notify`: gateway, grpc-proxy and the v2 proxy all tell systemd
/// when they are ready.
pub(super) fn builtin(spec: &ProxySpec, parts: &Parts) -> String {
    let mut unit = String::new();
    unit.push_str("# Rendered by etcd-proxy-relation; changes are overwritten.\n");
    unit.push_str("[Unit]\n");
    unit.push_str(&format!("Description={}\n", description(spec)));
    unit.push_str("Documentation=https://etcd.io/docs/\n");
    unit.push_str("After=network-online.target\n");
    unit.push_str("Wants=network-online.target\n\n");
    unit.push_str("[Service]\n");
    unit.push_str("Type=notify\n");
    if let Some(env_file) = &parts.env_file {
        // Checked by `command::build`: absolute, UTF-8, safe characters only.
        unit.push_str(&format!("EnvironmentFile={}\n", env_file.display()));
    }
    unit.push_str(&format!("ExecStart={}\n", exec_start_line(parts)));
    unit.push_str("Restart=always\n");
    unit.push_str("RestartSec=5s\n");
    unit.push_str("LimitNOFILE=65536\n");
    unit.push_str("NoNewPrivileges=yes\n\n");
    unit.push_str("[Install]\n");
    unit.push_str("WantedBy=multi-user.target\n");
    unit
}
