#!/bin/sh
# Test stand-in for one Juju hook tool. Tests link it under a tool's name (relation-get, ...)
# into a temporary directory; it then works from files in that directory:
#   records   calls/<n>.argv  (tool name and arguments, each ending in NUL)
#             calls/<n>.stdin (everything read on stdin)
#   answers   <tool>.out (printed on stdout), <tool>.err (on stderr), <tool>.code (exit code)
#   misbehaves per <tool>.mode: hang | hang-child | leave-child | signal | ignore-stdin
dir=$(dirname "$0")
tool=$(basename "$0")
mode=$(cat "$dir/$tool.mode" 2>/dev/null)

n=$(( $(cat "$dir/calls/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/calls/count"
printf '%s\0' "$tool" "$@" > "$dir/calls/$n.argv"
if [ "$mode" = ignore-stdin ]; then
    : > "$dir/calls/$n.stdin"
else
    cat > "$dir/calls/$n.stdin"
fi

# Secret values arrive as field#file=PATH: keep a copy of each file and its directory's mode.
for arg in "$@"; do
    case "$arg" in
        *"#file="*)
            path=${arg#*#file=}
            cp "$path" "$dir/calls/$n.file.${arg%%#file=*}"
            stat -c %a "$(dirname "$path")" > "$dir/calls/$n.filedir-mode" ;;
    esac
done

[ -f "$dir/$tool.out" ] && cat "$dir/$tool.out"
[ -f "$dir/$tool.err" ] && cat "$dir/$tool.err" >&2
case "$mode" in
    hang) exec sleep 30 ;;
    # The shell waits while its child keeps the output pipes open after the shell is killed.
    # The child's pid is recorded so that the test can end it.
    hang-child) sleep 30 & echo $! > "$dir/calls/$n.child-pid"; wait ;;
    # Exits at once, but a background child keeps the output pipes open.
    leave-child) sleep 30 & echo $! > "$dir/calls/$n.child-pid" ;;
    signal) kill -KILL $$ ;;
esac
exit "$(cat "$dir/$tool.code" 2>/dev/null || echo 0)"
