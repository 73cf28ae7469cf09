#!/bin/sh
# A fake Juju hook tool for the hardening tests, linked under each tool's name into a
# temporary directory. It prints <tool>.out and exits 0, unless <tool>.fault says:
#   exit1 | exit2 | hang | garbage
dir=$(dirname "$0")
tool=$(basename "$0")
case "$(cat "$dir/$tool.fault" 2>/dev/null)" in
    exit1) echo "ERROR injected failure of $tool" >&2; exit 1 ;;
    exit2) echo "ERROR injected usage error of $tool" >&2; exit 2 ;;
    hang) exec sleep 30 ;;
    garbage) printf 'garbage {{ not json\n'; exit 0 ;;
esac
[ -f "$dir/$tool.out" ] && cat "$dir/$tool.out"
exit 0
