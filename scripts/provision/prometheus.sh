# Prometheus, promtool, Alertmanager, amtool: Debian's static binaries, unpacked (no daemons started).
have() { [ -x "$SENTINEL_TOOLS/bin/$1" ]; }
if have prometheus && have promtool && have alertmanager && have amtool; then return 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' RETURN
[ -d /var/lib/apt/lists ] && ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1 || apt-get update -qq
( cd "$work" && apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1 ) || { apt-get update -qq && ( cd "$work" && apt-get download prometheus prometheus-alertmanager ); }
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
for b in prometheus promtool prometheus-alertmanager amtool; do
  src="$work/x/usr/bin/$b"
  [ -x "$src" ] || { echo "prometheus.sh: $b not found in the Debian packages" >&2; return 1; }
  dst="$SENTINEL_TOOLS/bin/${b#prometheus-}"
  [ "$b" = prometheus ] && dst="$SENTINEL_TOOLS/bin/prometheus"
  cp "$src" "$dst"
done
"$SENTINEL_TOOLS/bin/prometheus" --version 2>&1 | head -1
"$SENTINEL_TOOLS/bin/alertmanager" --version 2>&1 | head -1
