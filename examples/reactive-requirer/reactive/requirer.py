"""The handler of the original layer's README, unchanged but for the paths from config."""

import json
import os

from charmhelpers.core import hookenv
from charms.reactive import when, when_not


@when('proxy.available')
def prepare_etcd_proxy(proxy):
    con_string = proxy.cluster_string()
    ssl = hookenv.config('credentials-dir')
    # Save certificates to disk
    proxy.save_client_credentials(ssl)
    opts = {}
    opts['cluster_string'] = con_string
    opts['client_ca'] = os.path.join(ssl, 'client-ca.pem')
    opts['client_cert'] = os.path.join(ssl, 'client-cert.pem')
    opts['client_key'] = os.path.join(ssl, 'client-key.pem')
    out = hookenv.config('out-dir')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'opts.json'), 'w') as f:
        json.dump(opts, f)


@when_not('proxy.available')
def not_available():
    out = hookenv.config('out-dir')
    if os.path.exists(os.path.join(out, 'opts.json')):
        os.remove(os.path.join(out, 'opts.json'))
