"""Typed stubs of the Rust core (``etcd_proxy_relation._core``)."""

from os import PathLike
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

_Path = Union[str, "PathLike[str]"]
_Databag = Mapping[str, str]

class EtcdProxyError(Exception):
    """Base class of every error raised by etcd_proxy_relation."""

class InvalidData(EtcdProxyError):
    """A value is invalid; the message names the key and why, in one line."""

class InvalidClusterString(InvalidData): ...
class InvalidClientUrls(InvalidData): ...
class InvalidCredentials(InvalidData): ...
class NotAvailable(EtcdProxyError): ...
class RenderError(EtcdProxyError): ...
class WriteError(EtcdProxyError): ...
class MembershipError(EtcdProxyError): ...

def canonical_cluster_string(text: str) -> str:
    """The canonical form of a cluster string; raises InvalidClusterString."""

def cluster_members(text: str) -> List[Tuple[str, str]]:
    """The (member name, peer URL) entries of a cluster string, canonical order."""

def parse_client_urls_text(text: str) -> List[str]:
    """Client URLs from their wire form (comma-joined), sorted, deduplicated."""

def format_client_urls_text(urls: Sequence[str]) -> str:
    """Client URLs in their wire form (validated, sorted, comma-joined)."""

class Credentials:
    """Validated TLS client credentials; the repr never shows the key."""

    def __init__(self, ca: str, cert: str, key: str) -> None: ...
    @property
    def ca(self) -> str: ...
    @property
    def cert(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def common_name(self) -> Optional[str]: ...
    @property
    def not_before(self) -> int: ...
    @property
    def not_after(self) -> int: ...
    @property
    def fingerprint(self) -> str: ...

class Decision:
    """The requirer's decision (see :func:`decide`); repr shows flags and status only."""

    @property
    def connected(self) -> bool: ...
    @property
    def available(self) -> bool: ...
    @property
    def tls_available(self) -> bool: ...
    @property
    def cluster_changed(self) -> bool: ...
    @property
    def tls_changed(self) -> bool: ...
    @property
    def cluster_string(self) -> Optional[str]: ...
    @property
    def client_urls(self) -> Optional[List[str]]: ...
    @property
    def credentials(self) -> Optional[Credentials]: ...
    @property
    def problem(self) -> Optional[str]: ...
    @property
    def status(self) -> Tuple[str, str]: ...
    @property
    def set_flags(self) -> List[str]: ...
    @property
    def clear_flags(self) -> List[str]: ...
    @property
    def flags(self) -> List[str]: ...
    @property
    def seen(self) -> Dict[str, Optional[str]]: ...
    @property
    def advertise(self) -> Dict[str, Dict[str, str]]: ...
    @property
    def source(self) -> Optional[Dict[str, object]]: ...
    @property
    def chosen_unit(self) -> Optional[str]: ...
    @property
    def remote_units(self) -> int: ...

def decide(input: Mapping[str, object]) -> Decision:
    """The requirer's decision. input: {"endpoint", "relations": {"proxy:3": {"app",
    "units", "remote_app", "secret": {"uri", "result"}}}, "previous", "juju_version",
    "leader"}."""

def juju_supports_wire_v2(juju_version: str) -> bool:
    """Whether a model on this Juju version speaks wire version 2 (Juju >= 3.1)."""

def unit_databag(
    cluster: Optional[str] = None,
    credentials: Optional[Credentials] = None,
    client_urls: Optional[Sequence[str]] = None,
) -> Dict[str, str]:
    """The version-1 unit databag keys for this publication, validated."""

class ProviderPlan:
    """What the provider writes (see :func:`provider_decide`)."""

    @property
    def refused(self) -> Optional[str]: ...
    @property
    def relations(self) -> Dict[str, Dict[str, object]]: ...
    @property
    def secret(self) -> Optional[Dict[str, object]]: ...
    @property
    def remove_secret(self) -> Optional[str]: ...

def provider_decide(input: Mapping[str, object]) -> ProviderPlan:
    """The provider's per-relation writes and secret plan. input: {"endpoint", "cluster",
    "client_urls", "credentials": {"ca", "cert", "key"}, "leader", "secrets_supported",
    "relations": {"proxy:3": {"wire_version"}}, "secret": {"uri", "content_digest",
    "granted"}}."""

def is_own_secret(input: Mapping[str, object]) -> bool:
    """Whether a secret hook is about the endpoint's credentials secret. input:
    {"endpoint", "secret_id", "secret_label", "revision", "owned_uri"}."""

def secret_revision_to_remove(input: Mapping[str, object], latest: int) -> Optional[int]:
    """In secret-remove: the revision to remove (older than latest, of our secret), or None."""

def membership_from_etcd(
    url: str, credentials: Credentials, timeout: Optional[float] = None
) -> Tuple[str, List[str]]:
    """(cluster string, client URLs) of the live cluster at url."""

def save_client_credentials(
    credentials: Credentials,
    directory: Optional[_Path] = None,
    *,
    ca: Optional[_Path] = None,
    cert: Optional[_Path] = None,
    key: Optional[_Path] = None,
    uid: Optional[int] = None,
    gid: Optional[int] = None,
) -> bool:
    """Writes the three files atomically, key 0600; returns whether any changed."""

def client_endpoints(
    cluster_string: str,
    credentials: Credentials,
    client_urls: Optional[Sequence[str]] = None,
    timeout: float = 10.0,
) -> Tuple[List[str], str, List[str]]:
    """(urls, source, warnings): client_urls, else a peer's member list, else a guess."""

class RenderedUnit:
    """A rendered proxy service."""

    @property
    def mode(self) -> str: ...
    @property
    def unit_file(self) -> str: ...
    @property
    def env_file(self) -> Optional[Tuple[str, str]]: ...
    @property
    def exec_start(self) -> List[str]: ...
    @property
    def environment(self) -> List[Tuple[str, str]]: ...
    def install(self, unit_path: _Path) -> bool:
        """Writes the environment file and the unit, atomically; returns whether changed."""

def render_proxy(
    cluster_string: str,
    credentials: Credentials,
    endpoints: Sequence[str],
    *,
    directory: Optional[_Path] = None,
    ca: Optional[_Path] = None,
    cert: Optional[_Path] = None,
    key: Optional[_Path] = None,
    mode: str = "gateway",
    listen: Optional[str] = None,
    etcd_bin: Optional[_Path] = None,
    data_dir: Optional[_Path] = None,
    env_file: Optional[_Path] = None,
    etcd_version: Optional[str] = None,
    template: Optional[str] = None,
) -> RenderedUnit:
    """Renders the systemd unit of the local etcd proxy; raises RenderError."""

def app_publication_is_valid(data: Mapping[str, object]) -> bool:
    """Whether one relation's application publication (with its secret) is valid as a whole."""
