"""The requiring side of `etcd-proxy` for charms.reactive, a drop-in for the 2016 layer.

Flags (derived from the relation data on every hook, by the etcd-proxy-relation core):
`{endpoint_name}.connected`, `{endpoint_name}.available`, `{endpoint_name}.tls.available`,
and, raised on change for the charm to clear, `{endpoint_name}.cluster.changed` and
`{endpoint_name}.tls.changed`. Invalid data sets no availability flag and a blocked status
with a one-line reason.
"""

import os

from charmhelpers.core import hookenv, unitdata
from charms.reactive import Endpoint, clear_flag, set_flag

import etcd_proxy_relation as core

from etcd_proxy_relation import hooktools as _tools


class EtcdProxyRequires(Endpoint):
    """Relation `requires: {name: {interface: etcd-proxy}}`."""

    _decision = None

    # -- charms.reactive calls this in every hook, before any handler ---------------------
    def _manage_flags(self):
        super()._manage_flags()
        self._derive()

    def _kv_key(self, what):
        return "etcd-proxy.{}.{}".format(self.endpoint_name, what)

    def _derive(self):
        hook = hookenv.hook_name()
        departing = os.environ.get("JUJU_DEPARTING_UNIT") if hook.endswith("-relation-departed") else None
        broken = hookenv.relation_id() if hook.endswith("-relation-broken") else None
        relations = {}
        for relation in self.relations:
            if relation.relation_id == broken:
                continue
            units = {
                unit.unit_name: dict(unit.received_raw)
                for unit in relation.units
                if unit.unit_name != departing
            }
            data = {"units": units}
            app = relation.application_name
            if app:
                data["remote_app"] = app
                try:
                    bag = dict(relation.received_app_raw)
                except Exception:  # Juju < 2.7: no application databags
                    bag = {}
                data["app"] = bag
                uri = bag.get("client_credentials_secret")
                if uri:
                    refresh = hook == "secret-changed"
                    data["secret"] = {"uri": uri, "result": _tools.secret_read(uri, refresh)}
            relations[relation.relation_id] = data
        kv = unitdata.kv()
        decision = core.decide(
            {
                "endpoint": self.endpoint_name,
                "relations": relations,
                "previous": kv.get(self._kv_key("seen")) or {},
                "juju_version": _tools.juju_version(),
                "leader": hookenv.is_leader(),
            }
        )
        for rid, wanted in decision.advertise.items():
            relation = self.relations[rid] if rid in self.relations.keys() else None
            if relation is not None:
                for key, value in wanted.items():
                    if relation.to_publish_app_raw.get(key) != value:
                        relation.to_publish_app_raw[key] = value
        for flag in decision.set_flags:
            set_flag(flag)
        for flag in decision.clear_flags:
            clear_flag(flag)
        kv.set(self._kv_key("seen"), decision.seen)
        kind, message = decision.status
        if decision.problem:
            hookenv.log("{}: {}".format(self.endpoint_name, decision.problem), hookenv.WARNING)
        _tools.set_status_if_changed(kind, message, self._kv_key("status"))
        self._decision = decision

    @property
    def decision(self):
        """The core's decision for this hook (`etcd_proxy_relation.Decision`)."""
        if self._decision is None:
            self._derive()
        return self._decision

    # -- the original layer's API ----------------------------------------------------------
    def cluster_string(self):
        """The canonical cluster string (`name=peerURL,...`), or None if not available."""
        return self.decision.cluster_string

    def client_urls(self):
        """The members' client URLs when the provider advertises them, else None."""
        return self.decision.client_urls

    def get_client_credentials(self):
        """`{'client_ca', 'client_cert', 'client_key'}` (PEM), or None if not available."""
        creds = self.decision.credentials
        if creds is None:
            return None
        return {"client_ca": creds.ca, "client_cert": creds.cert, "client_key": creds.key}

    def save_client_credentials(self, key, cert=None, ca=None):
        """Saves the credentials: `save_client_credentials('/etc/ssl/etcd')` writes
        client-ca.pem, client-cert.pem, client-key.pem there (the README's form);
        `save_client_credentials(key, cert, ca)` takes three paths (the code's form). Atomic,
        only on change, key 0600. Returns whether a file changed (False when the relation holds
        no valid credentials)."""
        creds = self.decision.credentials
        if creds is None:
            hookenv.log(
                "{}: no valid client credentials to save{}".format(
                    self.endpoint_name, ": " + self.decision.problem if self.decision.problem else ""
                ),
                hookenv.WARNING,
            )
            return False
        if cert is None and ca is None:
            return core.save_client_credentials(creds, key)
        if cert is None or ca is None:
            raise TypeError("save_client_credentials(key, cert, ca) needs all three paths")
        return core.save_client_credentials(creds, key=key, cert=cert, ca=ca)
