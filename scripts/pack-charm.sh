#!/usr/bin/env bash
# Packs an example charm into a .charm archive that `juju deploy ./NAME_ARCH.charm` accepts.
#
#   scripts/pack-charm.sh [options] CHARM_DIR [OUT_DIR]
#
# CHARM_DIR is an example (examples/bash-requirer, examples/rust-requirer, ...). The charm's
# files are CHARM_DIR/charm/ when that holds a metadata.yaml (a crate with its charm inside),
# else CHARM_DIR itself. Every bin/NAME that the charm's dispatch runs — written
# `$JUJU_CHARM_DIR/bin/NAME`, `${JUJU_CHARM_DIR}/bin/NAME`, `"$JUJU_CHARM_DIR"/bin/NAME`, or
# `./bin/NAME` / `bin/NAME` after a `cd "$JUJU_CHARM_DIR"` — is built from this workspace
# (`scripts/release-build.sh --workspace --bin NAME`: statically linked on a glibc host),
# stripped and shipped as bin/NAME; a
# charm whose dispatch runs a bin/NAME that would not be in the archive is refused. The archive is a zip of the charm files, bin/ and a manifest.yaml naming the bases
# (as charmcraft writes it), with Unix modes kept: dispatch and bin/* 0755, the rest 0644.
#
# Options:
#   --bin-dir DIR    take the binaries from DIR instead of building them
#   --bin NAME       ship bin/NAME (repeatable; default: the names dispatch runs)
#   --base BASE      a base the charm runs on, e.g. ubuntu@24.04 (repeatable;
#                    default: ubuntu@22.04 and ubuntu@24.04)
#   --arch ARCH      the architecture to declare (default: this machine's, e.g. amd64)
#
# Binaries built here link glibc statically, so they run on any base; binaries given with
# --bin-dir that link glibc dynamically must be built on the oldest base you declare.
# Needs bash, python3 and, unless --bin-dir, cargo.
# SOURCE_DATE_EPOCH, when set, fixes the timestamps (reproducible archives).
set -euo pipefail

# usage [CODE]: the header above; on stdout for --help (exit 0), else on stderr (exit 2).
usage() {
    local text
    text="$(sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//')"
    if [[ "${1:-2}" == 0 ]]; then echo "$text"; exit 0; fi
    echo "$text" >&2
    exit 2
}

bin_dir="" bins=() bases=() arch=""
while (($#)); do
    case "$1" in
        --bin-dir) bin_dir="${2:?--bin-dir needs a directory}"; shift 2 ;;
        --bin) bins+=("${2:?--bin needs a name}"); shift 2 ;;
        --base) bases+=("${2:?--base needs e.g. ubuntu@24.04}"); shift 2 ;;
        --arch) arch="${2:?--arch needs e.g. amd64}"; shift 2 ;;
        -h | --help) usage 0 ;;
        -*) echo "pack-charm: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
(($# >= 1 && $# <= 2)) || usage
example="$1"
out_dir="${2:-.}"

repo="$(cd "$(dirname "$0")/.." && pwd)"
charm="$example"
[[ -f "$example/charm/metadata.yaml" ]] && charm="$example/charm"
for required in metadata.yaml dispatch; do
    [[ -f "$charm/$required" ]] || { echo "pack-charm: $charm has no $required" >&2; exit 1; }
done
name="$(sed -n 's/^name:[[:space:]]*\([A-Za-z0-9-]*\).*/\1/p' "$charm/metadata.yaml" | head -n1)"
[[ -n "$name" ]] || { echo "pack-charm: no name: in $charm/metadata.yaml" >&2; exit 1; }

# The bin/NAMEs dispatch runs, in any of the forms above; comment lines are not code.
dispatched=()
mapfile -t dispatched < <(grep -v '^[[:space:]]*#' "$charm/dispatch" |
    grep -oE '(\$\{?JUJU_CHARM_DIR\}?"?/|(^|[[:space:]"'"'"'=(;|&`])(\./)?)bin/[A-Za-z0-9._-]+' |
    sed 's#.*bin/##' | sort -u)
((${#bins[@]})) || bins=("${dispatched[@]}")
for wanted in "${dispatched[@]}"; do
    shipped=no
    for bin in "${bins[@]}"; do [[ "$bin" == "$wanted" ]] && shipped=yes; done
    [[ $shipped == yes ]] || {
        echo "pack-charm: $charm/dispatch runs bin/$wanted, which --bin does not ship" >&2
        exit 1
    }
done
((${#bases[@]})) || bases=(ubuntu@22.04 ubuntu@24.04)
if [[ -z "$arch" ]]; then
    case "$(uname -m)" in
        x86_64) arch=amd64 ;;
        aarch64 | arm64) arch=arm64 ;;
        ppc64le) arch=ppc64el ;;
        *) arch="$(uname -m)" ;;
    esac
fi

if [[ -z "$bin_dir" && ${#bins[@]} -gt 0 ]]; then
    build=("$repo/scripts/release-build.sh" --workspace)
    for bin in "${bins[@]}"; do build+=(--bin "$bin"); done
    echo "pack-charm: ${build[*]}" >&2
    bin_dir="$("${build[@]}")"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# The charm's own files, without hidden files (state, editor droppings) or a stale bin/.
(cd "$charm" && find . -mindepth 1 \( -name '.*' -o -path ./bin \) -prune -o -type f -print) |
    while read -r file; do
        mkdir -p "$stage/$(dirname "$file")"
        cp "$charm/$file" "$stage/$file"
    done
if ((${#bins[@]})); then
    mkdir -p "$stage/bin"
    for bin in "${bins[@]}"; do
        [[ -x "$bin_dir/$bin" ]] || { echo "pack-charm: no executable $bin_dir/$bin" >&2; exit 1; }
        cp -L "$bin_dir/$bin" "$stage/bin/$bin"
        # Debug symbols are most of a Rust binary's size and no use on a unit.
        if [[ "$(head -c 4 "$stage/bin/$bin")" == $'\x7fELF' ]]; then
            if command -v strip >/dev/null; then
                strip "$stage/bin/$bin"
            else
                echo "pack-charm: warning: no strip; bin/$bin keeps its symbols" >&2
            fi
        fi
    done
fi

mkdir -p "$out_dir"
archive="$out_dir/${name}_${arch}.charm"
python3 - "$stage" "$archive" "$arch" "${bases[@]}" <<'PY'
"""Writes manifest.yaml and the zip, with explicit Unix modes and sorted entries."""
import datetime
import os
import stat
import sys
import zipfile

stage, archive, arch, *bases = sys.argv[1:]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or None
when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) if epoch else \
    datetime.datetime.now(datetime.timezone.utc)

lines = ["analysis:", "  attributes:",
         "  - name: language", "    result: unknown",
         "  - name: framework", "    result: unknown",
         "bases:"]
for base in bases:
    distro, _, channel = base.partition("@")
    if not distro or not channel:
        sys.exit(f"pack-charm: base {base!r} is not NAME@CHANNEL, e.g. ubuntu@24.04")
    lines += [f"- architectures:", f"  - {arch}", f"  channel: '{channel}'", f"  name: {distro}"]
lines += [f"charmcraft-started-at: '{when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'",
          "charmcraft-version: pack-charm.sh (etcd-proxy-relation examples)"]
with open(os.path.join(stage, "manifest.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")

stamp = when.timetuple()[:6] if when.year >= 1980 else (1980, 1, 1, 0, 0, 0)
def executable(rel):
    return rel == "dispatch" or rel.startswith("bin/") or rel.startswith("hooks/")

entries = []
for root, dirs, files in os.walk(stage):
    dirs.sort()
    rel_root = os.path.relpath(root, stage)
    if rel_root != ".":
        entries.append((rel_root + "/", None))
    for name in sorted(files):
        rel = os.path.normpath(os.path.join(rel_root, name))
        entries.append((rel, os.path.join(root, name)))

tmp = archive + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for rel, path in entries:
        info = zipfile.ZipInfo(rel, date_time=stamp)
        info.create_system = 3  # Unix, so that external_attr carries the mode
        if path is None:
            info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
            z.writestr(info, b"")
            continue
        mode = 0o755 if executable(rel) else 0o644
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, archive)
for rel, path in entries:
    if path is not None:
        mode = "0755" if executable(rel) else "0644"
        print(f"  {mode} {rel}", file=sys.stderr)
PY
echo "$archive"
