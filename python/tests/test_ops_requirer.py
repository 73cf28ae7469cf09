"""EtcdProxyRequirer with ops.testing: data in pieces, departures, invalid data, wire
versions 1 and 2, rotation through secret-changed."""

import os
from dataclasses import replace
import stat

import ops
import pytest
from ops import testing

from etcd_proxy_relation.ops import EtcdProxyRequirer

from conftest import CLUSTER

META = {"name": "kube", "requires": {"proxy": {"interface": "etcd-proxy"}}}
SEEN = []


class RequirerCharm(ops.CharmBase):
    def __init__(self, framework):
        super().__init__(framework)
        self.etcd = EtcdProxyRequirer(self, "proxy")
        for name in ("available", "tls_available", "changed", "unavailable"):
            framework.observe(getattr(self.etcd.on, name), self._record)

    def _record(self, event):
        SEEN.append(type(event).__name__)
        directory = os.environ.get("TEST_SSL_DIR")
        if directory and self.etcd.credentials is not None:
            SEEN.append(("saved", self.etcd.save_client_credentials(directory)))


@pytest.fixture(autouse=True)
def _clear():
    SEEN.clear()


def ctx(juju_version="3.6.0"):
    return testing.Context(RequirerCharm, meta=META, juju_version=juju_version)


def run(event_name, rel, state, juju_version="3.6.0", **kw):
    c = ctx(juju_version)
    return c.run(getattr(c.on, event_name)(rel, **kw), state)


def test_data_in_pieces_v1(pki):
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: {}})
    out = run("relation_joined", rel, testing.State(relations={rel}), remote_unit=0)
    assert out.unit_status == testing.WaitingStatus("waiting for etcd to publish on relation proxy")
    assert SEEN == []
    # Cluster first.
    rel = testing.Relation("proxy", id=rel.id, remote_app_name="etcd", remote_units_data={0: {"cluster": CLUSTER}})
    out = run("relation_changed", rel, replace(out, relations={rel}), remote_unit=0)
    assert out.unit_status.name == "waiting" and "credentials" in out.unit_status.message
    assert SEEN == ["AvailableEvent"]
    # Then two of three keys: still not tls.
    SEEN.clear()
    partial = {"cluster": CLUSTER, "client_ca": pki["ca"], "client_cert": pki["cert"]}
    rel = testing.Relation("proxy", id=rel.id, remote_app_name="etcd", remote_units_data={0: partial})
    out = run("relation_changed", rel, replace(out, relations={rel}), remote_unit=0)
    assert SEEN == []
    # Then the key.
    full = dict(partial, client_key=pki["key"])
    rel = testing.Relation("proxy", id=rel.id, remote_app_name="etcd", remote_units_data={0: full})
    out = run("relation_changed", rel, replace(out, relations={rel}), remote_unit=0)
    assert SEEN == ["TlsAvailableEvent", "ChangedEvent"]
    assert out.unit_status.name == "active"


def test_invalid_data_blocks_and_saves_nothing(pki, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SSL_DIR", str(tmp_path / "ssl"))
    bad = {"cluster": CLUSTER, "client_ca": pki["other_ca"], "client_cert": pki["cert"], "client_key": pki["key"]}
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: bad})
    out = run("relation_changed", rel, testing.State(relations={rel}), remote_unit=0)
    assert out.unit_status.name == "blocked"
    assert out.unit_status.message.startswith("proxy: etcd/0 sent client_cert: ")
    assert pki["key"].splitlines()[1] not in out.unit_status.message
    assert SEEN == [] and not (tmp_path / "ssl").exists()


def test_departures_clear_only_when_the_last_goes(v1_bag, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SSL_DIR", str(tmp_path))
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: v1_bag, 1: v1_bag})
    out = run("relation_changed", rel, testing.State(relations={rel}), remote_unit=0)
    assert "AvailableEvent" in SEEN and ("saved", True) in SEEN
    assert stat.S_IMODE(os.stat(tmp_path / "client-key.pem").st_mode) == 0o600
    SEEN.clear()
    rel = testing.Relation("proxy", id=rel.id, remote_app_name="etcd", remote_units_data={1: v1_bag})
    out = run("relation_departed", rel, replace(out, relations={rel}), remote_unit=0, departing_unit=0)
    assert SEEN == [] and out.unit_status.name == "active"
    rel = testing.Relation("proxy", id=rel.id, remote_app_name="etcd", remote_units_data={})
    out = run("relation_departed", rel, replace(out, relations={rel}), remote_unit=1, departing_unit=1)
    assert SEEN == ["UnavailableEvent"]
    assert out.unit_status == testing.WaitingStatus("waiting for a relation to etcd on endpoint proxy")


def test_broken_is_unavailable(v1_bag):
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: v1_bag})
    out = run("relation_changed", rel, testing.State(relations={rel}), remote_unit=0)
    SEEN.clear()
    out = run("relation_broken", rel, out)
    assert SEEN == ["UnavailableEvent"]


def test_leader_advertises_wire_version_2_on_juju_3_only(v1_bag):
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: {}})
    out = run("relation_joined", rel, testing.State(relations={rel}, leader=True), remote_unit=0)
    assert out.get_relation(rel.id).local_app_data == {"wire_version": "2"}
    out = run("relation_joined", rel, testing.State(relations={rel}, leader=True), juju_version="2.9.44", remote_unit=0)
    assert out.get_relation(rel.id).local_app_data == {}
    out = run("relation_joined", rel, testing.State(relations={rel}, leader=False), remote_unit=0)
    assert out.get_relation(rel.id).local_app_data == {}


def v2_world(pki, cert="cert", key="key"):
    secret = testing.Secret(
        tracked_content={"client-ca": pki["ca"], "client-cert": pki[cert], "client-key": pki[key]},
    )
    rel = testing.Relation(
        "proxy",
        remote_app_name="etcd",
        local_app_data={"wire_version": "2"},
        remote_app_data={"cluster": CLUSTER, "client_credentials_secret": secret.id},
        remote_units_data={0: {}, 1: {}},
    )
    return secret, rel


def test_v2_reads_the_app_databag_and_the_secret(pki, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SSL_DIR", str(tmp_path))
    secret, rel = v2_world(pki)
    out = run("relation_changed", rel, testing.State(relations={rel}, secrets={secret}, leader=True), remote_unit=0)
    assert out.unit_status.name == "active", out.unit_status
    assert SEEN[:2] == ["AvailableEvent", ("saved", True)]
    assert (tmp_path / "client-key.pem").read_text() == pki["key"]


def test_v2_rotation_through_secret_changed(pki, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SSL_DIR", str(tmp_path))
    secret, rel = v2_world(pki)
    state = testing.State(relations={rel}, secrets={secret})
    out = run("relation_changed", rel, state, remote_unit=0)
    SEEN.clear()
    rotated = testing.Secret(
        id=secret.id,
        tracked_content=secret.tracked_content,
        latest_content={"client-ca": pki["ca"], "client-cert": pki["cert2"], "client-key": pki["key2"]},
    )
    c = ctx()
    out = c.run(c.on.secret_changed(rotated), replace(out, secrets={rotated}))
    assert SEEN == ["ChangedEvent", ("saved", True)]
    assert (tmp_path / "client-key.pem").read_text() == pki["key2"]
    assert (tmp_path / "client-cert.pem").read_text() == pki["cert2"]


def test_v2_secret_not_granted_blocks(pki):
    rel = testing.Relation(
        "proxy",
        remote_app_name="etcd",
        remote_app_data={"cluster": CLUSTER, "client_credentials_secret": "secret:cs6sm0dsfisvt8f8hb00"},
        remote_units_data={0: {}},
    )
    out = run("relation_changed", rel, testing.State(relations={rel}), remote_unit=0)
    assert out.unit_status.name == "blocked"
    assert "client_credentials_secret: " in out.unit_status.message
    assert SEEN == []


def test_render_proxy_from_client_urls(v1_bag, tmp_path):
    bag = dict(v1_bag, client_urls="https://10.0.0.1:2379,https://10.0.0.2:2379")
    rel = testing.Relation("proxy", remote_app_name="etcd", remote_units_data={0: bag})
    c = ctx()
    with c(c.on.relation_changed(rel, remote_unit=0), testing.State(relations={rel})) as mgr:
        mgr.run()
        etcd = mgr.charm.etcd
        assert etcd.client_urls == ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
        assert etcd.save_client_credentials(str(tmp_path))
        unit = etcd.render_proxy(str(tmp_path))
        assert "--endpoints=10.0.0.1:2379,10.0.0.2:2379" in unit.exec_start
