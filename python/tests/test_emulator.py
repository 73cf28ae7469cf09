"""The example ops requirer (examples/ops-requirer) on the emulator, next to the bash
provider (examples/bash-provider): related, active, credentials saved (key 0600), the
gateway unit rendered; unrelated: waiting again. Needs the CLI binary (the cargo test
wrapper passes ETCD_PROXY_RELATION_BIN)."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLUSTER

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ETCD_PROXY_RELATION_BIN")


@pytest.fixture
def emulator(tmp_path):
    if not BIN:
        if os.environ.get("CI"):
            pytest.fail("ETCD_PROXY_RELATION_BIN is not set under CI")
        print("SKIPPED: emulator tests: ETCD_PROXY_RELATION_BIN is not set", file=sys.stderr)
        pytest.skip("ETCD_PROXY_RELATION_BIN is not set")
    env = dict(os.environ, JUJU_EMULATOR_DIR=str(tmp_path / "model"))

    def run(*args, check=True):
        done = subprocess.run([BIN, "emulator", *args], env=env, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError("emulator {} failed:\n{}\n{}".format(args, done.stdout, done.stderr))
        return done

    run("create")
    return run


def charm_copy(source: Path, target: Path, venv: bool) -> Path:
    # Symlinks followed: the reactive examples link the interface layer in, as `charm build`
    # would copy it.
    shutil.copytree(source, target)
    (target / "bin").mkdir(exist_ok=True)
    os.symlink(BIN, target / "bin" / "etcd-proxy-relation")
    if venv:
        # The charm's python: the virtualenv running this test, with the package installed.
        os.symlink(sys.prefix, target / "venv")
    if (target / "reactive").is_dir():
        # charmhelpers refuses any OS but Ubuntu/CentOS by name; a Juju machine is Ubuntu,
        # this test machine may be Debian.
        (target / "lib").mkdir(exist_ok=True)
        (target / "lib" / "sitecustomize.py").write_text(
            "import charmhelpers.osplatform as p\np.get_platform = lambda: 'ubuntu'\n"
        )
    return target


def unit_status(run, unit):
    model = json.loads(run("show").stdout)
    text = json.dumps(model)
    assert unit in text
    return model


def test_ops_requirer_next_to_the_bash_provider(emulator, tmp_path, pki):
    run = emulator
    etcd = charm_copy(ROOT / "examples" / "bash-provider", tmp_path / "etcd", venv=False)
    kube = charm_copy(ROOT / "examples" / "ops-requirer", tmp_path / "kube", venv=True)
    tls = tmp_path / "tls"
    tls.mkdir()
    (tls / "ca.pem").write_text(pki["ca"])
    (tls / "client.pem").write_text(pki["cert"])
    (tls / "client-key.pem").write_text(pki["key"])
    out = tmp_path / "out"
    run("deploy", str(etcd), "etcd")
    run("deploy", "--no-settle", str(kube), "kube")
    run("config", "kube", "credentials-dir={}".format(out / "ssl"), "unit-file={}".format(out / "etcd-proxy.service"))
    run("relate", "etcd", "kube")
    run("config", "etcd", "cluster=" + CLUSTER, "tls-dir={}".format(tls))
    status = run("status").stdout
    assert "kube/0" in status and "active" in status.split("kube/0", 1)[1].splitlines()[0], status
    key = out / "ssl" / "client-key.pem"
    assert key.read_text() == pki["key"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    unit = (out / "etcd-proxy.service").read_text()
    assert "gateway start" in unit and "10.0.0.1:2379" in unit
    # The leader asked for wire version 2 (the bash provider answers in version 1).
    bags = run("databags").stdout
    assert "wire_version" in bags
    run("unrelate", "0")
    status = run("status").stdout
    assert "waiting" in status.split("kube/0", 1)[1].splitlines()[0], status


def leader_pki(run, app, pki):
    run(
        "set-leader-data",
        app,
        "client_certificate=" + pki["cert"],
        "client_key=" + pki["key"],
        "certificate_authority=" + pki["ca"],
    )


def unit_line(status, unit):
    return status.split(unit, 1)[1].splitlines()[0]


def test_reactive_requirer_and_provider_of_the_readme(emulator, tmp_path, pki):
    """Both sides are the seed README's handlers on the drop-in layer."""
    run = emulator
    etcd = charm_copy(ROOT / "examples" / "reactive-provider", tmp_path / "etcd", venv=True)
    kube = charm_copy(ROOT / "examples" / "reactive-requirer", tmp_path / "kube", venv=True)
    out = tmp_path / "out"
    run("deploy", "--no-settle", str(etcd), "etcd")
    leader_pki(run, "etcd", pki)
    run("settle")
    run("deploy", "--no-settle", str(kube), "kube")
    run("config", "kube", "credentials-dir={}".format(out / "ssl"), "out-dir={}".format(out))
    run("config", "etcd", "cluster=" + CLUSTER)
    run("relate", "etcd", "kube")
    status = run("status").stdout
    assert "active" in unit_line(status, "kube/0"), status
    opts = json.loads((out / "opts.json").read_text())
    assert opts["cluster_string"] == CLUSTER
    key = out / "ssl" / "client-key.pem"
    assert key.read_text() == pki["key"] and stat.S_IMODE(key.stat().st_mode) == 0o600
    # Rotation: new leader data and cluster; the README handlers publish and save again.
    leader_pki(run, "etcd", dict(pki, cert=pki["cert2"], key=pki["key2"]))
    run("config", "etcd", "cluster=" + CLUSTER.replace("etcd1", "etcd9"))
    assert key.read_text() == pki["key2"] and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (out / "ssl" / "client-cert.pem").read_text() == pki["cert2"]
    assert json.loads((out / "opts.json").read_text())["cluster_string"] == CLUSTER.replace("etcd1", "etcd9")
    # Invalid credentials are refused by the provider before anything is sent.
    leader_pki(run, "etcd", dict(pki, key=pki["key"], cert=pki["cert2"]))
    failed = run("config", "etcd", "cluster=" + CLUSTER, check=False)
    assert "client_key: private key does not match client_cert" in failed.stdout + failed.stderr
    assert key.read_text() == pki["key2"]
    # As in Juju, the failed hook holds etcd/0 in error, running nothing, until resolved;
    # with the leader data fixed, the retried config-changed succeeds.
    assert 'hook failed: "config-changed"' in run("status").stdout
    good = dict(pki, cert=pki["cert2"], key=pki["key2"])
    run("--no-settle", "set-leader-data", "etcd", "client_certificate=" + good["cert"],
        "client_key=" + good["key"], "certificate_authority=" + good["ca"])
    run("resolved", "etcd/0")
    assert "error" not in unit_line(run("status").stdout, "etcd/0")
    run("unrelate", "0")
    status = run("status").stdout
    assert "waiting" in unit_line(status, "kube/0"), status
    assert not (out / "opts.json").exists(), "proxy.available cleared when the relation went"


def test_reactive_requirer_against_the_original_wire_format(emulator, tmp_path, pki):
    """The bash provider writes exactly the 2016 layer's raw unit-databag keys."""
    run = emulator
    etcd = charm_copy(ROOT / "examples" / "bash-provider", tmp_path / "etcd", venv=False)
    kube = charm_copy(ROOT / "examples" / "reactive-requirer", tmp_path / "kube", venv=True)
    tls = tmp_path / "tls"
    tls.mkdir()
    (tls / "ca.pem").write_text(pki["ca"])
    (tls / "client.pem").write_text(pki["cert"])
    (tls / "client-key.pem").write_text(pki["key"])
    out = tmp_path / "out"
    run("deploy", str(etcd), "etcd", "-n", "2")
    run("deploy", "--no-settle", str(kube), "kube")
    run("config", "kube", "credentials-dir={}".format(out / "ssl"), "out-dir={}".format(out))
    run("relate", "etcd", "kube")
    run("config", "etcd", "cluster=" + CLUSTER, "tls-dir={}".format(tls))
    status = run("status").stdout
    assert "active" in unit_line(status, "kube/0"), status
    assert json.loads((out / "opts.json").read_text())["cluster_string"] == CLUSTER
    # One of two etcd units goes: still available (-departed handled, nothing cleared).
    run("remove-unit", "etcd/1")
    assert "active" in unit_line(run("status").stdout, "kube/0")
    assert (out / "opts.json").exists()
    run("remove-unit", "etcd/0")
    assert "waiting" in unit_line(run("status").stdout, "kube/0")
    assert not (out / "opts.json").exists()


def test_wire_v2_ops_requirer_and_reactive_provider_with_a_secret(emulator, tmp_path, pki):
    """Juju 3.6 on the emulator: the ops requirer's leader asks for version 2; the reactive
    provider's leader answers with the application databag and one granted secret; no key
    in any databag; rotation is one secret-set, seen through secret-changed."""
    run = emulator
    etcd = charm_copy(ROOT / "examples" / "reactive-provider", tmp_path / "etcd", venv=True)
    kube = charm_copy(ROOT / "examples" / "ops-requirer", tmp_path / "kube", venv=True)
    out = tmp_path / "out"
    run("deploy", "--no-settle", str(etcd), "etcd")
    leader_pki(run, "etcd", pki)
    run("settle")
    run("deploy", "--no-settle", str(kube), "kube")
    run("config", "kube", "credentials-dir={}".format(out / "ssl"), "unit-file={}".format(out / "etcd-proxy.service"))
    run("config", "etcd", "cluster=" + CLUSTER)
    run("relate", "etcd", "kube")
    status = run("status").stdout
    assert "active" in unit_line(status, "kube/0"), status
    key = out / "ssl" / "client-key.pem"
    assert key.read_text() == pki["key"] and stat.S_IMODE(key.stat().st_mode) == 0o600
    bags = run("databags", "--show-secrets").stdout
    assert "client_credentials_secret" in bags and "wire_version" in bags, bags
    assert "PRIVATE KEY" not in bags, "no key in any databag of a version-2 relation"
    # Rotation: new credentials in leader data; the provider sets a new revision.
    leader_pki(run, "etcd", dict(pki, cert=pki["cert2"], key=pki["key2"]))
    run("config", "etcd", "cluster=" + CLUSTER + ",etcd2=https://10.0.0.3:2380")
    run("settle")
    assert key.read_text() == pki["key2"]
    assert (out / "ssl" / "client-cert.pem").read_text() == pki["cert2"]
    assert "PRIVATE KEY" not in run("databags", "--show-secrets").stdout


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def etcd_member(tmp_path, pki):
    """One real TLS etcd member on loopback (client and peer certificate auth)."""
    etcd = shutil.which(os.environ.get("ETCD_BIN", "etcd"))
    etcdctl = shutil.which(os.environ.get("ETCDCTL_BIN", "etcdctl"))
    if not etcd or not etcdctl:
        if os.environ.get("CI") or os.environ.get("ETCD_PROXY_REQUIRE_ETCD") == "1":
            pytest.fail("etcd not found under CI / ETCD_PROXY_REQUIRE_ETCD=1")
        print("SKIPPED: etcd not found (ops requirer put/get through the proxy)", file=sys.stderr)
        pytest.skip("etcd not found")
    d = Path(pki["dir"])
    client, peer = free_port(), free_port()
    peer_url = "https://127.0.0.1:{}".format(peer)
    client_url = "https://127.0.0.1:{}".format(client)
    tls = [
        "--cert-file", str(d / "server.pem"), "--key-file", str(d / "server-key.pem"),
        "--trusted-ca-file", str(d / "ca.pem"), "--client-cert-auth",
        "--peer-cert-file", str(d / "server.pem"), "--peer-key-file", str(d / "server-key.pem"),
        "--peer-trusted-ca-file", str(d / "ca.pem"), "--peer-client-cert-auth",
    ]
    proc = subprocess.Popen(
        [
            etcd, "--name", "etcd0", "--data-dir", str(tmp_path / "etcd-data"),
            "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", "etcd0=" + peer_url, *tls,
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "")},
    )
    try:
        yield {"cluster": "etcd0=" + peer_url, "etcdctl": etcdctl, "client_url": client_url}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_ops_requirer_proxy_serves_put_and_get(emulator, etcd_member, tmp_path, pki):
    """The gateway started from the unit the ops requirer rendered serves a put and a get
    made with the credential files it saved."""
    import time

    run = emulator
    etcd = charm_copy(ROOT / "examples" / "bash-provider", tmp_path / "etcd", venv=False)
    kube = charm_copy(ROOT / "examples" / "ops-requirer", tmp_path / "kube", venv=True)
    d = Path(pki["dir"])
    tls = tmp_path / "tls"
    tls.mkdir()
    shutil.copy(d / "ca.pem", tls / "ca.pem")
    shutil.copy(d / "client.pem", tls / "client.pem")
    shutil.copy(d / "client-key.pem", tls / "client-key.pem")
    out = tmp_path / "out"
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
    unit = (out / "etcd-proxy.service").read_text()
    exec_start = next(l for l in unit.splitlines() if l.startswith("ExecStart="))
    argv = exec_start[len("ExecStart="):].split(" ")
    assert etcd_member["client_url"].split("//")[1] in exec_start, "client URL from the member list"
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
            put = subprocess.run(ctl + ["put", "ops-key", "ops-value"], capture_output=True, text=True, env=env)
            if put.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert put.returncode == 0, put.stderr
        got = subprocess.run(ctl + ["get", "ops-key", "--print-value-only"], capture_output=True, text=True, env=env)
        assert got.stdout.strip() == "ops-value", got.stderr
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
