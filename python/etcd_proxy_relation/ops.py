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
_SECRET_LABEL = "etcd-proxy-client-credentials"

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
            cluster="",
            fingerprint="",
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
        self._advertise()

    def _on_secret_changed(self, event: ops.SecretChangedEvent) -> None:
        self._refresh = True
        self._update(None)

    def _on_relation_event(self, event: ops.RelationEvent) -> None:
        self._advertise(event.relation)
        self._update(event)

    def _advertise(self, only: Optional[ops.Relation] = None) -> None:
        if not self.model.unit.is_leader() or not _supports_secrets(self.model):
            return
        relations = [only] if only is not None else self.model.relations[self._relation_name]
        for relation in relations:
            if not relation.active:
                continue
            bag = relation.data[self.model.app]
            if bag.get(_WIRE_VERSION_KEY) != "2":
                bag[_WIRE_VERSION_KEY] = "2"

    def _decide(self, event: Optional[ops.EventBase]) -> Decision:
        units: Dict[int, Dict[str, Dict[str, str]]] = {}
        apps: Dict[int, dict] = {}
        gone = None
        departing = None
        if isinstance(event, ops.RelationBrokenEvent):
            gone = event.relation.id
        if isinstance(event, ops.RelationDepartedEvent) and event.departing_unit is not None:
            departing = event.departing_unit.name
        for relation in self.model.relations[self._relation_name]:
            if relation.id == gone or not relation.active:
                continue
            units[relation.id] = {
                unit.name: dict(relation.data[unit])
                for unit in relation.units
                if unit.name != departing
            }
            if relation.app is not None and units[relation.id]:
                apps[relation.id] = self._app_publication(relation)
        return _core.decide(self._relation_name, units, apps)

    def _app_publication(self, relation: ops.Relation) -> dict:
        databag = dict(relation.data[relation.app])
        secret: object = None
        uri = databag.get(_SECRET_KEY)
        if uri:
            try:
                secret = self.model.get_secret(id=uri).get_content(refresh=self._refresh)
            except ops.SecretNotFoundError:
                secret = "secret {} not found or not granted".format(uri)
            except ops.ModelError as e:
                secret = "secret {} cannot be read: {}".format(uri, str(e).strip().splitlines()[-1:] or "")
        return {"databag": databag, "secret": secret}

    def _update(self, event: Optional[ops.EventBase]) -> None:
        decision = self._decision = self._decide(event)
        if self._set_status:
            kind, message = decision.status
            if self._stored.status != [kind, message]:
                if decision.problem:
                    logger.warning("%s: %s", self._relation_name, decision.problem)
                self.model.unit.status = _STATUS[kind](message)
                self._stored.status = [kind, message]
        was_available = self._stored.available
        was_tls = self._stored.tls_available
        cluster = decision.cluster_string or ""
        credentials = decision.credentials
        fingerprint = credentials.fingerprint if credentials is not None else ""
        changed = (cluster, fingerprint) != (self._stored.cluster, self._stored.fingerprint)
        self._stored.available = decision.available
        self._stored.tls_available = decision.tls_available
        self._stored.cluster = cluster
        self._stored.fingerprint = fingerprint
        if was_available and not decision.available:
            self.on.unavailable.emit()
            return
        if decision.available and not was_available:
            self.on.available.emit()
        if decision.tls_available and not was_tls:
            self.on.tls_available.emit()
        if decision.available and was_available and changed:
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
        self._stored.set_default(cluster=None, client_urls=None, pems=None, granted=[], secret_id=None)
        events = charm.on[relation_name]
        for event in (events.relation_created, events.relation_joined, events.relation_changed):
            self.framework.observe(event, self._on_relation_event)
        self.framework.observe(events.relation_departed, self._on_departed)
        self.framework.observe(events.relation_broken, self._on_broken)
        self.framework.observe(charm.on.leader_elected, self._on_leader_elected)

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

    def _credentials(self) -> Optional[Credentials]:
        pems = self._stored.pems
        return _core.Credentials(*pems) if pems else None

    def _publish_all(self) -> None:
        for relation in self.model.relations[self._relation_name]:
            if relation.active:
                self._publish(relation)

    def _publish(self, relation: ops.Relation) -> None:
        if self._stored.cluster is None and self._stored.pems is None:
            return
        credentials = self._credentials()
        requirer_app = dict(relation.data[relation.app]) if relation.app is not None else {}
        args = dict(
            cluster=self._stored.cluster,
            credentials=credentials,
            client_urls=self._stored.client_urls,
            secrets=_supports_secrets(self.model),
        )
        writes = _core.relation_writes(requirer_app, **args)
        _update_bag(relation.data[self.model.unit], writes["unit"])
        if writes["app"] is None or not self.model.unit.is_leader():
            return
        if writes["secret"] is not None:
            secret, uri = self._secret(writes["secret"])
            if relation.id not in self._stored.granted:
                secret.grant(relation)
                self._stored.granted = list(self._stored.granted) + [relation.id]
            writes = _core.relation_writes(requirer_app, secret_uri=uri, **args)
        _update_bag(relation.data[self.model.app], writes["app"])

    def _secret(self, content: Dict[str, str]) -> Tuple[ops.Secret, str]:
        """The application's credentials secret with this content, and its URI."""
        try:
            secret = self.model.get_secret(label=_SECRET_LABEL)
        except ops.SecretNotFoundError:
            secret = self.model.app.add_secret(content, label=_SECRET_LABEL)
            self._stored.secret_id = secret.id
            return secret, str(secret.id)
        if secret.peek_content() != content:
            # One new revision: key and certificate change together.
            secret.set_content(content)
        uri = secret.id or self._stored.secret_id
        if not uri:
            uri = self._stored.secret_id = secret.get_info().id
        return secret, str(uri)

    # -- events ------------------------------------------------------------------------

    def _on_relation_event(self, event: ops.RelationEvent) -> None:
        self._publish(event.relation)
        if event.relation.units:
            self.on.connected.emit(event.relation, app=event.app, unit=event.unit)

    def _on_leader_elected(self, _event: ops.LeaderElectedEvent) -> None:
        self._publish_all()

    def _on_departed(self, event: ops.RelationDepartedEvent) -> None:
        self.on.departed.emit(event.relation, app=event.app, unit=event.unit)

    def _on_broken(self, event: ops.RelationBrokenEvent) -> None:
        rid = event.relation.id
        if self.model.unit.is_leader() and rid in self._stored.granted:
            self._stored.granted = [r for r in self._stored.granted if r != rid]
            try:
                secret = self.model.get_secret(label=_SECRET_LABEL)
                secret.revoke(event.relation)
                if not self._stored.granted:
                    secret.remove_all_revisions()
                    self._stored.secret_id = None
            except ops.SecretNotFoundError:
                pass
        self.on.departed.emit(event.relation, app=event.app, unit=event.unit)


def _update_bag(bag: ops.RelationDataContent, changes: Dict[str, str]) -> None:
    """Writes only the keys whose value differs (an empty value deletes the key)."""
    for key, value in changes.items():
        if bag.get(key, "") != value:
            if value:
                bag[key] = value
            else:
                del bag[key]
