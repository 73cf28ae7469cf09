use std::path::PathBuf;

use proptest::prelude::*;

use super::*;

fn spec(mode: ProxyMode) -> ProxySpec {
    let endpoints = ["https://10.0.0.2:2379", "https://10.0.0.1:2379"]
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
    let cluster = "etcd1=https://10.0.0.2:2380,etcd0=https://10.0.0.1:2380"
        .parse()
        .unwrap();
    let creds = CredentialPaths {
        ca: "/etc/etcd-proxy/client-ca.pem".into(),
        cert: "/etc/etcd-proxy/client-cert.pem".into(),
        key: "/etc/etcd-proxy/client-key.pem".into(),
    };
    let mut spec = ProxySpec::new(mode, endpoints, cluster, creds, false);
    if mode == ProxyMode::V2Proxy {
        spec.env_file = Some("/etc/default/etcd-proxy".into());
    }
    spec
}

#[test]
fn gateway_unit_is_exactly_this() {
    let rendered = render(&spec(ProxyMode::Gateway)).unwrap();
    assert_eq!(
        rendered.unit_file,
        "# Rendered by etcd-proxy-relation; changes are overwritten.
[Unit]
Description=etcd gateway for the etcd-proxy relation
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
ExecStart=/usr/bin/etcd gateway start --endpoints=10.0.0.2:2379,10.0.0.1:2379 --listen-addr=127.0.0.1:23790
Restart=always
RestartSec=5s
LimitNOFILE=65536
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
"
    );
    assert_eq!(rendered.exec_start.len(), 5);
    assert_eq!(rendered.env_file, None);
    assert!(rendered.clear_on_change.is_empty());
}

#[test]
fn grpc_proxy_passes_the_credentials_and_advertises_its_listen_address() {
    let mut spec = spec(ProxyMode::GrpcProxy);
    spec.listen = "127.0.0.1:4000".parse().unwrap();
    let rendered = render(&spec).unwrap();
    assert_eq!(
        rendered.exec_start,
        [
            "/usr/bin/etcd",
            "grpc-proxy",
            "start",
            "--endpoints=https://10.0.0.2:2379,https://10.0.0.1:2379",
            "--listen-addr=127.0.0.1:4000",
            "--advertise-client-url=127.0.0.1:4000",
            "--cert=/etc/etcd-proxy/client-cert.pem",
            "--key=/etc/etcd-proxy/client-key.pem",
            "--cacert=/etc/etcd-proxy/client-ca.pem",
        ]
    );
    assert!(rendered
        .unit_file
        .contains(&format!("ExecStart={}\n", rendered.exec_start.join(" "))));
}

#[test]
fn grpc_proxy_refuses_a_certificate_with_a_common_name() {
    let mut spec = spec(ProxyMode::GrpcProxy);
    spec.client_cert_has_common_name = true;
    let err = render(&spec).unwrap_err();
    assert!(matches!(err, RenderError::CommonNameForGrpcProxy));
    assert!(err.to_string().contains("common name"));
    // The gateway does not care.
    spec.mode = ProxyMode::Gateway;
    assert!(render(&spec).is_ok());
}

#[test]
fn v2_proxy_is_configured_through_its_environment_file() {
    let rendered = render(&spec(ProxyMode::V2Proxy)).unwrap();
    assert_eq!(rendered.exec_start, ["/usr/bin/etcd"]);
    let (path, text) = rendered.env_file.clone().unwrap();
    assert_eq!(path, PathBuf::from("/etc/default/etcd-proxy"));
    assert_eq!(
        text,
        "# Rendered by etcd-proxy-relation; changes are overwritten.
ETCD_PROXY=on
ETCD_DATA_DIR=/var/lib/etcd-proxy
ETCD_INITIAL_CLUSTER=etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380
ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:23790
ETCD_PEER_CERT_FILE=/etc/etcd-proxy/client-cert.pem
ETCD_PEER_KEY_FILE=/etc/etcd-proxy/client-key.pem
ETCD_PEER_TRUSTED_CA_FILE=/etc/etcd-proxy/client-ca.pem
"
    );
    assert!(rendered
        .unit_file
        .contains("EnvironmentFile=/etc/default/etcd-proxy\nExecStart=/usr/bin/etcd\n"));
    assert_eq!(
        rendered.clear_on_change,
        [PathBuf::from("/var/lib/etcd-proxy/proxy/cluster")]
    );
    let mut no_env = spec(ProxyMode::V2Proxy);
    no_env.env_file = None;
    assert!(matches!(render(&no_env), Err(RenderError::MissingEnvFile)));
}

#[test]
fn v2_proxy_is_refused_on_etcd_3_6() {
    let v = |text: &str| EtcdVersion::parse(text).unwrap();
    let debian = "etcd Version: 3.4.23\nGit SHA: Not provided\nGo Version: go1.19.8\n";
    assert_eq!(v(debian), EtcdVersion { major: 3, minor: 4 });
    assert!(v(debian).has_v2_proxy());
    assert!(v("etcd Version: 3.5.1\n").has_v2_proxy());
    assert!(!v("etcd Version: 3.6.0\n").has_v2_proxy());
    assert_eq!(EtcdVersion::parse("etcd: unknown flag"), None);

    let mut spec = spec(ProxyMode::V2Proxy);
    spec.etcd_version = Some(v("etcd Version: 3.6.14"));
    let err = render(&spec).unwrap_err();
    assert!(matches!(err, RenderError::V2ProxyRemoved(_)), "{err:?}");
    assert!(err.to_string().contains("3.6"));
    // The other modes work on 3.6.
    spec.mode = ProxyMode::Gateway;
    assert!(render(&spec).is_ok());
    spec.mode = ProxyMode::V2Proxy;
    spec.etcd_version = Some(v("etcd Version: 3.5.21"));
    assert!(render(&spec).is_ok());
}

#[test]
fn systemctl_failures_keep_the_command_and_its_stderr() {
    assert!(Systemctl::with_program("/bin/true").daemon_reload().is_ok());
    let err = Systemctl::with_program("/bin/false")
        .restart("x.service")
        .unwrap_err();
    assert!(matches!(err, ServiceError::Failed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/bin/false restart x.service"),
        "{err}"
    );
    let err = Systemctl::with_program("/nonexistent/systemctl")
        .enable("x.service")
        .unwrap_err();
    assert!(matches!(err, ServiceError::Spawn { .. }), "{err:?}");
}

#[test]
fn plaintext_modes_listen_on_loopback_only() {
    for mode in [ProxyMode::GrpcProxy, ProxyMode::V2Proxy] {
        let mut spec = spec(mode);
        spec.listen = "0.0.0.0:23790".parse().unwrap();
        assert!(
            matches!(render(&spec), Err(RenderError::NotLoopback { .. })),
            "{mode}"
        );
        spec.listen = "[::1]:23790".parse().unwrap();
        assert!(render(&spec).is_ok(), "{mode}");
    }
    let mut gateway = spec(ProxyMode::Gateway);
    gateway.listen = "10.1.2.3:23790".parse().unwrap();
    assert!(render(&gateway).is_ok());
}

#[test]
fn no_endpoints_and_relative_paths_are_refused() {
    let mut spec = spec(ProxyMode::Gateway);
    spec.endpoints.clear();
    assert!(matches!(
        render(&spec),
        Err(RenderError::NoEndpoints(ProxyMode::Gateway))
    ));
    let mut spec = self::spec(ProxyMode::Gateway);
    spec.etcd_bin = "etcd".into();
    assert!(matches!(
        render(&spec),
        Err(RenderError::RelativePath { .. })
    ));
}

#[test]
fn a_path_that_could_break_out_is_refused() {
    for bad in [
        "/etc/x\nExecStartPre=/bin/sh",
        "/etc/x y",
        "/etc/$HOME",
        "/etc/%h",
        "/etc/\"q\"",
        "/etc/'q'",
        "/etc/a\\b",
        "/etc/a;b",
        "/etc/a`b`",
        "/etc/a\u{2028}b",
    ] {
        for mode in [ProxyMode::Gateway, ProxyMode::GrpcProxy, ProxyMode::V2Proxy] {
            let mut spec = spec(mode);
            spec.credentials.key = bad.into();
            let err = render(&spec).unwrap_err();
            assert!(
                matches!(err, RenderError::UnsafeValue { .. }),
                "{bad:?} {mode}: {err:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
    }
}

#[test]
fn modes_parse_and_print() {
    for mode in [ProxyMode::Gateway, ProxyMode::GrpcProxy, ProxyMode::V2Proxy] {
        assert_eq!(mode.as_str().parse::<ProxyMode>().unwrap(), mode);
    }
    assert!("v3-proxy".parse::<ProxyMode>().is_err());
    assert_eq!(ProxyMode::default(), ProxyMode::Gateway);
}

#[test]
fn a_user_template_sees_the_documented_variables() {
    let template = "[Service]
# {{ mode }} on {{ listen_addr }} ({{ description }})
ExecStart={{ exec_start_line }}
{% for e in endpoints %}# endpoint {{ e }}
{% endfor %}# {{ endpoints_joined }} {{ exec_start | length }}
# {{ ca_file }} {{ cert_file }} {{ key_file }} {{ cluster }} {{ etcd_bin }} {{ data_dir }}
{% if env_file %}EnvironmentFile={{ env_file }}
{% endif %}{% for pair in environment %}# {{ pair[0] }}={{ pair[1] }}
{% endfor %}";
    let rendered = render_with_template(&spec(ProxyMode::V2Proxy), template).unwrap();
    let unit = &rendered.unit_file;
    assert!(unit.starts_with("[Service]\n# v2-proxy on 127.0.0.1:23790 (etcd v2-proxy for"));
    assert!(unit.contains("ExecStart=/usr/bin/etcd\n"));
    assert!(unit.contains("# endpoint https://10.0.0.2:2379\n# endpoint https://10.0.0.1:2379\n"));
    assert!(unit.contains("# https://10.0.0.2:2379,https://10.0.0.1:2379 1\n"));
    assert!(unit.contains("/etc/etcd-proxy/client-key.pem etcd0=https://10.0.0.1:2380,"));
    assert!(unit.contains("EnvironmentFile=/etc/default/etcd-proxy\n"));
    assert!(unit.contains("# ETCD_PROXY=on\n"));
    assert!(unit.ends_with("# ETCD_PEER_TRUSTED_CA_FILE=/etc/etcd-proxy/client-ca.pem\n"));
    // The built-in environment file is still there.
    assert!(rendered.env_file.is_some());
}

#[test]
fn a_template_with_an_unknown_variable_or_bad_syntax_fails() {
    let spec = spec(ProxyMode::Gateway);
    let err = render_with_template(&spec, "ExecStart={{ exec_start_lien }}\n").unwrap_err();
    assert!(matches!(err, RenderError::Template(_)), "{err:?}");
    let err = render_with_template(&spec, "{% if %}").unwrap_err();
    assert!(matches!(err, RenderError::Template(_)), "{err:?}");
    assert!(!err.to_string().contains('\n'));
}

#[test]
fn install_writes_on_change_only_and_clears_the_sticky_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(ProxyMode::V2Proxy);
    spec.env_file = Some(dir.path().join("default/etcd-proxy"));
    spec.data_dir = dir.path().join("data");
    let unit_path = dir.path().join("system/etcd-proxy.service");
    let sticky = v2_sticky_cluster_file(&spec.data_dir);
    let mut manager = RecordingServiceManager::default();

    let rendered = render(&spec).unwrap();
    let changed = install(&rendered, &unit_path).unwrap();
    assert!(changed);
    assert!(restart_if_changed(changed, &unit_path, &mut manager).unwrap());
    assert_eq!(
        manager.calls,
        [
            ServiceCall::DaemonReload,
            ServiceCall::Enable("etcd-proxy.service".into()),
            ServiceCall::Restart("etcd-proxy.service".into()),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&unit_path).unwrap(),
        rendered.unit_file
    );

    // The proxy wrote its sticky member list; nothing changes: nothing is touched.
    std::fs::create_dir_all(sticky.parent().unwrap()).unwrap();
    std::fs::write(&sticky, "stale").unwrap();
    let changed = install(&rendered, &unit_path).unwrap();
    assert!(!changed);
    assert!(!restart_if_changed(changed, &unit_path, &mut manager).unwrap());
    assert_eq!(manager.calls.len(), 3);
    assert!(sticky.exists());

    // A new cluster string: the environment file changes and the sticky file goes.
    spec.cluster = "etcd9=https://10.0.0.9:2380".parse().unwrap();
    let changed = install(&render(&spec).unwrap(), &unit_path).unwrap();
    assert!(changed);
    assert!(!sticky.exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&unit_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[test]
fn a_unit_path_must_name_a_service() {
    let mut manager = RecordingServiceManager::default();
    for bad in [
        "/etc/systemd/system/etcd-proxy",
        "/etc/systemd/system/-x.service",
        "/",
    ] {
        let err = restart_if_changed(true, std::path::Path::new(bad), &mut manager);
        assert!(
            matches!(err, Err(ServiceError::InvalidUnitName(_))),
            "{bad}"
        );
    }
    assert!(manager.calls.is_empty());
}

proptest! {
    /// Whatever a path holds, rendering either refuses it or yields files with the same
    /// line structure as a clean path does: nothing can add a line or an argument.
    #[test]
    fn no_path_changes_the_shape_of_the_files(tail in any::<String>(), mode_index in 0usize..3) {
        let mode = [ProxyMode::Gateway, ProxyMode::GrpcProxy, ProxyMode::V2Proxy][mode_index];
        let clean = render(&spec(mode)).unwrap();
        let mut spec = spec(mode);
        spec.credentials.cert = PathBuf::from(format!("/etc/{tail}"));
        if let Ok(rendered) = render(&spec) {
            prop_assert_eq!(rendered.unit_file.lines().count(), clean.unit_file.lines().count());
            prop_assert_eq!(rendered.exec_start.len(), clean.exec_start.len());
            if let (Some((_, a)), Some((_, b))) = (&rendered.env_file, &clean.env_file) {
                prop_assert_eq!(a.lines().count(), b.lines().count());
            }
            for arg in &rendered.exec_start {
                prop_assert!(arg.chars().all(command::is_safe_char));
            }
        }
    }
}

#[test]
fn systemctl_is_run_by_its_full_path() {
    let program = Systemctl::default().program().to_owned();
    assert!(program.is_absolute(), "{}", program.display());
    assert!(program.ends_with("systemctl"));
}

#[test]
fn a_fifo_at_the_environment_file_is_replaced_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(ProxyMode::V2Proxy);
    let env = dir.path().join("etcd-proxy.env");
    spec.env_file = Some(env.clone());
    spec.data_dir = dir.path().join("data");
    let made = std::process::Command::new("mkfifo")
        .arg(&env)
        .status()
        .unwrap();
    assert!(made.success());
    let rendered = render(&spec).unwrap();
    assert!(install(&rendered, &dir.path().join("etcd-proxy.service")).unwrap());
    assert!(std::fs::symlink_metadata(&env).unwrap().is_file());
}
