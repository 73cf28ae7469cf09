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
    bags = run("databags").stdout
    assert "client_credentials_secret" in bags and "wire_version" in bags, bags
    assert "PRIVATE KEY" not in bags, "no key in any databag of a version-2 relation"
    # Rotation: new credentials in leader data; the provider sets a new revision.
    leader_pki(run, "etcd", dict(pki, cert=pki["cert2"], key=pki["key2"]))
    run("config", "etcd", "cluster=" + CLUSTER + ",etcd2=https://10.0.0.3:2380")
    run("settle")
    assert key.read_text() == pki["key2"]
    assert (out / "ssl" / "client-cert.pem").read_text() == pki["cert2"]
    assert "PRIVATE KEY" not in run("databags").stdout
