#!/usr/bin/env python3
"""An ops requirer of the etcd-proxy relation: credentials saved, proxy unit rendered."""

import logging

import ops

from etcd_proxy_relation import EtcdProxyError
from etcd_proxy_relation.ops import EtcdProxyRequirer

logger = logging.getLogger(__name__)


class OpsRequirerCharm(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        self.etcd = EtcdProxyRequirer(self, "proxy")
        framework.observe(self.etcd.on.available, self._configure)
        framework.observe(self.etcd.on.tls_available, self._configure)
        framework.observe(self.etcd.on.changed, self._configure)
        framework.observe(self.on.config_changed, self._configure)

    def _configure(self, _event: ops.EventBase) -> None:
        if self.etcd.credentials is None or self.etcd.cluster_string is None:
            return  # the library's status says what we wait for
        config = self.config
        directory = str(config["credentials-dir"])
        try:
            if self.etcd.save_client_credentials(directory):
                logger.info("saved client credentials to %s", directory)
            unit = self.etcd.render_proxy(
                directory, mode=str(config["proxy-mode"]), listen=str(config["listen-address"])
            )
            if unit.install(str(config["unit-file"])):
                logger.info("rendered %s", config["unit-file"])
        except EtcdProxyError as e:
            self.unit.status = ops.BlockedStatus(str(e))
            return
        self.unit.status = ops.ActiveStatus("{} on {}".format(unit.mode, " ".join(unit.exec_start[-1:])))


if __name__ == "__main__":
    ops.main(OpsRequirerCharm)
