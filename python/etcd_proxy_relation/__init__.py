"""The Juju ``etcd-proxy`` relation interface for Python charms, on the Rust core.

Every rule (validation, the choice of publication, flags, atomic 0600 files, rendering) is
the Rust crate's; this package moves data between a charm framework and it.

- :mod:`etcd_proxy_relation.ops`: ``EtcdProxyRequirer`` / ``EtcdProxyProvider`` for ops charms;
- ``python/reactive/interface-etcd-proxy``: the drop-in charms.reactive interface layer;
- the names below: the core itself, plain data in and out.
"""

from ._core import (
    Credentials,
    Decision,
    EtcdProxyError,
    InvalidClientUrls,
    InvalidClusterString,
    InvalidCredentials,
    InvalidData,
    MembershipError,
    NotAvailable,
    ProviderPlan,
    RenderedUnit,
    RenderError,
    WriteError,
    canonical_cluster_string,
    client_endpoints,
    cluster_members,
    app_publication_is_valid,
    decide,
    juju_supports_wire_v2,
    format_client_urls_text,
    membership_from_etcd,
    parse_client_urls_text,
    render_proxy,
    provider_decide,
    save_client_credentials,
    unit_databag,
)

__all__ = [
    "Credentials",
    "Decision",
    "EtcdProxyError",
    "InvalidClientUrls",
    "InvalidClusterString",
    "InvalidCredentials",
    "InvalidData",
    "MembershipError",
    "NotAvailable",
    "ProviderPlan",
    "RenderedUnit",
    "RenderError",
    "WriteError",
    "canonical_cluster_string",
    "client_endpoints",
    "cluster_members",
    "app_publication_is_valid",
    "decide",
    "juju_supports_wire_v2",
    "format_client_urls_text",
    "membership_from_etcd",
    "parse_client_urls_text",
    "render_proxy",
    "provider_decide",
    "save_client_credentials",
    "unit_databag",
]
