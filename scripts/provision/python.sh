# Python virtualenv for model training and the Python benchmark baseline (idempotent, outside the repo).
# VENV (default $SENTINEL_CACHE/venv-models) gets REQUIREMENTS (default models/requirements.txt).
# The bench baseline: VENV=$SENTINEL_CACHE/venv-bench REQUIREMENTS=bench/serve/python/requirements.txt.
# Other venvs (scripts/provision/schemathesis.sh) source this with VENV, REQUIREMENTS and PY_CHECK set.
# A stamp holding the requirements file's sha256 makes a re-run a no-op; a changed file reinstalls.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${VENV:-$SENTINEL_CACHE/venv-models}"
req="${REQUIREMENTS:-$repo/models/requirements.txt}"
[ -f "$req" ] || req="$repo/$req"
[ -f "$req" ] || { echo "python.sh: no requirements file: ${REQUIREMENTS:-models/requirements.txt}" >&2; return 1; }
# Hash the file and every file it includes with -r (the bench list includes the model list).
want="$(cd "$(dirname "$req")" && cat "$(basename "$req")" $(sed -n 's/^-r[[:space:]]*//p' "$(basename "$req")") | sha256sum | cut -d' ' -f1)"
stamp="$venv/.sentinel-requirements.sha256"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi

# An interpreter >= 3.11 (the pinned numpy/pandas need it): python3.11+ on PATH, else Debian's python3.
py=""
for c in python3.13 python3.12 python3.11 python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then py="$(command -v "$c")"; break; fi
done
if [ -z "$py" ]; then apt_install python3 python3-venv; py=/usr/bin/python3; fi
"$py" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv

rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" >"$stamp"
# PY_CHECK: what to import and print once installed (default: the model-training packages).
if [ -n "${PY_CHECK:-}" ]; then "$venv/bin/python" -c "$PY_CHECK"; else
"$venv/bin/python" -c 'import sys, sklearn, skl2onnx, onnxruntime; print(f"python {sys.version.split()[0]}, scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnxruntime {onnxruntime.__version__} in '"$venv"'")'
fi
