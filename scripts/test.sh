#!/usr/bin/env bash
# `make test`: every test once, and the router's test suite a second time on a real
# PostgreSQL server (started here, on a free local port, and stopped afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh

if [ -z "${LLM_ROUTER_TEST_POSTGRES_URL:-}" ]; then
  if pg_available; then
    pg_up
    trap pg_down EXIT
  elif [ "${CI:-}" = true ]; then
    echo "PostgreSQL is not installed, and CI must run the router suite on it too." >&2
    exit 1
  else
    echo "PostgreSQL is not installed: the router suite runs on SQLite only (apt-get install postgresql)." >&2
  fi
fi

NO_COLOR=1 npx vitest run "$@"
