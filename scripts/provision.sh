#!/usr/bin/env bash
# Installs the external tools the tests use (idempotent, cached outside the repo).
# Each scripts/provision/<tool>.sh is sourced in turn; it installs into $SENTINEL_TOOLS/bin.
# Usage: scripts/provision.sh [tool ...]   (no argument: all but the optional ones)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SENTINEL_CACHE="${SENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinelml}"
export SENTINEL_TOOLS="${SENTINEL_TOOLS:-$SENTINEL_CACHE/tools}"
mkdir -p "$SENTINEL_TOOLS/bin"
export PATH="$SENTINEL_TOOLS/bin:$PATH"

# shellcheck source=scripts/apt.sh
source "$here/apt.sh"

# Tools only benchmarks and model training need; `npm test` does not install them.
optional=" python "
if [ $# -gt 0 ]; then tools=("$@"); else
  tools=()
  for f in "$here"/provision/*.sh; do t="$(basename "$f" .sh)"; [[ "$optional" == *" $t "* ]] || tools+=("$t"); done
fi
for t in "${tools[@]}"; do
  f="$here/provision/$t.sh"
  [ -f "$f" ] || { echo "provision: no such tool script: $f" >&2; exit 2; }
  start=$SECONDS
  echo "provision: $t" >&2
  # shellcheck source=/dev/null
  ( source "$f" ) || { echo "provision: $t FAILED (see above)" >&2; exit 1; }
  echo "provision: $t ready ($((SECONDS - start)) s)" >&2
done
