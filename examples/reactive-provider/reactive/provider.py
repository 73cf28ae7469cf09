"""The handler of the original layer's README provider; the member list comes from config
instead of etcdctl."""

from charmhelpers.core import hookenv
from charms.reactive import when


@when('proxy.connected')
def send_cluster_details(proxy):
    # ETCD charm provides client keys via leader_data
    cert = hookenv.leader_get('client_certificate')
    key = hookenv.leader_get('client_key')
    ca = hookenv.leader_get('certificate_authority')
    # set the certificates on the conversation
    if cert and key and ca:
        proxy.set_client_credentials(key, cert, ca)
    cluster = hookenv.config('cluster')
    if cluster:
        proxy.set_cluster_string(cluster)
