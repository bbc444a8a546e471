# Schemathesis (pinned in tools/schemathesis/requirements.txt, from PyPI) for test/http/schemathesis.test.ts,
# in its own venv: $SENTINEL_CACHE/venv-schemathesis/bin/st. About 20 s cold; a no-op once its stamp matches.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$SENTINEL_CACHE/venv-schemathesis" REQUIREMENTS="tools/schemathesis/requirements.txt" \
  PY_CHECK='import schemathesis, sys; print(f"schemathesis {schemathesis.__version__} on python {sys.version.split()[0]}")' \
  source "$here/python.sh"
