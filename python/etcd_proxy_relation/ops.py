"""The ``etcd-proxy`` relation for ops charms: ``EtcdProxyRequirer`` and ``EtcdProxyProvider``.

Both read and write only through ops' own model (``relation.data``, ``model.get_secret``,
``app.add_secret``), so a charm built on them is tested with ``ops.testing`` like any other.
Every decision (validation, the choice of publication, flags, status, what to write for
which wire version) is the Rust core's (:mod:`etcd_proxy_relation._core`).

Requirer::

    from etcd_proxy_relation.ops import EtcdProxyRequirer

    class MyCharm(ops.CharmBase):
        def __init__(self, framework):
            super().__init__(framework)
            self.etcd = EtcdProxyRequirer(self, "proxy")
            framework.observe(self.etcd.on.available, self._configure)
            framework.observe(self.etcd.on.changed, self._configure)

        def _configure(self, event):
            if self.etcd.credentials is not None:
                self.etcd.save_client_credentials("/etc/ssl/etcd")
"""

from __future__ import annotations

import logging
from typing import Dict, List, Optional, Tuple

import ops

from . import _core
from ._core import Credentials, Decision, NotAvailable, RenderedUnit

__all__ = [
    "EtcdProxyRequirer",
    "EtcdProxyProvider",
    "EtcdProxyRequirerEvents",
    "EtcdProxyProviderEvents",
]

logger = logging.getLogger(__name__)

# Wire version 2 (docs/wire-contract.md): the requirer's leader advertises it.
_WIRE_VERSION_KEY = "wire_version"
_SECRET_KEY = "client_credentials_secret"

_STATUS = {
    "active": ops.ActiveStatus,
    "blocked": ops.BlockedStatus,
    "waiting": ops.WaitingStatus,
    "maintenance": ops.MaintenanceStatus,
}


def _supports_secrets(model: ops.Model) -> bool:
    """Juju >= 3.1: secrets and the application databags wire version 2 relies on."""
    return _core.juju_supports_wire_v2(str(model.juju_version))


class AvailableEvent(ops.EventBase):
    """The relation holds a valid cluster string (``{endpoint}.available``)."""


class TlsAvailableEvent(ops.EventBase):
    """The relation also holds valid client credentials (``{endpoint}.tls.available``)."""


class ChangedEvent(ops.EventBase):
    """The cluster string or the credentials differ from what the charm last saw."""


class UnavailableEvent(ops.EventBase):
    """The relation no longer holds usable data (departed, broken, emptied or invalid)."""


class EtcdProxyRequirerEvents(ops.ObjectEvents):
    """Events of :class:`EtcdProxyRequirer`."""

    available = ops.EventSource(AvailableEvent)
    tls_available = ops.EventSource(TlsAvailableEvent)
    changed = ops.EventSource(ChangedEvent)
    unavailable = ops.EventSource(UnavailableEvent)


class EtcdProxyRequirer(ops.Object):
    """The requiring side of an ``etcd-proxy`` relation.

    On every relation and secret event it hands the relation data to the core, which
    chooses one provider unit's publication as a whole, validates it and derives the flags
    and the status. It then emits ``available`` / ``tls_available`` when they start to
    hold, ``changed`` when the cluster string or credentials change, ``unavailable`` when
    the data stops being usable. With ``set_status`` (default) it sets the unit's workload
    status when it changes (``blocked`` with a one-line reason on invalid data).

    Its leader writes ``wire_version`` = ``2`` in its application databag when the model
    runs Juju >= 3.1, asking for the credentials in a Juju secret.
    """

    on = EtcdProxyRequirerEvents()  # type: ignore[reportAssignmentType]
    _stored = ops.StoredState()

    def __init__(self, charm: ops.CharmBase, relation_name: str = "proxy", *, set_status: bool = True):
        super().__init__(charm, relation_name)
        self._charm = charm
        self._relation_name = relation_name
        self._set_status = set_status
        self._decision: Optional[Decision] = None
        self._refresh = False
        self._stored.set_default(
            available=False,
            tls_available=False,
            seen=None,
            status=None,
            endpoints=None,
        )
        events = charm.on[relation_name]
        for event in (
            events.relation_created,
            events.relation_joined,
            events.relation_changed,
            events.relation_departed,
            events.relation_broken,
        ):
            self.framework.observe(event, self._on_relation_event)
        self.framework.observe(charm.on.secret_changed, self._on_secret_changed)
        self.framework.observe(charm.on.leader_elected, self._on_leader_elected)

    # -- what the relation holds -------------------------------------------------------

    @property
    def decision(self) -> Decision:
        """The core's decision for the current relation data (read once per hook)."""
        if self._decision is None:
            self._decision = self._decide(None)
        return self._decision

    @property
    def is_available(self) -> bool:
        """``{endpoint}.available``: a valid cluster string and nothing invalid."""
        return self.decision.available

    @property
    def is_tls_available(self) -> bool:
        """``{endpoint}.tls.available``: valid client credentials as well."""
        return self.decision.tls_available

    @property
    def cluster_string(self) -> Optional[str]:
        """The canonical cluster string (``name=peerURL,...``), when available."""
        return self.decision.cluster_string

    @property
    def client_urls(self) -> Optional[List[str]]:
        """The etcd members' client URLs, when the provider advertises them."""
        return self.decision.client_urls

    @property
    def credentials(self) -> Optional[Credentials]:
        """The validated client credentials (``.ca``, ``.cert``, ``.key``), when available."""
        return self.decision.credentials

    @property
    def problem(self) -> Optional[str]:
        """Why the relation data is unusable, in one line naming the key, if it is."""
        return self.decision.problem

    # -- acting on it ------------------------------------------------------------------

    def save_client_credentials(
        self,
        directory: Optional[str] = None,
        *,
        key: Optional[str] = None,
        cert: Optional[str] = None,
        ca: Optional[str] = None,
        uid: Optional[int] = None,
        gid: Optional[int] = None,
    ) -> bool:
        """Writes the credentials: ``client-ca.pem``, ``client-cert.pem``, ``client-key.pem``
        in ``directory``, or the paths ``key``, ``cert``, ``ca``. Atomic, only when they
        differ, key 0600. Returns whether a file changed; raises ``NotAvailable`` when the
        relation holds no valid credentials."""
        credentials = self._require_credentials()
        return _core.save_client_credentials(
            credentials, directory, ca=ca, cert=cert, key=key, uid=uid, gid=gid
        )

    def render_proxy(
        self,
        directory: Optional[str] = None,
        *,
        key: Optional[str] = None,
        cert: Optional[str] = None,
        ca: Optional[str] = None,
        mode: str = "gateway",
        listen: Optional[str] = None,
        etcd_bin: Optional[str] = None,
        data_dir: Optional[str] = None,
        env_file: Optional[str] = None,
        etcd_version: Optional[str] = None,
        template: Optional[str] = None,
    ) -> RenderedUnit:
        """Renders the local etcd proxy's systemd unit for the credential files saved in
        ``directory`` (or at ``key``, ``cert``, ``ca``). Call ``.install(path)`` on the result
        to write it. Client endpoints come from the provider's ``client_urls`` or, once per
        cluster string, from a peer's member list. Raises ``NotAvailable`` or
        ``RenderError`` (one-line reason)."""
        cluster = self.cluster_string
        if cluster is None:
            raise NotAvailable(self.problem or "no valid cluster string on relation " + self._relation_name)
        credentials = self._require_credentials()
        endpoints = self._endpoints(cluster, credentials)
        return _core.render_proxy(
            cluster,
            credentials,
            endpoints,
            directory=directory,
            ca=ca,
            cert=cert,
            key=key,
            mode=mode,
            listen=listen,
            etcd_bin=etcd_bin,
            data_dir=data_dir,
            env_file=env_file,
            etcd_version=etcd_version,
            template=template,
        )

    def _require_credentials(self) -> Credentials:
        credentials = self.credentials
        if credentials is None:
            raise NotAvailable(self.problem or "no valid client credentials on relation " + self._relation_name)
        return credentials

    def _endpoints(self, cluster: str, credentials: Credentials) -> List[str]:
        urls = self.client_urls
        key = cluster + " " + ",".join(urls or [])
        kept = self._stored.endpoints
        if kept is not None and kept[0] == key:
            return list(kept[1])
        found, source, warnings = _core.client_endpoints(cluster, credentials, urls)
        for warning in warnings:
            logger.warning("%s: %s", self._relation_name, warning)
        # A guess is not kept: the next hook asks the peers again.
        self._stored.endpoints = None if source == "guessed" else [key, list(found)]
        return found

    # -- events ------------------------------------------------------------------------

    def _on_leader_elected(self, _event: ops.LeaderElectedEvent) -> None:
        self._update(None)

    def _on_secret_changed(self, event: ops.SecretChangedEvent) -> None:
        self._refresh = True
        self._update(None)

    def _on_relation_event(self, event: ops.RelationEvent) -> None:
        self._update(event)

    def _decide(self, event: Optional[ops.EventBase]) -> Decision:
        gone = event.relation.id if isinstance(event, ops.RelationBrokenEvent) else None
        departing = None
        if isinstance(event, ops.RelationDepartedEvent) and event.departing_unit is not None:
            departing = event.departing_unit.name
        relations = {}
        for relation in self.model.relations[self._relation_name]:
            if relation.id == gone or not relation.active:
                continue
            units = [unit for unit in relation.units if unit.name != departing]
            data: dict = {"units": {unit.name: {} for unit in units}}
            if relation.app is not None:
                data["remote_app"] = relation.app.name
                data["app"] = app = dict(relation.data[relation.app])
                uri = app.get(_SECRET_KEY)
                if uri:
                    data["secret"] = {"uri": uri, "result": self._read_secret(uri)}
            # A valid application publication (wire version 2) is enough: no unit reads.
            if units and not ("app" in data and _core.app_publication_is_valid(data)):
                data["units"] = {unit.name: dict(relation.data[unit]) for unit in units}
            relations["{}:{}".format(self._relation_name, relation.id)] = data
        juju_version = str(self.model.juju_version)
        return _core.decide(
            {
                "endpoint": self._relation_name,
                "relations": relations,
                "previous": _plain(self._stored.seen or {}),
                "juju_version": juju_version,
                # Only the leader advertises, and only where wire version 2 exists.
                "leader": _core.juju_supports_wire_v2(juju_version) and self.model.unit.is_leader(),
            }
        )

    def _read_secret(self, uri: str) -> object:
        try:
            return {"content": self.model.get_secret(id=uri).get_content(refresh=self._refresh)}
        except ops.SecretNotFoundError:
            return {"unavailable": "not_found"}
        except ops.ModelError as e:
            text = str(e).strip().splitlines()
            line = text[-1] if text else "cannot be read"
            if "permission denied" in line or "not authorized" in line or "unauthorized" in line:
                return {"unavailable": "not_granted"}
            return {"unavailable": {"other": line}}

    def _advertise(self, decision: Decision) -> None:
        wanted = decision.advertise
        if not wanted:
            return
        for relation in self.model.relations[self._relation_name]:
            bag = wanted.get("{}:{}".format(self._relation_name, relation.id))
            if bag and relation.active:
                _update_bag(relation.data[self.model.app], bag)

    def _update(self, event: Optional[ops.EventBase]) -> None:
        decision = self._decision = self._decide(event)
        self._advertise(decision)
        if self._set_status:
            kind, message = decision.status
            if self._stored.status != [kind, message]:
                if decision.problem:
                    logger.warning("%s: %s", self._relation_name, decision.problem)
                self.model.unit.status = _STATUS[kind](message)
                self._stored.status = [kind, message]
        was_available = self._stored.available
        was_tls = self._stored.tls_available
        self._stored.available = decision.available
        self._stored.tls_available = decision.tls_available
        self._stored.seen = decision.seen
        if was_available and not decision.available:
            self.on.unavailable.emit()
            return
        if decision.available and not was_available:
            self.on.available.emit()
        if decision.tls_available and not was_tls:
            self.on.tls_available.emit()
        if was_available and (decision.cluster_changed or decision.tls_changed):
            self.on.changed.emit()


class ConnectedEvent(ops.RelationEvent):
    """A requirer unit is related (``{endpoint}.connected``); the data was published to it."""


class DepartedEvent(ops.RelationEvent):
    """A requirer unit departed or a relation broke."""


class EtcdProxyProviderEvents(ops.ObjectEvents):
    """Events of :class:`EtcdProxyProvider`."""

    connected = ops.EventSource(ConnectedEvent)
    departed = ops.EventSource(DepartedEvent)


class EtcdProxyProvider(ops.Object):
    """The providing side of an ``etcd-proxy`` relation (the etcd charm).

    Give it the data once (``set_cluster_string``, ``set_client_credentials``,
    ``publish_from_etcd``); it keeps it and publishes it on every relation, new ones
    included. Per relation, by the requirer's wire version (decided by the core):

    - version 1 (the 2016 Python layer, every requirer that writes no ``wire_version``):
      every provider unit writes the raw keys in its unit databag, as the original layer;
    - version 2: the leader writes ``cluster``, ``client_urls`` and
      ``client_credentials_secret`` in the application databag, the credentials in one
      application-owned secret granted to that relation only; units write no interface key.
    """

    on = EtcdProxyProviderEvents()  # type: ignore[reportAssignmentType]
    _stored = ops.StoredState()

    def __init__(self, charm: ops.CharmBase, relation_name: str = "proxy"):
        super().__init__(charm, relation_name)
        self._relation_name = relation_name
        self._stored.set_default(cluster=None, client_urls=None, pems=None, secret=None)
        events = charm.on[relation_name]
        for event in (events.relation_created, events.relation_joined, events.relation_changed):
            self.framework.observe(event, self._on_relation_event)
        self.framework.observe(events.relation_departed, self._on_departed)
        self.framework.observe(events.relation_broken, self._on_broken)
        self.framework.observe(charm.on.leader_elected, self._on_leader_elected)
        self.framework.observe(charm.on.secret_remove, self._on_secret_remove)

    # -- what to publish ---------------------------------------------------------------

    def set_cluster_string(self, cluster_string: str) -> None:
        """Validates and publishes the cluster string (``name=peerURL,...``); the
        credentials published before stay. Raises ``InvalidClusterString``."""
        self._stored.cluster = _core.canonical_cluster_string(cluster_string)
        self._stored.client_urls = None
        self._publish_all()

    def provide_cluster_string(self, cluster_string: str) -> None:
        """The original layer's older name of :meth:`set_cluster_string`."""
        self.set_cluster_string(cluster_string)

    def set_client_credentials(self, key: str, cert: str, ca: str) -> None:
        """Validates and publishes the client credentials, in the original layer's argument
        order. Raises ``InvalidCredentials`` naming the key at fault; nothing is sent then."""
        _core.Credentials(ca, cert, key)
        self._stored.pems = [ca, cert, key]
        self._publish_all()

    def publish_from_etcd(self, url: str, ca: str, cert: str, key: str) -> Tuple[str, List[str]]:
        """Reads the live membership at ``url`` with these credentials and publishes the
        cluster string, the client URLs and the credentials. Returns what was published."""
        credentials = _core.Credentials(ca, cert, key)
        cluster, client_urls = _core.membership_from_etcd(url, credentials)
        self._stored.cluster = cluster
        self._stored.client_urls = list(client_urls)
        self._stored.pems = [ca, cert, key]
        self._publish_all()
        return cluster, list(client_urls)

    @property
    def is_connected(self) -> bool:
        """``{endpoint}.connected``: a requirer unit is related."""
        return any(r.units for r in self.model.relations[self._relation_name])

    # -- publishing --------------------------------------------------------------------

    def _publish_all(self, broken: Optional[ops.Relation] = None) -> None:
        if self._stored.cluster is None and self._stored.pems is None:
            return
        name = self._relation_name
        relations = {
            "{}:{}".format(name, r.id): r
            for r in self.model.relations[name]
            if r.active and (broken is None or r.id != broken.id)
        }
        pems = self._stored.pems
        leader = self.model.unit.is_leader()
        request = {
            "endpoint": name,
            "cluster": self._stored.cluster,
            "client_urls": list(self._stored.client_urls) if self._stored.client_urls else None,
            "credentials": {"ca": pems[0], "cert": pems[1], "key": pems[2]} if pems else None,
            "leader": leader,
            "secrets_supported": _supports_secrets(self.model),
            "relations": {
                rid: {"wire_version": r.data[r.app].get(_WIRE_VERSION_KEY) if r.app else None}
                for rid, r in relations.items()
            },
            "secret": _plain(self._stored.secret),
        }
        plan = _core.provider_decide(request)
        if plan.refused:
            raise _core.InvalidData(plan.refused)
        wanted = plan.secret
        if wanted is not None and leader:
            self._apply_secret(wanted, relations, broken)
            if wanted["create"]:
                request["secret"] = _plain(self._stored.secret)
                plan = _core.provider_decide(request)
        if plan.remove_secret and leader:
            try:
                self.model.get_secret(id=plan.remove_secret).remove_all_revisions()
            except ops.SecretNotFoundError:
                pass
            self._stored.secret = None
        for rid, writes in plan.relations.items():
            relation = relations[rid]
            _update_bag(relation.data[self.model.unit], writes["unit"])
            if writes["app"] is not None and leader:
                _update_bag(relation.data[self.model.app], writes["app"])

    def _apply_secret(self, wanted: dict, relations: Dict[str, ops.Relation], broken: Optional[ops.Relation]) -> None:
        """Creates or updates the credentials secret and its grants, as the core planned."""
        if wanted["create"]:
            secret = self.model.app.add_secret(wanted["content"], label=wanted["label"])
            uri = str(secret.id)
            granted: set = set()
        else:
            stored = self._stored.secret
            uri = stored["uri"]
            granted = set(stored["granted"])
            secret = self.model.get_secret(id=uri)
            if wanted["update"]:
                # One new revision: key and certificate change together.
                secret.set_content(wanted["content"])
        for rid in wanted["grant"]:
            secret.grant(relations[rid])
            granted.add(rid)
        for rid in wanted["revoke"]:
            relation = relations.get(rid) or broken
            if relation is not None and "{}:{}".format(self._relation_name, relation.id) == rid:
                secret.revoke(relation)
            granted.discard(rid)
        self._stored.secret = {
            "uri": uri,
            "content_digest": wanted["content_digest"],
            "granted": sorted(granted),
        }

    # -- events ------------------------------------------------------------------------

    def _on_relation_event(self, event: ops.RelationEvent) -> None:
        self._publish_all()
        if event.relation.units:
            self.on.connected.emit(event.relation, app=event.app, unit=event.unit)

    def _on_leader_elected(self, _event: ops.LeaderElectedEvent) -> None:
        self._publish_all()

    def _on_secret_remove(self, event: ops.SecretRemoveEvent) -> None:
        """No consumer tracks ``event.revision`` any more: remove it (the core's rule,
        never the latest revision), so revisions do not pile up one per rotation."""
        if not self.model.unit.is_leader():
            return
        stored = self._stored.secret
        hook = {
            "endpoint": self._relation_name,
            "secret_id": event.secret.id,
            "secret_label": event.secret.label,
            "revision": event.revision,
            "owned_uri": stored["uri"] if stored else None,
        }
        if not _core.is_own_secret(hook):
            return
        latest = event.secret.get_info().revision
        if _core.secret_revision_to_remove(hook, latest) == event.revision:
            event.remove_revision()

    def _on_departed(self, event: ops.RelationDepartedEvent) -> None:
        self.on.departed.emit(event.relation, app=event.app, unit=event.unit)

    def _on_broken(self, event: ops.RelationBrokenEvent) -> None:
        self._publish_all(broken=event.relation)
        self.on.departed.emit(event.relation, app=event.app, unit=event.unit)


def _update_bag(bag: ops.RelationDataContent, changes: Dict[str, str]) -> None:
    """Writes only the keys whose value differs (an empty value deletes the key)."""
    for key, value in changes.items():
        if bag.get(key, "") != value:
            if value:
                bag[key] = value
            else:
                del bag[key]


def _plain(value: object) -> object:
    """StoredState's wrappers as plain dicts and lists (for the core's JSON input)."""
    if value is None:
        return None
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}  # type: ignore[union-attr]
    if isinstance(value, (list, tuple)) or type(value).__name__ == "StoredList":
        return [_plain(v) for v in value]  # type: ignore[union-attr]
    return value
