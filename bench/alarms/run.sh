#!/usr/bin/env bash
# One command for the alarm-mode study: bash bench/alarms/run.sh [run.ts flags...]
# Makes (once) the Python 3.11 virtualenv of tools/alarms/requirements.txt, exports the second
# dataset from the nannyml wheel (no download at run time), then runs bench/alarms/run.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${ALARMS_VENV:-$HOME/.cache/sentinelml/venv-alarms}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import nannyml, statsmodels' 2>/dev/null; then
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r tools/alarms/requirements.txt
fi
WORK=.cache/bench-alarms
mkdir -p "$WORK"
"$VENV/bin/python" bench/alarms/export_datasets.py "$WORK"
export PATH="$PWD/node_modules/.bin:$PATH"
exec node bench/alarms/run.ts --data-dir "$WORK" "$@"
