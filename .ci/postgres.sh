#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and exports TEST_DATABASE_URL.
# Meant to be sourced (`. .ci/postgres.sh`) by .ci/run; the server is stopped and its
# files removed when the sourcing shell exits. Locally: `. .ci/postgres.sh` in a shell.
#
# The cluster lives in a temp dir owned by the `postgres` user (the server refuses to run
# as root), listens on a free loopback port, and trusts local connections: it holds test
# data only and disappears with the run.

fieldid_pg_bin() {
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(fieldid_pg_bin)" ]; then
  echo "::group::installing PostgreSQL (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  echo "::endgroup::"
fi
FIELDID_PG_BIN="$(fieldid_pg_bin)"
if ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi

FIELDID_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fieldid-pg-XXXXXX")"
chown postgres: "$FIELDID_PG_DIR"
FIELDID_PG_PORT="$(node -e '
  const server = require("node:net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')"

runuser -u postgres -- "$FIELDID_PG_BIN/initdb" -D "$FIELDID_PG_DIR/data" -U postgres \
  -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
runuser -u postgres -- "$FIELDID_PG_BIN/pg_ctl" -D "$FIELDID_PG_DIR/data" \
  -l "$FIELDID_PG_DIR/server.log" -w -t 60 \
  -o "-p $FIELDID_PG_PORT -k $FIELDID_PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$FIELDID_PG_BIN/createdb" -h 127.0.0.1 -p "$FIELDID_PG_PORT" fieldid_test

fieldid_pg_stop() {
  runuser -u postgres -- "$FIELDID_PG_BIN/pg_ctl" -D "$FIELDID_PG_DIR/data" -m fast stop \
    >/dev/null 2>&1 || true
  rm -rf "$FIELDID_PG_DIR"
}
trap fieldid_pg_stop EXIT

export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$FIELDID_PG_PORT/fieldid_test"
echo "PostgreSQL $("$FIELDID_PG_BIN/postgres" --version | awk '{print $3}') for the tests at $TEST_DATABASE_URL"
