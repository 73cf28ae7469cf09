"""The example ops provider (examples/ops-provider, EtcdProxyProvider) on the emulator, next
to the bash requirer (the CLI) and the ops requirer (examples/ops-requirer), both at once:
wire version 1 under Juju 2.9 (raw keys in the unit databag, no secret tool called) and
version 2 under Juju 3.6 (one secret granted per relation, no key in any databag, the grant
revoked when a relation breaks, the secret removed with the last one); with etcd installed,
a put and a get through the gateway the ops requirer rendered. Needs the CLI binary (the
cargo test wrapper passes ETCD_PROXY_RELATION_BIN)."""

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Dict, List

from conftest import CLUSTER
from test_emulator import ROOT, charm_copy, emulator, etcd_member, unit_line  # noqa: F401

# Juju 2.9 has no secrets: the library and the CLI read the agent version from JUJU_VERSION.
JUJU_29 = "2.9.46"


def as_juju(charm: Path, version: str) -> Path:
    """The charm's dispatch run with JUJU_VERSION=version, as a Juju 2.9 agent would set it
    (the emulator reports 3.6)."""
    real = charm / "dispatch.real"
    (charm / "dispatch").rename(real)
    (charm / "dispatch").write_text('#!/bin/sh\nJUJU_VERSION={} exec "$JUJU_CHARM_DIR/dispatch.real"\n'.format(version))
    (charm / "dispatch").chmod(0o755)
    return charm


def tls_dir(tmp_path: Path, pki: Dict[str, str]) -> Path:
    tls = tmp_path / "tls"
    tls.mkdir()
    (tls / "ca.pem").write_text(pki["ca"])
    (tls / "client.pem").write_text(pki["cert"])
    (tls / "client-key.pem").write_text(pki["key"])
    return tls


def deploy_three(run, tmp_path: Path, juju: str = "") -> Dict[str, Path]:
    """The ops provider `etcd`, the bash requirer `bash` and the ops requirer `ops`, each
    requirer with its own output directory; nothing related yet."""
    charms = {
        "etcd": charm_copy(ROOT / "examples" / "ops-provider", tmp_path / "etcd", venv=True),
        "bash": charm_copy(ROOT / "examples" / "bash-requirer", tmp_path / "bash", venv=False),
        "ops": charm_copy(ROOT / "examples" / "ops-requirer", tmp_path / "ops", venv=True),
    }
    if juju:
        for charm in charms.values():
            as_juju(charm, juju)
    run("deploy", str(charms["etcd"]), "etcd")
    outs = {}
    for app in ("bash", "ops"):
        out = tmp_path / "out-{}".format(app)
        outs[app] = out
        run("deploy", "--no-settle", str(charms[app]), app)
        options = ["credentials-dir={}".format(out / "ssl"), "unit-file={}".format(out / "etcd-proxy.service")]
        if app == "bash":
            options.append("manage-service=false")
        run("config", app, *options)
    return outs


def assert_active_with_files(run, outs: Dict[str, Path], pki: Dict[str, str], key: str = "key") -> None:
    status = run("status").stdout
    for app, out in outs.items():
        assert "active" in unit_line(status, app + "/0"), status
        saved = out / "ssl" / "client-key.pem"
        assert saved.read_text() == pki[key], app
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600, app
        assert (out / "ssl" / "client-ca.pem").read_text() == pki["ca"], app
        unit = (out / "etcd-proxy.service").read_text()
        assert "gateway start" in unit and "10.0.0.1:2379" in unit, app


def calls(run, unit: str) -> List[str]:
    """The hook-tool command lines `unit` ran (the last column of `emulator calls`)."""
    return [line for line in run("calls", "--unit", unit).stdout.splitlines() if line.strip()]


def secrets(run) -> Dict[str, dict]:
    """The model's secrets (uri -> record) from `emulator show`."""
    found: Dict[str, dict] = {}

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict) and "revisions" in v and "owner" in v:
                    found[k] = v
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(run("show").stdout))
    return found


def test_ops_provider_wire_v1_on_juju_29(emulator, tmp_path, pki):
    """Juju 2.9: neither requirer asks for version 2; the provider writes the raw keys in
    its unit databag, as the 2016 layer did, and calls no secret tool."""
    run = emulator
    outs = deploy_three(run, tmp_path, juju=JUJU_29)
    run("relate", "etcd", "bash")
    run("relate", "etcd", "ops")
    run("config", "etcd", "cluster=" + CLUSTER, "tls-dir={}".format(tls_dir(tmp_path, pki)))
    assert_active_with_files(run, outs, pki)
    assert "active" in unit_line(run("status").stdout, "etcd/0")
    bags = run("databags", "--show-secrets").stdout
    assert "wire_version" not in bags and "client_credentials_secret" not in bags, bags
    assert bags.count("BEGIN PRIVATE KEY") == 2, "the raw key in etcd/0's bag of each relation"
    assert not [c for c in calls(run, "etcd/0") if " secret-" in c], "no secret tool on Juju 2.9"
    assert secrets(run) == {}
    # The ops requirer's relation goes; the bash requirer's stays as it was.
    run("unrelate", "1")
    status = run("status").stdout
    assert "waiting" in unit_line(status, "ops/0") and "active" in unit_line(status, "bash/0"), status
    assert run("databags", "--show-secrets").stdout.count("BEGIN PRIVATE KEY") == 1


def test_ops_provider_wire_v2_on_juju_36_grants_and_revokes(emulator, tmp_path, pki):
    """Juju 3.6: both requirers' leaders write wire_version=2; the provider's leader answers
    in the application databag with one secret granted to each relation; no key in any
    databag. Rotation is one new revision; a broken relation loses its grant; the last one
    takes the secret with it."""
    run = emulator
    outs = deploy_three(run, tmp_path)
    run("relate", "etcd", "bash")
    run("relate", "etcd", "ops")
    run("config", "etcd", "cluster=" + CLUSTER, "tls-dir={}".format(tls_dir(tmp_path, pki)))
    assert_active_with_files(run, outs, pki)
    bags = run("databags", "--show-secrets").stdout
    assert "PRIVATE KEY" not in bags and "redacted" not in bags, "no key in any databag"
    assert bags.count("wire_version: 2") == 2 and bags.count("client_credentials_secret") == 2, bags
    [(uri, record)] = secrets(run).items()
    assert record["owner"] == {"application": "etcd"}, record["owner"]
    assert record["grants"] == {"0": [{"application": "bash"}], "1": [{"application": "ops"}]}, record["grants"]
    assert bags.count(uri) == 2, "the same secret on both relations"
    # Rotation: new files in the provider's directory, one config-changed, one revision.
    tls = tmp_path / "tls"
    (tls / "client.pem").write_text(pki["cert2"])
    (tls / "client-key.pem").write_text(pki["key2"])
    run("config", "etcd", "cluster=" + CLUSTER + ",etcd2=https://10.0.0.3:2380")
    assert_active_with_files(run, outs, pki, key="key2")
    record = secrets(run)[uri]
    assert record["latest"] == 2, record
    assert "PRIVATE KEY" not in run("databags", "--show-secrets").stdout
    # The ops requirer's relation breaks: its grant is revoked, the bash requirer keeps its own.
    run("unrelate", "1")
    record = secrets(run)[uri]
    assert record["grants"] == {"0": [{"application": "bash"}]}, record["grants"]
    assert any(" secret-revoke " in c for c in calls(run, "etcd/0")), "revoked by the provider"
    status = run("status").stdout
    assert "waiting" in unit_line(status, "ops/0") and "active" in unit_line(status, "bash/0"), status
    # The last relation breaks: no relation uses the secret, it is removed.
    run("unrelate", "0")
    assert secrets(run) == {}
    assert "waiting" in unit_line(run("status").stdout, "bash/0")


def test_ops_provider_to_ops_requirer_serves_put_and_get(emulator, etcd_member, tmp_path, pki):
    """Version 2 against a real TLS etcd member: the gateway started from the unit the ops
    requirer rendered, with the credentials it read from the provider's secret, serves a put
    and a get."""
    run = emulator
    d = Path(pki["dir"])
    tls = tmp_path / "tls"
    tls.mkdir()
    shutil.copy(d / "ca.pem", tls / "ca.pem")
    shutil.copy(d / "client.pem", tls / "client.pem")
    shutil.copy(d / "client-key.pem", tls / "client-key.pem")
    etcd = charm_copy(ROOT / "examples" / "ops-provider", tmp_path / "etcd", venv=True)
    kube = charm_copy(ROOT / "examples" / "ops-requirer", tmp_path / "kube", venv=True)
    out = tmp_path / "out"
    from test_emulator import free_port

    listen = "127.0.0.1:{}".format(free_port())
    run("deploy", str(etcd), "etcd")
    run("deploy", "--no-settle", str(kube), "kube")
    run(
        "config", "kube", "credentials-dir={}".format(out / "ssl"),
        "unit-file={}".format(out / "etcd-proxy.service"), "listen-address=" + listen,
    )
    run("relate", "etcd", "kube")
    run("config", "etcd", "cluster=" + etcd_member["cluster"], "tls-dir={}".format(tls))
    status = run("status").stdout
    assert "active" in unit_line(status, "kube/0"), status
    assert "client_credentials_secret" in run("databags").stdout, "wire version 2"
    unit = (out / "etcd-proxy.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert etcd_member["client_url"].split("//")[1] in exec_start, "client URL from the member list"
    argv = exec_start[len("ExecStart="):].split(" ")
    argv[0] = shutil.which(os.environ.get("ETCD_BIN", "etcd")) or argv[0]
    gateway = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ssl = out / "ssl"
        ctl = [
            etcd_member["etcdctl"], "--endpoints=https://" + listen, "--cacert", str(ssl / "client-ca.pem"),
            "--cert", str(ssl / "client-cert.pem"), "--key", str(ssl / "client-key.pem"),
            "--dial-timeout=2s", "--command-timeout=5s",
        ]
        env = {"PATH": os.environ.get("PATH", ""), "ETCDCTL_API": "3"}
        deadline = time.monotonic() + 30
        while True:
            put = subprocess.run(ctl + ["put", "provider-key", "v2"], capture_output=True, text=True, env=env)
            if put.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert put.returncode == 0, put.stderr
        got = subprocess.run(ctl + ["get", "provider-key", "--print-value-only"], capture_output=True, text=True, env=env)
        assert got.stdout.strip() == "v2", got.stderr
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)


def test_ops_provider_refuses_invalid_credentials(emulator, tmp_path, pki):
    """A key that does not match the certificate: the provider is blocked with the core's
    one-line reason (no key in it), publishes nothing, and the requirer keeps waiting; fixed,
    everything is published."""
    run = emulator
    outs = deploy_three(run, tmp_path)
    run("relate", "etcd", "ops")
    tls = tls_dir(tmp_path, pki)
    (tls / "client-key.pem").write_text(pki["key2"])
    run("config", "etcd", "cluster=" + CLUSTER, "tls-dir={}".format(tls))
    status = run("status").stdout
    line = unit_line(status, "etcd/0")
    assert "blocked" in line and "client_key: private key does not match client_cert" in line, status
    assert "PRIVATE KEY" not in run("logs", "--show-secrets").stdout, "no key in any log"
    assert "waiting" in unit_line(status, "ops/0"), status
    bags = run("databags", "--show-secrets").stdout
    assert "cluster:" not in bags and "client_" not in bags, bags
    assert secrets(run) == {}
    (tls / "client-key.pem").write_text(pki["key"])
    run("config", "etcd", "cluster=" + CLUSTER + ",etcd2=https://10.0.0.3:2380")
    assert_active_with_files(run, {"ops": outs["ops"]}, pki)
