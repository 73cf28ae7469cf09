#!/usr/bin/env bash
# Builds the shipped binaries: `cargo build --profile dist --locked` (release with fat LTO, see
# Cargo.toml) with glibc linked statically (a static PIE) on a *-linux-gnu host, and prints the
# directory that holds them.
#
#   scripts/release-build.sh [CARGO_BUILD_ARGS...]     e.g. --bin etcd-proxy-relation
#
# Why static: a hook runs the binary up to three times, and a dynamically linked start-up
# (loading libc, libm and libgcc_s, binding their symbols) costs about 1 ms of CPU each on
# the machines we measured (docs/benchmarks.md, "Fourth look"); a static binary also runs on
# any base whatever its glibc, so a charm built on a newer machine still runs on an older one.
# Hostnames resolve through /etc/hosts and DNS as before (glibc has both built in since 2.34);
# other NSS host modules (mdns, ...) are not loaded by a static binary.
#
# Why LTO: it makes the binary smaller (16 → 13 MB) and its start-up and own work cheaper:
# 1.5–2 ms less per hook of three calls here, for a longer link (cold: 3 min 53 s, not 3 min 32 s).
#
# cargo's output goes to stderr; stdout is the one line DIR (target/<host triple>/dist, under
# CARGO_TARGET_DIR when set). On other hosts (musl, macOS) it is a plain dist build in
# target/dist. RUSTFLAGS, when set, is kept and extended.
set -euo pipefail

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
host="$(rustc -vV | sed -n 's/^host: //p')"
[[ -n "$host" ]] || { echo "release-build: rustc -vV names no host" >&2; exit 1; }
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"
if [[ "$host" == *-linux-gnu ]]; then
    # With an explicit --target, RUSTFLAGS reach only the target's crates, not the build
    # scripts and proc macros (which cannot be static).
    echo "release-build: cargo build --profile dist --locked --target $host $* (crt-static)" >&2
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static" \
        cargo build --profile dist --locked --target "$host" "$@" >&2
    echo "$target_dir/$host/dist"
else
    echo "release-build: cargo build --profile dist --locked $*" >&2
    cargo build --profile dist --locked "$@" >&2
    echo "$target_dir/dist"
fi
