#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the test suite's PostgreSQL run.
# Usage: source scripts/postgres.sh; pg_available && pg_up && trap pg_down EXIT
# A free port, so two test runs on one machine do not collide.
PG_PORT="${PG_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

pg_available() { [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ]; }

# initdb and pg_ctl refuse to run as root: run them as the postgres user then.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() {
  local bin; bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/llm-router-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  mkdir -p "$PG_DIR/data" "$PG_DIR/run"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR/data" "$PG_DIR/run"
  chmod 700 "$PG_DIR/data"
  pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_DIR/run/initdb.log"
  pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/run/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/run -c fsync=off -c synchronous_commit=off -c max_connections=300" \
    start >/dev/null
  export PG_DIR
  export LLM_ROUTER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

pg_down() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
