#!/usr/bin/env bash
# Runs manage.py the way the archive's services run: with the settings in /etc/storyarchive/env, as the user
# storyarchive, and files it writes readable by nginx's group. The cron file and the README's steps use it:
#
#   /srv/storyarchive/deploy/manage.sh migrate
#
# Run as root, it runs itself again as storyarchive. STORYARCHIVE_ENV names another settings file, PYTHON another
# interpreter and STORYARCHIVE_USER another user (tests/test_deployment.py uses all three).
set -euo pipefail

APP=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${STORYARCHIVE_ENV:-/etc/storyarchive/env}
PYTHON=${PYTHON:-$APP/.venv/bin/python}
RUN_AS=${STORYARCHIVE_USER:-storyarchive}

if [ "$(id -u)" -eq 0 ] && [ "$RUN_AS" != root ]; then
  # Not as root: a recording or folder that root made would be out of the services' reach.
  cd /
  exec runuser -u "$RUN_AS" -- env STORYARCHIVE_ENV="$ENV_FILE" PYTHON="$PYTHON" "$APP/deploy/manage.sh" "$@"
fi

if [ ! -r "$ENV_FILE" ]; then
  echo "deploy/manage.sh: cannot read $ENV_FILE" >&2
  exit 1
fi
# The same lines systemd's EnvironmentFile reads: NAME=value, comments and blank lines skipped, no quoting.
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '' | '#'*) continue ;;
  esac
  name=${line%%=*}
  value=${line#*=}
  name=${name//[[:space:]]/}
  export "$name=$value"
done <"$ENV_FILE"

umask 0027
cd "$APP"
exec "$PYTHON" manage.py "$@"
