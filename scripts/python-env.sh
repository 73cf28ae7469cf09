#!/usr/bin/env bash
# Creates (or reuses) the Python environment the tests use: a virtualenv under target/ with
# ops 3.x, ops-scenario (ops.testing), charms.reactive 1.5.3, charmhelpers, maturin and pytest,
# all from PyPI. Prints the path of its python; tests find it through ETCD_PROXY_PYTHON.
#   usage: scripts/python-env.sh [VENV_DIR]     (default: target/py-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-target/py-venv}"
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
stamp="$venv/.requirements-v1"
if [ ! -f "$stamp" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    "$venv/bin/python" -m pip install -q \
        "ops>=3,<4" "ops[testing]>=3,<4" "charms.reactive==1.5.3" charmhelpers \
        "maturin>=1.5,<2" pytest >&2
    touch "$stamp"
fi
echo "$PWD/$venv/bin/python"
