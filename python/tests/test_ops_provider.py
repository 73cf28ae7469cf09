"""EtcdProxyProvider with ops.testing: raw keys for version-1 requirers, one granted secret
for version-2 ones, mixed relations, new relations, revoke on broken, invalid input."""

from dataclasses import replace

import ops
import pytest
from ops import testing

import etcd_proxy_relation as epr
from etcd_proxy_relation.ops import EtcdProxyProvider

from conftest import CLUSTER

META = {"name": "etcd", "provides": {"proxy": {"interface": "etcd-proxy"}}}
SEEN = []
PKI = {}


class ProviderCharm(ops.CharmBase):
    """The seed README's provider: credentials and cluster string when connected."""

    def __init__(self, framework):
        super().__init__(framework)
        self.proxy = EtcdProxyProvider(self, "proxy")
        framework.observe(self.proxy.on.connected, self._on_connected)
        framework.observe(self.proxy.on.departed, self._on_departed)

    def _on_departed(self, event):
        SEEN.append("departed")

    def _on_connected(self, event):
        SEEN.append("connected")
        self.proxy.set_client_credentials(PKI["key"], PKI["cert"], PKI["ca"])
        self.proxy.set_cluster_string(CLUSTER)


@pytest.fixture(autouse=True)
def _setup(pki):
    SEEN.clear()
    PKI.clear()
    PKI.update(pki)


def ctx(juju_version="3.6.0"):
    return testing.Context(ProviderCharm, meta=META, juju_version=juju_version)


def test_v1_requirer_gets_raw_keys_in_the_unit_databag(pki):
    rel = testing.Relation("proxy", remote_app_name="kube", remote_units_data={0: {}})
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    got = out.get_relation(rel.id)
    assert SEEN == ["connected"]
    assert got.local_unit_data["cluster"] == CLUSTER
    assert got.local_unit_data["client_key"] == pki["key"]
    assert got.local_app_data == {}
    assert not out.secrets


def test_v2_requirer_gets_one_granted_secret_and_no_key_in_any_databag(pki):
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    got = out.get_relation(rel.id)
    assert got.local_app_data["cluster"] == CLUSTER
    uri = got.local_app_data["client_credentials_secret"]
    (secret,) = out.secrets
    assert secret.id == uri and secret.owner == "app"
    assert secret.tracked_content == {"client-ca": pki["ca"], "client-cert": pki["cert"], "client-key": pki["key"]}
    assert rel.id in secret.remote_grants
    for bag in (got.local_app_data, got.local_unit_data):
        assert not any("PRIVATE KEY" in v for v in bag.values())
        assert "client_key" not in bag


def test_mixed_models_v1_and_v2_relations(pki):
    old = testing.Relation("proxy", remote_app_name="old", remote_units_data={0: {}})
    new = testing.Relation(
        "proxy", remote_app_name="new", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(old, remote_unit=0), testing.State(relations={old, new}, leader=True))
    assert out.get_relation(old.id).local_unit_data["client_key"] == pki["key"]
    assert "client_key" not in out.get_relation(new.id).local_unit_data
    assert "client_credentials_secret" in out.get_relation(new.id).local_app_data
    (secret,) = out.secrets
    assert set(secret.remote_grants) == {new.id}


def test_non_leader_v2_writes_nothing_of_ours(pki):
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=False))
    got = out.get_relation(rel.id)
    assert got.local_unit_data.get("client_key") is None and got.local_app_data == {}
    assert not out.secrets


def test_old_juju_gives_raw_keys_even_to_v2(pki):
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx("2.9.44")
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    assert not out.secrets


def test_broken_revokes_and_removes_the_last_grant(pki):
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    assert out.secrets
    SEEN.clear()
    out = c.run(c.on.relation_broken(out.get_relation(rel.id)), out)
    assert SEEN == ["departed"]
    assert not out.secrets or all(rel.id not in s.remote_grants for s in out.secrets)


def test_invalid_input_is_refused_before_anything_is_sent(pki):
    class Bad(ops.CharmBase):
        def __init__(self, framework):
            super().__init__(framework)
            self.proxy = EtcdProxyProvider(self, "proxy")
            framework.observe(self.on.proxy_relation_joined, self._joined)

        def _joined(self, event):
            with pytest.raises(epr.InvalidCredentials) as err:
                self.proxy.set_client_credentials(pki["key2"], pki["cert"], pki["ca"])
            assert pki["key2"].splitlines()[1] not in str(err.value)
            with pytest.raises(epr.InvalidClusterString):
                self.proxy.set_cluster_string("etcd0=https://10.0.0.1:2380\nx=y")

    rel = testing.Relation("proxy", remote_app_name="kube", remote_units_data={0: {}})
    c = testing.Context(Bad, meta=META, juju_version="3.6.0")
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    assert out.get_relation(rel.id).local_unit_data.get("cluster") is None


def test_round_trip_provider_to_requirer_v2(pki):
    """What the provider writes for a version-2 requirer is what the requirer core accepts."""
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    got = out.get_relation(rel.id)
    (secret,) = out.secrets
    app = dict(got.local_app_data)
    d = epr.decide(
        {
            "endpoint": "proxy",
            "relations": {
                "proxy:7": {
                    "units": {"etcd/0": dict(got.local_unit_data)},
                    "app": app,
                    "secret": {"uri": app["client_credentials_secret"], "result": {"content": dict(secret.tracked_content)}},
                }
            },
        }
    )
    assert d.tls_available and d.cluster_string == CLUSTER and d.credentials.key == pki["key"]


def test_secret_remove_removes_an_old_revision_of_ours_never_the_latest(pki):
    """Juju fires secret-remove on the owner's leader for a revision no consumer tracks
    (juju/juju 3.6 worker/uniter/runner/jujuc/secret-remove.go, --revision): the provider
    removes it, so revisions do not pile up one per rotation; never the latest."""
    rel = testing.Relation(
        "proxy", remote_app_name="kube", remote_app_data={"wire_version": "2"}, remote_units_data={0: {}}
    )
    c = ctx()
    out = c.run(c.on.relation_joined(rel, remote_unit=0), testing.State(relations={rel}, leader=True))
    # Two rotations: two new revisions (ops.testing's owner still tracks revision 1).
    for key, cert in ((pki["key2"], pki["cert2"]), (pki["key"], pki["cert"])):
        PKI.update(key=key, cert=cert)
        out = c.run(c.on.relation_changed(out.get_relation(rel.id), remote_unit=0), out)
    (secret,) = out.secrets
    assert secret.latest_content["client-key"] == pki["key"]
    latest = secret._latest_revision
    assert latest == 3

    c = ctx()
    c.run(c.on.secret_remove(secret, revision=2), out)
    assert c.removed_secret_revisions == [2]

    c = ctx()
    c.run(c.on.secret_remove(secret, revision=latest), out)
    assert c.removed_secret_revisions == []

    # Not the leader: it cannot manage the application's secret.
    c = ctx()
    c.run(c.on.secret_remove(secret, revision=2), replace(out, leader=False))
    assert c.removed_secret_revisions == []


def test_secret_remove_of_someone_elses_secret_is_left_alone(pki):
    other = testing.Secret({"password": "x"}, owner="app", label="db-password")
    c = ctx()
    c.run(c.on.secret_remove(other, revision=1), testing.State(secrets={other}, leader=True))
    assert c.removed_secret_revisions == []
