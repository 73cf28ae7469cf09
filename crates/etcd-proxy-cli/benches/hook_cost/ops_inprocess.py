"""In-process cost of etcd_proxy_relation for the hook_cost bench: the import of the ops
library after ops (a fresh interpreter per sample) and each core call a hook makes. Prints
JSON: {"import": [us...], "calls": {name: [us...]}}.
usage: python ops_inprocess.py PKI_DIR IMPORT_SAMPLES CALL_SAMPLES"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT = (
    "import time, ops\n"
    "t = time.perf_counter()\n"
    "import etcd_proxy_relation.ops\n"
    "print((time.perf_counter() - t) * 1e6)\n"
)


def import_samples(n):
    out = []
    for _ in range(n):
        done = subprocess.run([sys.executable, "-c", IMPORT], check=True, capture_output=True, text=True)
        out.append(float(done.stdout))
    return out


def timed(n, call):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def main():
    pki, n_import, n_calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    import etcd_proxy_relation as core

    ca = (pki / "ca.pem").read_text()
    cert = (pki / "client.pem").read_text()
    key = (pki / "client-key.pem").read_text()
    cluster = "etcd0=https://127.0.0.1:2380"
    creds = core.Credentials(ca, cert, key)
    bag = {"cluster": cluster, "client_ca": ca, "client_cert": cert, "client_key": key}
    v1 = {
        "endpoint": "proxy",
        "relations": {"proxy:0": {"remote_app": "etcd", "app": {}, "units": {"etcd/0": bag}}},
        "previous": {},
        "juju_version": "3.6.0",
        "leader": True,
    }
    app = {"cluster": cluster, "client_credentials_secret": "secret:" + "a" * 20}
    secret = {"client-ca": ca, "client-cert": cert, "client-key": key}
    v2 = dict(v1, relations={"proxy:0": {
        "remote_app": "etcd", "app": app, "units": {"etcd/0": {}},
        "secret": {"uri": app["client_credentials_secret"], "result": {"content": secret}},
    }})
    provider = {
        "endpoint": "proxy", "cluster": cluster, "client_urls": None,
        "credentials": {"ca": ca, "cert": cert, "key": key}, "leader": True,
        "secrets_supported": True, "relations": {"proxy:0": {"wire_version": "2"}}, "secret": None,
    }
    out = Path(tempfile.mkdtemp())
    core.save_client_credentials(creds, out)
    endpoints = ["https://127.0.0.1:2379"]
    calls = {
        "canonical_cluster_string": lambda: core.canonical_cluster_string(cluster),
        "Credentials(ca, cert, key)": lambda: core.Credentials(ca, cert, key),
        "decide (wire v1, full publication)": lambda: core.decide(v1),
        "decide (wire v2, secret read)": lambda: core.decide(v2),
        "app_publication_is_valid": lambda: core.app_publication_is_valid(v2["relations"]["proxy:0"]),
        "provider_decide (one v2 relation)": lambda: core.provider_decide(provider),
        "save_client_credentials (unchanged)": lambda: core.save_client_credentials(creds, out),
        "render_proxy": lambda: core.render_proxy(cluster, creds, endpoints, directory=out),
    }
    result = {
        "import": import_samples(n_import),
        "calls": {name: timed(n_calls, call) for name, call in calls.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
