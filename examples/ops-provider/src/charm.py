#!/usr/bin/env python3
"""An ops provider of the etcd-proxy relation: publishes the cluster string and the client
credentials from its config."""

import logging
from pathlib import Path

import ops

from etcd_proxy_relation import EtcdProxyError
from etcd_proxy_relation.ops import EtcdProxyProvider

logger = logging.getLogger(__name__)


class OpsProviderCharm(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.proxy = EtcdProxyProvider(self, "proxy")
        framework.observe(self.on.config_changed, self._publish)
        framework.observe(self.proxy.on.connected, self._connected)
        framework.observe(self.proxy.on.departed, self._departed)

    def _publish(self, _event: ops.EventBase) -> None:
        # The library keeps what it was given and publishes it on every relation, new ones
        # included: it is enough to hand it the data when the config changes.
        cluster = str(self.config["cluster"])
        tls = str(self.config["tls-dir"])
        try:
            if tls:
                d = Path(tls)
                self.proxy.set_client_credentials(
                    (d / "client-key.pem").read_text(),
                    (d / "client.pem").read_text(),
                    (d / "ca.pem").read_text(),
                )
            if cluster:
                self.proxy.set_cluster_string(cluster)
        except (EtcdProxyError, OSError) as e:
            # One line, never a key; nothing was published.
            self.unit.status = ops.BlockedStatus(str(e))
            return
        if not cluster:
            self.unit.status = ops.BlockedStatus("set the cluster option")
        else:
            self.unit.status = ops.ActiveStatus("publishing " + cluster.split(",", 1)[0] + ",...")

    def _connected(self, event: ops.RelationEvent) -> None:
        logger.info("requirer related on %s:%d", event.relation.name, event.relation.id)

    def _departed(self, event: ops.RelationEvent) -> None:
        logger.info("requirer left %s:%d", event.relation.name, event.relation.id)


if __name__ == "__main__":
    ops.main(OpsProviderCharm)
