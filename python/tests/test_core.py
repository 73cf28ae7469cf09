"""The bindings: same reasons as the CLI, no private key in any repr or error, files."""

import os
import stat

import pytest

import etcd_proxy_relation as epr

from conftest import CLUSTER


def test_cluster_string_canonical_and_refused_with_reason():
    assert epr.canonical_cluster_string("b=http://10.0.0.2:2380,a=http://10.0.0.1:2380") == (
        "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"
    )
    with pytest.raises(epr.InvalidClusterString) as err:
        epr.canonical_cluster_string("etcd0=https://10.0.0.1")
    assert str(err.value).startswith("cluster: ")
    assert "\n" not in str(err.value)
    assert isinstance(err.value, epr.InvalidData) and isinstance(err.value, epr.EtcdProxyError)
    assert epr.cluster_members(CLUSTER) == [
        ("etcd0", "https://10.0.0.1:2380"),
        ("etcd1", "https://10.0.0.2:2380"),
    ]


def test_credentials_validated_and_key_never_shown(pki):
    creds = epr.Credentials(pki["ca"], pki["cert"], pki["key"])
    assert creds.key == pki["key"] and creds.cert == pki["cert"] and creds.ca == pki["ca"]
    assert creds.common_name == "client"
    body = pki["key"].splitlines()[1]
    assert body not in repr(creds) and "redacted" in repr(creds)
    with pytest.raises(epr.InvalidCredentials) as err:
        epr.Credentials(pki["ca"], pki["cert"], pki["key2"])
    assert str(err.value).startswith("client_key: ") and body not in str(err.value)
    with pytest.raises(epr.InvalidCredentials) as err:
        epr.Credentials(pki["other_ca"], pki["cert"], pki["key"])
    assert str(err.value).startswith("client_cert: ")
    assert creds == epr.Credentials(pki["ca"], pki["cert"], pki["key"])
    assert creds.fingerprint != epr.Credentials(pki["ca"], pki["cert2"], pki["key2"]).fingerprint


def decide(units):
    relations = {"proxy:{}".format(rid): {"units": bags} for rid, bags in units.items()}
    return epr.decide({"endpoint": "proxy", "relations": relations})


def test_decide_chooses_a_whole_publication(v1_bag, pki):
    other = dict(v1_bag, client_cert=pki["cert2"])  # cert2 does not match key: invalid
    d = decide({1: {"etcd/0": other, "etcd/1": v1_bag, "etcd/2": v1_bag}})
    assert d.chosen_unit == "etcd/1" and d.tls_available
    assert d.credentials.cert == pki["cert"]
    assert d.flags == ["proxy.connected", "proxy.available", "proxy.tls.available"]
    assert d.status[0] == "active"


def test_decide_invalid_blocks_and_sets_no_availability(v1_bag):
    bad = dict(v1_bag, cluster="etcd0=ftp://x:1")
    d = decide({1: {"etcd/0": bad}})
    assert not d.available and not d.tls_available and d.flags == ["proxy.connected"]
    assert d.status[0] == "blocked" and "etcd/0 sent cluster: " in d.status[1]
    assert d.cluster_string is None and d.credentials is None


def test_decide_waits_without_units_and_for_credentials():
    assert decide({}).status == ("waiting", "waiting for a relation to etcd on endpoint proxy")
    d = decide({2: {"etcd/0": {"cluster": CLUSTER}}})
    assert d.available and not d.tls_available and d.status[0] == "waiting"


def test_save_atomic_key_0600_and_reports_change(tmp_path, pki):
    creds = epr.Credentials(pki["ca"], pki["cert"], pki["key"])
    assert epr.save_client_credentials(creds, str(tmp_path / "ssl"))
    key = tmp_path / "ssl" / "client-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "ssl" / "client-cert.pem").st_mode) == 0o644
    assert key.read_text() == pki["key"]
    assert not epr.save_client_credentials(creds, str(tmp_path / "ssl"))
    assert epr.save_client_credentials(
        creds, key=tmp_path / "k.pem", cert=tmp_path / "c.pem", ca=tmp_path / "a.pem"
    )
    with pytest.raises(epr.InvalidData):
        epr.save_client_credentials(creds)


def test_render_gateway_and_refuse_grpc_with_cn(tmp_path, pki):
    creds = epr.Credentials(pki["ca"], pki["cert"], pki["key"])
    unit = epr.render_proxy(CLUSTER, creds, ["https://10.0.0.1:2379"], directory=str(tmp_path))
    assert unit.mode == "gateway" and unit.exec_start[1:3] == ["gateway", "start"]
    assert "--endpoints=10.0.0.1:2379" in unit.exec_start
    path = tmp_path / "etcd-proxy.service"
    assert unit.install(str(path)) and not unit.install(str(path))
    assert path.read_text() == unit.unit_file
    with pytest.raises(epr.RenderError) as err:
        epr.render_proxy(CLUSTER, creds, ["https://10.0.0.1:2379"], directory=str(tmp_path), mode="grpc-proxy")
    assert "common name" in str(err.value)


def test_provider_plan_by_wire_version(pki):
    request = {
        "endpoint": "proxy",
        "cluster": CLUSTER,
        "credentials": {"ca": pki["ca"], "cert": pki["cert"], "key": pki["key"]},
        "leader": True,
        "secrets_supported": True,
        "relations": {"proxy:1": {}, "proxy:2": {"wire_version": "2"}},
    }
    plan = epr.provider_decide(request)
    assert plan.refused is None and pki["key"].splitlines()[1] not in repr(plan)
    rels = plan.relations
    assert rels["proxy:1"]["version"] == 1 and rels["proxy:1"]["unit"]["client_key"] == pki["key"]
    assert rels["proxy:2"]["version"] == 2 and rels["proxy:2"]["unit"]["client_key"] == ""
    assert plan.secret["create"] and plan.secret["grant"] == ["proxy:2"]
    assert plan.secret["content"]["client-key"] == pki["key"]
    request["secret"] = {"uri": "secret:abc", "content_digest": plan.secret["content_digest"], "granted": ["proxy:2"]}
    again = epr.provider_decide(request)
    assert again.relations["proxy:2"]["app"]["client_credentials_secret"] == "secret:abc"
    assert not again.secret["create"] and not again.secret["update"] and again.secret["grant"] == []
    bad = dict(request, credentials={"ca": pki["other_ca"], "cert": pki["cert"], "key": pki["key"]})
    assert epr.provider_decide(bad).refused.startswith("client_cert: ")
