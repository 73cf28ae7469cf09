"""Shared fixtures: a throw-away PKI made with the openssl CLI (CA, two client certificates
for rotation, a foreign CA), all in a temporary directory."""

import subprocess
from pathlib import Path
from typing import Dict

import pytest


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _client(cwd: Path, name: str, ca: str, usage: str = "clientAuth") -> None:
    _run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=cwd)
    _run("pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.key", "-out", f"{name}-key.pem", cwd=cwd)
    _run("req", "-new", "-key", f"{name}-key.pem", "-subj", "/CN=client", "-out", f"{name}.csr", cwd=cwd)
    (cwd / "ext.cnf").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage={}\nsubjectAltName=IP:127.0.0.1\n".format(usage)
    )
    _run(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
        "-CAcreateserial", "-days", "30", "-extfile", "ext.cnf", "-out", f"{name}.pem", cwd=cwd,
    )


def _ca(cwd: Path, name: str) -> None:
    _run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}-key.pem", cwd=cwd)
    _run(
        "req", "-x509", "-new", "-key", f"{name}-key.pem", "-subj", f"/CN={name}", "-days", "30",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", f"{name}.pem", cwd=cwd,
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Dict[str, str]:
    """PEM texts: ca, cert, key (client 1), cert2, key2 (client 2, same CA), other_ca."""
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "other-ca")
    _client(d, "client", "ca")
    _client(d, "client2", "ca")
    _client(d, "server", "ca", usage="serverAuth,clientAuth")
    read = lambda n: (d / n).read_text()  # noqa: E731
    return {
        "ca": read("ca.pem"),
        "cert": read("client.pem"),
        "key": read("client-key.pem"),
        "cert2": read("client2.pem"),
        "key2": read("client2-key.pem"),
        "other_ca": read("other-ca.pem"),
        "server_cert": read("server.pem"),
        "server_key": read("server-key.pem"),
        "dir": str(d),
    }


CLUSTER = "etcd0=https://10.0.0.1:2380,etcd1=https://10.0.0.2:2380"


@pytest.fixture
def v1_bag(pki) -> Dict[str, str]:
    """A complete version-1 unit databag as the 2016 provider writes it."""
    return {
        "cluster": CLUSTER,
        "client_ca": pki["ca"],
        "client_cert": pki["cert"],
        "client_key": pki["key"],
    }
