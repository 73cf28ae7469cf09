"""The providing side of `etcd-proxy` for charms.reactive, a drop-in for the 2016 layer.

`{endpoint_name}.connected` is set while a requirer unit is related (derived every hook).
`set_cluster_string` / `provide_cluster_string` and `set_client_credentials(key, cert, ca)`
validate, remember and publish on every relation, new ones included; what goes where for
which requirer (raw keys in the unit databag for version 1, the application databag and one
granted secret for version 2) is the etcd-proxy-relation core's decision.
"""

from charmhelpers.core import hookenv, unitdata
from charms.reactive import Endpoint, toggle_flag

import etcd_proxy_relation as core
from etcd_proxy_relation import hooktools as _tools


class EtcdProxyProvides(Endpoint):
    """Relation `provides: {name: {interface: etcd-proxy}}`."""

    def _manage_flags(self):
        super()._manage_flags()
        toggle_flag(self.expand_name("{endpoint_name}.connected"), self._connected())
        # New relations get what was published before, in their first hook.
        if self._desired():
            self._publish()

    def _connected(self):
        hook = hookenv.hook_name()
        broken = hookenv.relation_id() if hook.endswith("-relation-broken") else None
        return any(r.joined_units for r in self.relations if r.relation_id != broken)

    def _kv_key(self, what):
        return "etcd-proxy.{}.{}".format(self.endpoint_name, what)

    def _desired(self):
        return unitdata.kv().get(self._kv_key("desired")) or {}

    def _remember(self, **changes):
        desired = dict(self._desired())
        desired.update(changes)
        unitdata.kv().set(self._kv_key("desired"), desired)

    # -- the original layer's API ----------------------------------------------------------
    def set_cluster_string(self, cluster_string):
        """Validates and publishes the cluster string; raises InvalidClusterString."""
        self._remember(cluster=core.canonical_cluster_string(cluster_string), client_urls=None)
        self._publish()

    def provide_cluster_string(self, cluster_string):
        """The original layer's older name of `set_cluster_string`."""
        self.set_cluster_string(cluster_string)

    def set_client_credentials(self, key, cert, ca):
        """Validates (nothing is sent if invalid; InvalidCredentials names the key) and
        publishes the client credentials, in the original argument order."""
        core.Credentials(ca, cert, key)
        self._remember(credentials={"ca": ca, "cert": cert, "key": key})
        self._publish()

    def set_client_urls(self, urls):
        """Publishes the members' client URLs (an extension old requirers ignore)."""
        self._remember(client_urls=core.parse_client_urls_text(",".join(urls)))
        self._publish()

    # -- publishing ------------------------------------------------------------------------
    def _publish(self):
        hook = hookenv.hook_name()
        broken = hookenv.relation_id() if hook.endswith("-relation-broken") else None
        relations = {r.relation_id: r for r in self.relations if r.relation_id != broken}
        leader = hookenv.is_leader()
        desired = self._desired()
        kv = unitdata.kv()
        sides = {}
        for rid, relation in relations.items():
            try:
                bag = dict(relation.received_app_raw) if relation.application_name else {}
            except Exception:  # Juju < 2.7
                bag = {}
            sides[rid] = {"wire_version": bag.get("wire_version")}
        request = {
            "endpoint": self.endpoint_name,
            "cluster": desired.get("cluster"),
            "client_urls": desired.get("client_urls"),
            "credentials": desired.get("credentials"),
            "leader": leader,
            "secrets_supported": core.juju_supports_wire_v2(_tools.juju_version()) and _tools.has_tool("secret-add"),
            "relations": sides,
            "secret": kv.get(self._kv_key("secret")),
        }
        plan = core.provider_decide(request)
        if plan.refused:
            raise core.InvalidData(plan.refused)
        wanted = plan.secret
        if wanted is not None and leader:
            self._apply_secret(wanted, broken)
            if wanted["create"]:
                request["secret"] = kv.get(self._kv_key("secret"))
                plan = core.provider_decide(request)
        if plan.remove_secret and leader:
            _tools.secret_remove(plan.remove_secret)
            kv.unset(self._kv_key("secret"))
        for rid, writes in plan.relations.items():
            relation = relations[rid]
            _update(relation.to_publish_raw, writes["unit"])
            if writes["app"] is not None and leader:
                _update(relation.to_publish_app_raw, writes["app"])

    def _apply_secret(self, wanted, broken):
        kv = unitdata.kv()
        existing = kv.get(self._kv_key("secret"))
        if wanted["create"]:
            uri = _tools.secret_add(wanted["content"], wanted["label"])
            granted = set()
        else:
            uri = existing["uri"]
            granted = set(existing["granted"])
            if wanted["update"]:
                _tools.secret_set(uri, wanted["content"])
        for rid in wanted["grant"]:
            _tools.secret_grant(uri, rid)
            granted.add(rid)
        for rid in wanted["revoke"]:
            _tools.secret_grant(uri, rid, revoke=True)
            granted.discard(rid)
        kv.set(
            self._kv_key("secret"),
            {"uri": uri, "content_digest": wanted["content_digest"], "granted": sorted(granted)},
        )


def _update(bag, changes):
    """Writes only what differs; an empty value deletes the key."""
    for key, value in changes.items():
        if (bag.get(key) or "") != value:
            # An empty value deletes the key when charms.reactive flushes the data.
            bag[key] = value
