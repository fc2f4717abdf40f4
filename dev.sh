#!/usr/bin/env bash
# churn-radar developer entry point.
#   ./dev.sh run    set up .venv (Python 3.12) and open the dashboard on the bundled sample data
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
    setup_venv
    exec .venv/bin/streamlit run app.py -- --sample
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
