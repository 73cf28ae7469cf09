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
    shutil.copytree(source, target, symlinks=True)
    (target / "bin").mkdir(exist_ok=True)
    os.symlink(BIN, target / "bin" / "etcd-proxy-relation")
    if venv:
        # The charm's python: the virtualenv running this test, with the package installed.
        os.symlink(sys.prefix, target / "venv")
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
