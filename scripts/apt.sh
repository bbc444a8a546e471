# Sourced by scripts/provision.sh (and its tests): apt_install, which waits a bounded time for
# apt's and dpkg's locks. On a fresh VM unattended-upgrades often holds them for minutes, and
# `apt-get update` fails at once on a held lock (DPkg::Lock::Timeout covers only dpkg's lock).

apt_updated=0

# apt_retry CMD...: runs an apt-get command; while it fails because another process holds an
# apt/dpkg lock, says so and retries, for at most SENTINEL_APT_LOCK_WAIT seconds (default 600).
apt_retry() {
  local limit="${SENTINEL_APT_LOCK_WAIT:-600}" start=$SECONDS out rc holder
  while :; do
    rc=0
    out="$("$@" 2>&1)" || rc=$?
    if [ $rc -eq 0 ]; then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    holder="$(grep -m1 -o 'Could not get lock .*' <<<"$out" || true)"
    if [ -z "$holder" ]; then
      printf '%s\n' "$out" >&2
      return $rc
    fi
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      echo "provision: gave up after $((SECONDS - start)) s waiting for the apt/dpkg lock (${holder#Could not get lock }); let that process finish, or raise SENTINEL_APT_LOCK_WAIT" >&2
      return $rc
    fi
    echo "provision: waiting for the apt/dpkg lock (${holder#Could not get lock }), $((SECONDS - start)) of at most $limit s" >&2
    sleep "${SENTINEL_APT_LOCK_POLL:-5}"
  done
}

# apt_install PKG...: installs Debian packages once per run of this script (apt lists may be stale).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  # ${…:-0}: a script that inherits apt_install through `export -f` (a re-executed bash) has no apt_updated.
  if [ "${apt_updated:-0}" -eq 0 ]; then apt_retry apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt_retry apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
export -f apt_retry apt_install
