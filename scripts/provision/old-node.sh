# An old Node (20, the last release line before the project's 24) for the test that runs
# bin/sentinel.js under it: the shim must print its one-line fix, not ERR_UNKNOWN_FILE_EXTENSION.
# The npm package `node` carries the binary (its preinstall fetches the arch package from the registry).
# Sourced by scripts/provision.sh; installs $SENTINEL_TOOLS/bin/node20.
OLD_NODE_VERSION=20.20.2
dir="$SENTINEL_TOOLS/node-$OLD_NODE_VERSION"
if [ "$("$SENTINEL_TOOLS/bin/node20" --version 2>/dev/null || true)" = "v$OLD_NODE_VERSION" ]; then return 0; fi
mkdir -p "$dir"
# A package.json of its own, so allowScripts approves node's preinstall without an npm warning.
printf '{"private":true,"dependencies":{"node":"%s"},"allowScripts":{"node":true}}\n' "$OLD_NODE_VERSION" > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --no-package-lock >/dev/null || return 1
ln -sf "$dir/node_modules/.bin/node" "$SENTINEL_TOOLS/bin/node20"
"$SENTINEL_TOOLS/bin/node20" --version
