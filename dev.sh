#!/usr/bin/env bash
# churn-radar developer entry point.
#   ./dev.sh run    set up .venv (Python 3.12) and open the dashboard on the bundled sample data
#                   options: --port N (or PORT=N; default 8501), --public (or HOST=0.0.0.0) to
#                   listen on every network interface instead of localhost only, --dry-run to
#                   print the command instead of running it
#   ./dev.sh test   set up .venv, test tools and Debian's chromium, then run the whole test suite
#   ./dev.sh setup  only set up .venv (runtime + test packages + the Dask extra)
# Extra arguments after "test" go to pytest (e.g. ./dev.sh test tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  local candidates=(python3.12)
  local root
  if root=$(pyenv root 2>/dev/null); then
    candidates+=("$root"/versions/3.12*/bin/python3.12)
  fi
  candidates+=(/usr/local/bin/python3.12 /usr/bin/python3.12)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  echo "Python 3.12 not found: install python3.12 first" >&2
  return 1
}

setup_venv() {
  local stamp=.venv/.requirements.sha256
  local want
  want=$(cat requirements.txt requirements-dev.txt requirements-dask.txt pyproject.toml \
    | sha256sum | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  local py
  py=$(find_python)
  echo "Setting up .venv with $py (first run takes a minute or two)..."
  "$py" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  # the optional Dask engine: installed here so the test suite runs its tests
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dask.txt
  # the project itself, editable: the `churn-radar` command, and bench/ and scripts/
  # import churn_core without path edits
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return 0; fi
  echo "Installing Debian's chromium for the browser tests..."
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

case "${1:-run}" in
  setup)
    setup_venv
    ;;
  run)
    shift || true
    port="${PORT:-8501}"
    host="${HOST:-127.0.0.1}"
    dry=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --port) [ $# -ge 2 ] || { echo "--port needs a number" >&2; exit 2; }; port="$2"; shift 2 ;;
        --port=*) port="${1#--port=}"; shift ;;
        --public) host=0.0.0.0; shift ;;
        --dry-run) dry=1; shift ;;
        *) echo "unknown option for run: $1 (use --port N, --public, --dry-run)" >&2; exit 2 ;;
      esac
    done
    if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
      echo "the port must be a number from 1 to 65535, not '$port'" >&2
      exit 2
    fi
    cmd=(.venv/bin/streamlit run app.py --server.port "$port" --server.address "$host"
         --browser.gatherUsageStats false -- --sample)
    if [ "$dry" -eq 1 ]; then
      echo "${cmd[*]}"
      exit 0
    fi
    setup_venv
    if [ "$host" = "127.0.0.1" ]; then
      echo "Open http://localhost:$port (this computer only; --public shares it on the network)"
    else
      echo "Listening on every interface, port $port: others open http://<this computer's address>:$port"
    fi
    exec "${cmd[@]}"
    ;;
  test)
    shift || true
    setup_venv
    ensure_chromium || echo "WARNING: chromium could not be installed; browser tests will fail" >&2
    set +e
    .venv/bin/python -m pytest "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
      echo "pytest collected no tests"
      rc=1
    fi
    exit "$rc"
    ;;
  *)
    echo "usage: ./dev.sh [run|test|setup]" >&2
    exit 2
    ;;
esac
