# Prometheus, promtool, Alertmanager, amtool: Debian's static binaries, unpacked (no daemons started).
have() { [ -x "$SENTINEL_TOOLS/bin/$1" ]; }
# Debian's alertmanager loads its notification templates from a directory compiled into the binary
# and refuses to start without them.
am_tmpl_dir=/usr/share/prometheus/alertmanager
if have prometheus && have promtool && have alertmanager && have amtool && [ -f "$am_tmpl_dir/default.tmpl" ] && [ -f "$am_tmpl_dir/email.tmpl" ]; then return 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' RETURN
( cd "$work" && apt-get download prometheus prometheus-alertmanager >/dev/null 2>&1 ) || { apt-get update -qq && ( cd "$work" && apt-get download prometheus prometheus-alertmanager ); }
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
for b in prometheus promtool prometheus-alertmanager amtool; do
  src="$work/x/usr/bin/$b"
  [ -x "$src" ] || { echo "prometheus.sh: $b not found in the Debian packages" >&2; return 1; }
  cp "$src" "$SENTINEL_TOOLS/bin/${b#prometheus-}"
done
mkdir -p "$am_tmpl_dir" && cp "$work/x$am_tmpl_dir"/*.tmpl "$am_tmpl_dir/" || { echo "prometheus.sh: cannot install alertmanager's templates into $am_tmpl_dir (needs root)" >&2; return 1; }
"$SENTINEL_TOOLS/bin/prometheus" --version 2>&1 | head -1 || true  # head closes the pipe early; pipefail must not fail on that
"$SENTINEL_TOOLS/bin/alertmanager" --version 2>&1 | head -1 || true  # head closes the pipe early; pipefail must not fail on that
