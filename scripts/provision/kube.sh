# etcd and the Kubernetes binaries (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy: one `go build -o DIR` of the five commands) built from the Go module proxy (wrapper modules
# in tools/kube/), the prometheus-operator CRDs plus its `operator` and `prometheus-config-reloader`
# commands from that project's Go module, and Prometheus 3 (its own wrapper; the images are made by
# scripts/provision/prometheus-operator.sh), for the tests against a real API server (test/support/kube-apiserver.ts) and a real node (test/support/kube-node.ts; the
# container runtime and images come from scripts/provision/node.sh). helm comes from scripts/provision/helm.sh.
# Cached under $SENTINEL_CACHE/kube/<component>-<version>; installed into $SENTINEL_TOOLS/bin.
# Sourced by scripts/provision.sh (inside `( source ) || ...`, where `set -e` is void), so the body
# re-executes itself as a child bash with `set -euo pipefail`. Also runnable directly:
#   bash scripts/provision/kube.sh                 # build/install (fast when cached)
#   SENTINEL_KUBE_UPDATE_WRAPPERS=1 bash scripts/provision/kube.sh
#                                                  # after a version bump: write the regenerated
#                                                  # go.mod/go.sum back into tools/kube/ (commit them)
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  bash "${BASH_SOURCE[0]}"
  return $?
fi
set -euo pipefail

# ---- versions: bump here (the wrapper go.mod files are regenerated from these) ----
KUBE_VERSION="${SENTINEL_KUBE_VERSION:-v1.35.4}"          # k8s.io/kubernetes (the five binaries below)
ETCD_VERSION="${SENTINEL_ETCD_VERSION:-v3.6.16}"          # go.etcd.io/etcd/server/v3
PROM_OPERATOR_VERSION="${SENTINEL_PROM_OPERATOR_VERSION:-v0.85.0}"  # github.com/prometheus-operator/prometheus-operator
PROMETHEUS_VERSION="${SENTINEL_PROMETHEUS_VERSION:-v3.5.0}"          # github.com/prometheus/prometheus v0.<major*100+minor>.<patch>

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
wrappers="$repo/tools/kube"
SENTINEL_CACHE="${SENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinelml}"
SENTINEL_TOOLS="${SENTINEL_TOOLS:-$SENTINEL_CACHE/tools}"
kcache="$SENTINEL_CACHE/kube"
mkdir -p "$SENTINEL_TOOLS/bin" "$SENTINEL_TOOLS/crds" "$kcache"

say() { echo "kube.sh: $*" >&2; }
die() { echo "kube.sh: ERROR: $*" >&2; exit 1; }

# The tests drive the API server with the machine's kubectl (our machines ship one; Debian has none).
command -v kubectl >/dev/null 2>&1 || die "kubectl not found on PATH: the kube tests need it (any version within 3 minors of $KUBE_VERSION)"
command -v openssl >/dev/null 2>&1 || die "openssl not found on PATH: the API server harness generates its certificates with it"

# Installs a cached file into $SENTINEL_TOOLS/bin (a copy: the cache may be pruned independently).
install_bin() { install -m 0755 "$1" "$SENTINEL_TOOLS/bin/$2.tmp.$$" && mv -f "$SENTINEL_TOOLS/bin/$2.tmp.$$" "$SENTINEL_TOOLS/bin/$2"; }
# up_to_date NAME CACHED: the installed binary is the cached one.
up_to_date() { [ -x "$SENTINEL_TOOLS/bin/$1" ] && cmp -s "$2" "$SENTINEL_TOOLS/bin/$1"; }

find_go() {
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain (need Go >= 1.26 on PATH or at /usr/local/go/bin/go) to build etcd and kube-apiserver"; fi
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
}

# wrapper_prepare NAME MODULE VERSION MAINPKG GENFN -> prints the build dir.
# The committed tools/kube/NAME/{go.mod,go.sum} are used when they pin VERSION; otherwise GENFN writes a
# fresh go.mod into the build dir and `go mod tidy` resolves it (SENTINEL_KUBE_UPDATE_WRAPPERS=1 copies
# the result back into tools/kube/NAME).
wrapper_prepare() {
  local name="$1" module="$2" version="$3" mainpkg="$4" genfn="$5"
  local dir="$kcache/build/$name-$version"
  rm -rf "$dir"; mkdir -p "$dir"
  # A wrapper may need files beside its go.mod (a patched copy of a module it replaces).
  [ -z "${WRAPPER_PREPARE_FN:-}" ] || "$WRAPPER_PREPARE_FN" "$dir" "$version" || die "$name: preparing the wrapper dir failed"
  if [ -f "$wrappers/$name/go.mod" ] && grep -qE "^[[:space:]]*(require[[:space:]]+)?$module $version([[:space:]]*//.*)?\$" "$wrappers/$name/go.mod" \
     && [ -f "$wrappers/$name/go.sum" ] && [ "${SENTINEL_KUBE_UPDATE_WRAPPERS:-0}" != 1 ]; then
    cp "$wrappers/$name/go.mod" "$wrappers/$name/go.sum" "$dir/"
  else
    say "$name: generating the wrapper module for $module $version"
    "$genfn" "$dir" "$version" || die "$name: could not generate the wrapper go.mod for $module@$version"
    ( cd "$dir" && "$GO" mod tidy ) >&2 || die "$name: 'go mod tidy' failed for the wrapper of $module@$version (see above)"
    if [ "${SENTINEL_KUBE_UPDATE_WRAPPERS:-0}" = 1 ]; then
      mkdir -p "$wrappers/$name" && cp "$dir/go.mod" "$dir/go.sum" "$wrappers/$name/"
      say "$name: wrote $wrappers/$name/go.mod and go.sum — commit them"
    else
      say "$name: note: tools/kube/$name does not pin $version; using a generated wrapper (run with SENTINEL_KUBE_UPDATE_WRAPPERS=1 and commit)"
    fi
  fi
  echo "$dir"
}

# wrapper_build NAME MODULE VERSION MAINPKGS GENFN OUT [EXTRA_LDFLAGS]
# MAINPKGS is one package (OUT is the binary) or several separated by spaces (OUT is a directory that
# receives one binary per command: one `go build -o DIR/`, so shared packages compile once).
wrapper_build() {
  local name="$1" module="$2" version="$3" mainpkgs="$4" genfn="$5" out="$6" xldflags="${7:-}" dir start
  start=$SECONDS
  dir="$(wrapper_prepare "$1" "$2" "$3" "$4" "$5")"
  say "$name: building $mainpkgs ($module $version); a cold build takes many minutes"
  local target="$out.tmp"
  case "$mainpkgs" in *" "*) rm -rf "$target"; mkdir -p "$target"; target="$target/";; esac
  # shellcheck disable=SC2086 # MAINPKGS is a list
  ( cd "$dir" && "$GO" build -mod=readonly -trimpath -ldflags "-s -w $xldflags" -o "$target" $mainpkgs ) >&2 \
    || die "$name: 'go build $mainpkgs' failed for $module@$version (see the compiler output above)"
  rm -rf "$out"; mv -f "$out.tmp" "$out"
  say "$name: built in $((SECONDS - start)) s -> $out"
}

# ---- etcd ----
gen_etcd() { # DIR VERSION
  cat >"$1/go.mod" <<GOMOD
module sentinelml.local/tools/kube/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $2

tool go.etcd.io/etcd/server/v3
GOMOD
}

# ---- Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy ----
KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/... paths,
# which only work inside its own repository. The wrapper replaces each with the published v0.<minor>.<patch>.
gen_kubernetes() { # DIR VERSION
  local dir="$1" version="$2" gomod staging c
  gomod="$("$GO" mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$gomod" ] || { say "cannot download k8s.io/kubernetes@$version's go.mod"; return 1; }
  staging="v0.${version#v1.}"
  {
    echo "module sentinelml.local/tools/kube/kubernetes"
    echo
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    for c in "${KUBE_CMDS[@]}"; do echo "tool k8s.io/kubernetes/cmd/$c"; done
    echo
    echo "// generated from k8s.io/kubernetes@$version's go.mod: its staging modules at their published versions"
    echo "replace ("
    sed -n -E "s#^[[:space:]]*(k8s\.io/[A-Za-z0-9._-]+)[[:space:]]+=>[[:space:]]+\./staging/.*#\t\1 => \1 $staging#p" "$gomod"
    echo ")"
  } >"$dir/go.mod"
  grep -q "=> k8s.io/api $staging" "$dir/go.mod" || { say "found no staging replace directives in $gomod"; return 1; }
}

# ---- prometheus-operator: the operator and its config-reloader sidecar (one `go build -o DIR/`) ----
# The Prometheus and Alertmanager pods it generates run the reloader as init container (it unpacks the
# gzipped config the operator writes into a Secret) and as sidecar (it reloads on change): both needed.
PROM_OPERATOR_CMDS=(operator prometheus-config-reloader)
gen_prometheus_operator() { # DIR VERSION
  local c
  {
    echo "module sentinelml.local/tools/kube/prometheus-operator"
    echo
    echo "go 1.26.0"
    echo
    echo "require github.com/prometheus-operator/prometheus-operator $2"
    echo
    for c in "${PROM_OPERATOR_CMDS[@]}"; do echo "tool github.com/prometheus-operator/prometheus-operator/cmd/$c"; done
  } >"$1/go.mod"
}

# ---- Prometheus, for the operator's Prometheus pods ----
# Debian's prometheus 2.42 cannot serve the operator: it is built without Kubernetes service discovery
# (`kubernetes_sd_configs` is an unknown field to it), and every scrape job and Alertmanager the
# operator generates is discovered that way. This is the newest version of the operator's
# compatibility matrix (the 3.x line kube-prometheus-stack ships), in its own wrapper: it needs the
# client-go it was released with (v0.32), the operator another (v0.33). The wrapper replaces the
# module by a copy whose plugins/plugins.go is tools/kube/prometheus/plugins.go.overlay: only the
# Kubernetes discovery (plus file and http) is compiled in; the cloud discoveries' SDKs would double
# the cold build, and none runs here. (`go build -overlay` refuses files in the module cache.)
pv3="${PROMETHEUS_VERSION#v}"
PROMETHEUS_MODULE_VERSION="v0.$(( ${pv3%%.*} * 100 + $(echo "$pv3" | cut -d. -f2) )).${pv3##*.}"
prometheus_src() { # DIR VERSION: DIR/prometheus-src = the module with plugins.go replaced
  local src
  src="$(cd "$kcache" && "$GO" mod download -json "github.com/prometheus/prometheus@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$src/plugins/plugins.go" ] || { say "cannot download github.com/prometheus/prometheus@$2, or it has no plugins/plugins.go"; return 1; }
  cp -r "$src" "$1/prometheus-src" && chmod -R u+w "$1/prometheus-src" \
    && cp "$wrappers/prometheus/plugins.go.overlay" "$1/prometheus-src/plugins/plugins.go"
}
gen_prometheus() { # DIR VERSION
  {
    echo "module sentinelml.local/tools/kube/prometheus"
    echo
    echo "go 1.26.0"
    echo
    echo "require github.com/prometheus/prometheus $2"
    echo
    echo "tool github.com/prometheus/prometheus/cmd/prometheus"
    echo
    echo "// From Prometheus' own go.mod (a dependency's replace and exclude directives are not applied)."
    sed -n -E '/^(replace|exclude) \($/,/^\)$/p; /^(replace|exclude) [^(]/p' "$1/prometheus-src/go.mod"
    echo
    echo "// Prometheus with plugins/plugins.go replaced (tools/kube/prometheus/plugins.go.overlay)."
    echo "replace github.com/prometheus/prometheus => ./prometheus-src"
  } >"$1/go.mod"
}

# ---- prometheus-operator CRDs (and, with a second argument, another example/ folder: the RBAC) ----
fetch_prom_crds() { # OUTDIR [EXAMPLE_SUBDIR]
  local out="$1" sub="${2:-prometheus-operator-crd}" zip tmp
  zip="$("$GO" mod download -json "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$zip" ] || die "cannot download github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION from the Go module proxy"
  tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  local prefix="github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION/example/$sub/"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -j "$zip" "${prefix}*.yaml" -d "$tmp" || die "no $prefix*.yaml in $zip"
  else
    python3 - "$zip" "$prefix" "$tmp" <<'PY' || die "cannot extract the CRDs from $zip"
import sys, zipfile, os
z, prefix, out = sys.argv[1:]
n = 0
with zipfile.ZipFile(z) as f:
    for name in f.namelist():
        if name.startswith(prefix) and name.endswith('.yaml') and '/' not in name[len(prefix):]:
            open(os.path.join(out, os.path.basename(name)), 'wb').write(f.read(name)); n += 1
sys.exit(0 if n else 1)
PY
  fi
  [ "$sub" != prometheus-operator-crd ] || for k in servicemonitors prometheusrules; do
    ls "$tmp"/*"_$k.yaml" >/dev/null 2>&1 || die "the prometheus-operator $PROM_OPERATOR_VERSION module has no $k CRD under example/prometheus-operator-crd/"
  done
  rm -rf "$out"; mv "$tmp" "$out"
}

# ---- main ----
etcd_out="$kcache/etcd-$ETCD_VERSION/etcd"
kube_out="$kcache/kubernetes-$KUBE_VERSION"
crds_out="$kcache/prometheus-operator-crds-$PROM_OPERATOR_VERSION"
promop_out="$kcache/prometheus-operator-$PROM_OPERATOR_VERSION"
promop_rbac="$kcache/prometheus-operator-rbac-$PROM_OPERATOR_VERSION"
prom_out="$kcache/prometheus-$PROMETHEUS_VERSION/prometheus"

kube_built() { local c; for c in "${KUBE_CMDS[@]}"; do [ -x "$kube_out/$c" ] || return 1; done; }
need_go=0
[ -x "$etcd_out" ] || need_go=1
kube_built || need_go=1
[ -f "$crds_out/.ok" ] || need_go=1
# The binaries; and the project's example RBAC (example/rbac/) of the operator and of Prometheus, which
# the monitoring test applies as it is.
promop_built() { local c; for c in "${PROM_OPERATOR_CMDS[@]}"; do [ -x "$promop_out/$c" ] || return 1; done; }
promop_built || need_go=1
[ -f "$promop_rbac/.ok" ] || need_go=1
[ -x "$prom_out" ] || need_go=1
[ $need_go = 1 ] && find_go

if [ ! -x "$etcd_out" ]; then
  mkdir -p "$(dirname "$etcd_out")"
  wrapper_build etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 gen_etcd "$etcd_out"
fi
if ! kube_built; then
  # What Kubernetes' own build (hack/lib/version.sh) stamps; without it the binaries report v0.0.0 and
  # clients (kubectl's skew check, helm's .Capabilities.KubeVersion, chart kubeVersion constraints,
  # the kubelet/apiserver skew policy) misjudge them.
  kminor="${KUBE_VERSION#v1.}"; kminor="${kminor%%.*}"
  kv=k8s.io/component-base/version
  pkgs=""; for c in "${KUBE_CMDS[@]}"; do pkgs="$pkgs k8s.io/kubernetes/cmd/$c"; done
  wrapper_build kubernetes k8s.io/kubernetes "$KUBE_VERSION" "${pkgs# }" gen_kubernetes "$kube_out" \
    "-X $kv.gitVersion=$KUBE_VERSION -X $kv.gitMajor=1 -X $kv.gitMinor=$kminor -X $kv.gitTreeState=clean -X $kv.buildDate=1970-01-01T00:00:00Z"
fi
if [ ! -f "$crds_out/.ok" ]; then
  fetch_prom_crds "$crds_out"
  touch "$crds_out/.ok"
fi
if [ ! -f "$promop_rbac/.ok" ]; then
  mkdir -p "$promop_rbac"
  for d in prometheus-operator prometheus; do fetch_prom_crds "$promop_rbac/$d" "rbac/$d"; done
  touch "$promop_rbac/.ok"
fi
if ! promop_built; then
  pkgs=""; for c in "${PROM_OPERATOR_CMDS[@]}"; do pkgs="$pkgs github.com/prometheus-operator/prometheus-operator/cmd/$c"; done
  pv=github.com/prometheus/common/version
  # Static (the images are `FROM scratch`); the version stamp is what `--version` and the User-Agent show.
  CGO_ENABLED=0 wrapper_build prometheus-operator github.com/prometheus-operator/prometheus-operator "$PROM_OPERATOR_VERSION" "${pkgs# }" \
    gen_prometheus_operator "$promop_out" "-X $pv.Version=${PROM_OPERATOR_VERSION#v} -X $pv.Branch=HEAD -X $pv.Revision=$PROM_OPERATOR_VERSION"
fi
if [ ! -x "$prom_out" ]; then
  mkdir -p "$(dirname "$prom_out")"
  pv=github.com/prometheus/common/version
  WRAPPER_PREPARE_FN=prometheus_src CGO_ENABLED=0 wrapper_build prometheus github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" \
    github.com/prometheus/prometheus/cmd/prometheus gen_prometheus "$prom_out" \
    "-X $pv.Version=${PROMETHEUS_VERSION#v} -X $pv.Branch=HEAD -X $pv.Revision=$PROMETHEUS_VERSION"
fi

up_to_date etcd "$etcd_out" || install_bin "$etcd_out" etcd
for c in "${KUBE_CMDS[@]}"; do up_to_date "$c" "$kube_out/$c" || install_bin "$kube_out/$c" "$c"; done
ln -sfn "$crds_out" "$SENTINEL_TOOLS/crds/prometheus-operator"

for c in "${PROM_OPERATOR_CMDS[@]}"; do
  [[ "$("$promop_out/$c" --version 2>&1 | head -1)" == *"${PROM_OPERATOR_VERSION#v}"* ]] \
    || die "$promop_out/$c does not report version ${PROM_OPERATOR_VERSION#v}: $("$promop_out/$c" --version 2>&1 | head -3)"
done
[[ "$("$prom_out" --version 2>&1 | head -1)" == "prometheus, version ${PROMETHEUS_VERSION#v} "* ]] \
  || die "$prom_out does not report version ${PROMETHEUS_VERSION#v}: $("$prom_out" --version 2>&1 | head -3)"

# Smoke: each binary runs and reports the expected version (a stale or broken cache fails here, loudly).
# (Output captured first: `etcd --version | grep -q` fails under pipefail when grep exits early.)
etcd_version_text="$("$SENTINEL_TOOLS/bin/etcd" --version 2>&1 || true)"
[[ "$etcd_version_text" == *"etcd Version: ${ETCD_VERSION#v}"* ]] \
  || die "etcd at $SENTINEL_TOOLS/bin/etcd does not report version ${ETCD_VERSION#v}: $(printf '%s\n' "$etcd_version_text" | head -3)"
for c in "${KUBE_CMDS[@]}"; do
  [ "$("$SENTINEL_TOOLS/bin/$c" --version 2>&1)" = "Kubernetes $KUBE_VERSION" ] \
    || die "$c at $SENTINEL_TOOLS/bin/$c does not report Kubernetes $KUBE_VERSION: $("$SENTINEL_TOOLS/bin/$c" --version 2>&1 | head -3)"
done
cat >"$SENTINEL_TOOLS/kube-versions.env.tmp" <<ENV
KUBE_VERSION=$KUBE_VERSION
ETCD_VERSION=$ETCD_VERSION
PROM_OPERATOR_VERSION=$PROM_OPERATOR_VERSION
PROM_OPERATOR_CRDS=$SENTINEL_TOOLS/crds/prometheus-operator
PROM_OPERATOR_BIN=$promop_out
PROMETHEUS_VERSION=$PROMETHEUS_VERSION
PROMETHEUS_BIN=$prom_out
PROM_OPERATOR_RBAC=$promop_rbac
ENV
mv -f "$SENTINEL_TOOLS/kube-versions.env.tmp" "$SENTINEL_TOOLS/kube-versions.env"
say "etcd $ETCD_VERSION, ${KUBE_CMDS[*]} $KUBE_VERSION, prometheus-operator CRDs $PROM_OPERATOR_VERSION in $SENTINEL_TOOLS/crds/prometheus-operator, ${PROM_OPERATOR_CMDS[*]} in $promop_out, prometheus $PROMETHEUS_VERSION"
