#!/usr/bin/env python3
"""A small ops charm for the emulator tests.

alpha (provides `share`) adds an application secret, grants it to the relation and publishes
its id; beta (requires `use`) reads it, and follows new revisions on secret-changed.
StoredState lives in a local file for alpha and in Juju's unit state (state-get/state-set)
for beta.
"""

import os

import ops


class DemoCharm(ops.CharmBase):
    _stored = ops.StoredState()

    def __init__(self, framework):
        super().__init__(framework)
        self._stored.set_default(installs=0, token="")
        framework.observe(self.on.install, self._on_install)
        framework.observe(self.on.start, self._on_start)
        framework.observe(self.on.config_changed, self._on_config_changed)
        framework.observe(self.on.share_relation_joined, self._on_share_joined)
        framework.observe(self.on.use_relation_changed, self._on_use_changed)
        framework.observe(self.on.secret_changed, self._on_secret_changed)
        framework.observe(self.on.greet_action, self._on_greet)

    def _on_install(self, _event):
        self._stored.installs += 1
        self.unit.set_workload_version("1.2.3")
        self.unit.open_port("tcp", 8080)

    def _on_start(self, _event):
        network = self.model.get_binding("share").network
        self.unit.status = ops.ActiveStatus(
            f"installs={self._stored.installs} bind={network.bind_address}"
        )

    def _on_share_joined(self, event):
        if not self.unit.is_leader():
            return
        secret = self.app.add_secret({"token": self.config["token"]}, label="shared")
        secret.grant(event.relation)
        event.relation.data[self.app]["secret-id"] = secret.id

    def _on_config_changed(self, _event):
        if self.app.name != "alpha" or not self.unit.is_leader():
            return
        try:
            secret = self.model.get_secret(label="shared")
        except ops.SecretNotFoundError:
            return
        secret.set_content({"token": self.config["token"]})
        if self.config["fail"]:
            raise RuntimeError("config-changed failed on purpose")

    def _on_use_changed(self, event):
        secret_id = event.relation.data[event.app].get("secret-id")
        if not secret_id:
            return
        secret = self.model.get_secret(id=secret_id, label="from-alpha")
        self._show(secret.get_content()["token"])

    def _on_secret_changed(self, event):
        self._show(event.secret.get_content(refresh=True)["token"])

    def _show(self, token):
        self._stored.token = token
        self.unit.status = ops.ActiveStatus(f"token={token}")

    def _on_greet(self, event):
        event.log(f"greeting {event.params['who']}")
        event.set_results({"greeting": f"hello {event.params['who']}"})


if __name__ == "__main__":
    ops.main(DemoCharm, use_juju_for_storage=os.environ["JUJU_UNIT_NAME"].startswith("beta/"))
