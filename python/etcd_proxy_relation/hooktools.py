"""Hook-tool helpers of the reactive layer (interface-etcd-proxy): secrets (not in
charmhelpers 1.2), JUJU_VERSION, a status set only on change. No interface rule here."""

import json
import os
import subprocess

from charmhelpers.core import hookenv, unitdata


def juju_version():
    return os.environ.get("JUJU_VERSION", "")


def has_tool(name):
    from shutil import which

    return which(name) is not None


def run(*args, stdin=None):
    return subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, check=False
    )


def secret_read(uri, refresh):
    """`secret-get` as the core's SecretRead result: content, or why it cannot be had."""
    args = ["secret-get", uri, "--format=json"] + (["--refresh"] if refresh else [])
    done = run(*args)
    if done.returncode == 0:
        try:
            return {"content": json.loads(done.stdout or "{}")}
        except ValueError:
            return {"unavailable": {"other": "secret-get printed no JSON"}}
    line = (done.stderr.strip().splitlines() or ["secret-get failed"])[-1]
    lowered = line.lower()
    if "not found" in lowered:
        return {"unavailable": "not_found"}
    if "permission denied" in lowered or "unauthorized" in lowered:
        return {"unavailable": "not_granted"}
    return {"unavailable": {"other": line}}


def secret_add(content, label):
    """Creates an application-owned secret; returns its URI."""
    args = ["secret-add", "--owner", "application", "--label", label]
    args += ["{}={}".format(k, v) for k, v in sorted(content.items())]
    done = run(*args)
    if done.returncode != 0:
        raise RuntimeError("secret-add failed: " + (done.stderr.strip().splitlines() or [""])[-1])
    return done.stdout.strip()


def secret_set(uri, content):
    args = ["secret-set", uri] + ["{}={}".format(k, v) for k, v in sorted(content.items())]
    done = run(*args)
    if done.returncode != 0:
        raise RuntimeError("secret-set failed: " + (done.stderr.strip().splitlines() or [""])[-1])


def secret_grant(uri, relation_id, revoke=False):
    done = run("secret-revoke" if revoke else "secret-grant", uri, "--relation", relation_id)
    if done.returncode != 0:
        hookenv.log("{} {} {}: {}".format("revoke" if revoke else "grant", uri, relation_id, done.stderr.strip()), hookenv.WARNING)


def secret_remove(uri):
    run("secret-remove", uri)


def set_status_if_changed(kind, message, key):
    """`status-set` only when the status differs from the one this layer set last."""
    kv = unitdata.kv()
    if kv.get(key) != [kind, message]:
        hookenv.status_set(kind, message)
        kv.set(key, [kind, message])
