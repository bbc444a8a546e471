# Images of the in-cluster monitoring stack of the single-node test cluster (test/kube/monitoring.test.ts),
# built locally with buildah (no registry, no Docker Hub):
#   - prometheus-operator, prometheus-config-reloader (the operator's Go module, same version as the
#     CRDs) and Prometheus 3.5: the static binaries kube.sh builds from the Go module proxy, each alone
#     in a `FROM scratch` image. Debian's Prometheus 2.42 cannot be used:
#     it is built without Kubernetes service discovery, on which every scrape job and Alertmanager
#     the operator generates relies (`kubernetes_sd_configs`: unknown field);
#   - alertmanager: Debian's binary (scripts/provision/prometheus.sh: Alertmanager 0.25). It is
#     dynamically linked against glibc, so the image also carries the loader and libc.so.6 that `ldd`
#     names (the host's Debian libc6, the distribution it was built for), and its notification
#     templates at the path compiled into Debian's binary.
# Each image's entrypoint is its binary: the operator only sets `args` on the containers it generates.
# Written as docker-archive tarballs under $SENTINEL_CACHE/node/images/, keyed by a hash of their
# inputs; $SENTINEL_TOOLS/monitoring-images.env names them for the test harness.
# Runs after kube.sh (binaries, RBAC) and node.sh (buildah). Also runnable alone:
#   bash scripts/provision.sh prometheus-operator
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  bash "${BASH_SOURCE[0]}"
  return $?
fi
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SENTINEL_CACHE="${SENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinelml}"
SENTINEL_TOOLS="${SENTINEL_TOOLS:-$SENTINEL_CACHE/tools}"
export SENTINEL_CACHE SENTINEL_TOOLS
images="$SENTINEL_CACHE/node/images"
mkdir -p "$images" "$SENTINEL_TOOLS/bin"

say() { echo "prometheus-operator.sh: $*" >&2; }
die() { echo "prometheus-operator.sh: ERROR: $*" >&2; exit 1; }
t0=$SECONDS
recipe=1   # bump when the image assembly below changes

[ "$(id -u)" = 0 ] || die "buildah's storage of the test cluster images is root's; run as root"
command -v buildah >/dev/null 2>&1 || die "buildah not found: run \`bash scripts/provision.sh node\` first"
versions="$SENTINEL_TOOLS/kube-versions.env"
[ -f "$versions" ] || die "$versions missing: run \`bash scripts/provision.sh kube\` first"
bin="$(sed -n 's/^PROM_OPERATOR_BIN=//p' "$versions")"
version="$(sed -n 's/^PROM_OPERATOR_VERSION=//p' "$versions")"
prom_bin="$(sed -n 's/^PROMETHEUS_BIN=//p' "$versions")"
[ -n "$bin" ] && [ -x "$bin/operator" ] && [ -x "$bin/prometheus-config-reloader" ] && [ -n "$prom_bin" ] && [ -x "$prom_bin" ] \
  || die "the prometheus-operator or Prometheus binaries are not built (PROM_OPERATOR_BIN='$bin', PROMETHEUS_BIN='$prom_bin' in $versions): run \`bash scripts/provision.sh kube\`"

# Debian's Alertmanager (prometheus.sh is idempotent; it runs after this script in a
# full provisioning, so it is called here for the binaries this script needs).
# shellcheck source=scripts/provision/prometheus.sh
( set +e; source "$here/prometheus.sh" ) || die "scripts/provision/prometheus.sh failed (see above)"
am_tmpl_dir=/usr/share/prometheus/alertmanager
prom_version="$("$prom_bin" --version 2>&1 | sed -n '1s/^prometheus, version \([0-9.]*\).*/\1/p')"
am_version="$("$SENTINEL_TOOLS/bin/alertmanager" --version 2>&1 | sed -n '1s/^alertmanager, version \([0-9.]*\).*/\1/p')"
[ -n "$prom_version" ] && [ -n "$am_version" ] || die "cannot read the versions of $prom_bin and $SENTINEL_TOOLS/bin/alertmanager"

bah() { buildah --root "$SENTINEL_CACHE/node/containers" --runroot "$SENTINEL_CACHE/node/containers-run" --storage-driver overlay "$@"; }

# The shared libraries a dynamically linked binary needs, as `ldd` resolves them on this host.
libs_of() { ldd "$1" | sed -n -e 's/^.*=> \(\/[^ ]*\) .*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (.*$/\1/p'; }

# image NAME TAG BINARY [EXTRA_SRC:DEST ...]: a scratch image with BINARY as /bin/NAME (its entrypoint),
# the libraries it links, and the extra files; exported to $images/NAME-<key>.tar unless cached.
# Prints "IMAGE ARCHIVE".
image() {
  local name="$1" tag="$2" binary="$3"; shift 3
  local ref="sentinelml.local/$name:$tag" libs=() key c f src dest
  if ! file -b "$binary" | grep -q 'statically linked'; then mapfile -t libs < <(libs_of "$binary"); fi
  key="$( { echo "$recipe $ref"; sha256sum "$binary" | cut -d' ' -f1
            for f in "${libs[@]}"; do echo "$f"; sha256sum "$(readlink -f "$f")" | cut -d' ' -f1; done
            for f in "$@"; do echo "$f"; sha256sum "${f%%:*}" | cut -d' ' -f1; done; } | sha256sum | cut -c1-16)"
  local tar="$images/$name-$key.tar"
  if [ ! -f "$tar" ]; then
    say "building $ref (inputs hash $key)"
    c="$(bah from scratch)"
    bah copy "$c" "$binary" "/bin/$name" >/dev/null
    # The loader at the path the binary names, libc under the Debian path the loader searches.
    for f in "${libs[@]}"; do bah copy "$c" "$(readlink -f "$f")" "$f" >/dev/null; done
    for f in "$@"; do src="${f%%:*}"; dest="${f#*:}"; bah copy "$c" "$src" "$dest" >/dev/null; done
    bah config --entrypoint "[\"/bin/$name\"]" --cmd '[]' --user 65534:65534 --workingdir / \
      --label "org.opencontainers.image.version=$tag" --label "sentinelml.inputs=$key" "$c"
    bah commit --rm -q "$c" "$ref" >/dev/null || die "cannot commit $ref"
    bah push -q "$ref" "docker-archive:$tar.tmp:$ref" || die "cannot export $ref"
    mv -f "$tar.tmp" "$tar"
    # Older archives of this image (exactly NAME-<16 hex>.tar: "prometheus-*" would match the operator's).
    find "$images" -maxdepth 1 -regextype posix-extended -regex ".*/$name-[0-9a-f]{16}\.tar" ! -name "$name-$key.tar" -delete
  fi
  echo "$ref $tar"
}

file --version >/dev/null 2>&1 || die "the 'file' command is missing (Debian package file)"
read -r op_ref op_tar < <(image prometheus-operator "$version" "$bin/operator")
read -r rl_ref rl_tar < <(image prometheus-config-reloader "$version" "$bin/prometheus-config-reloader")
read -r prom_ref prom_tar < <(image prometheus "v$prom_version" "$prom_bin")
am_extra=(); for f in "$am_tmpl_dir"/*.tmpl; do am_extra+=("$f:$f"); done
read -r am_ref am_tar < <(image alertmanager "v$am_version" "$SENTINEL_TOOLS/bin/alertmanager" "${am_extra[@]}")
for t in "$op_tar" "$rl_tar" "$prom_tar" "$am_tar"; do [ -f "$t" ] || die "image archive $t missing"; done

cat >"$SENTINEL_TOOLS/monitoring-images.env.tmp" <<ENV
PROM_OPERATOR_VERSION=$version
PROM_OPERATOR_RBAC=$(sed -n 's/^PROM_OPERATOR_RBAC=//p' "$versions")
OPERATOR_IMAGE=$op_ref
OPERATOR_ARCHIVE=$op_tar
RELOADER_IMAGE=$rl_ref
RELOADER_ARCHIVE=$rl_tar
PROMETHEUS_IMAGE=$prom_ref
PROMETHEUS_VERSION=v$prom_version
PROMETHEUS_ARCHIVE=$prom_tar
ALERTMANAGER_IMAGE=$am_ref
ALERTMANAGER_VERSION=v$am_version
ALERTMANAGER_ARCHIVE=$am_tar
ENV
mv -f "$SENTINEL_TOOLS/monitoring-images.env.tmp" "$SENTINEL_TOOLS/monitoring-images.env"
say "images ready in $((SECONDS - t0)) s: $op_ref, $rl_ref, $prom_ref, $am_ref"
