#!/usr/bin/env bash
# The whole test suite: static checks, Go tests (race detector on), and the compat suite
# (the real Node socket.io-client against a real Parley binary) on SQLite and on the
# MongoDB store through FerretDB. Needs: Go, Node/npm (compat/node_modules installed with
# `npm ci`), FerretDB (scripts/ferretdb.sh builds it), redis-server on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './compat/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

FERRETDB_BIN=$(bash scripts/ferretdb.sh)
export FERRETDB_BIN

step "go test -race ./..."
go test -race -count=1 -timeout 20m ./...

step "compat suite (socket.io-client) on SQLite"
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
go build -o "$bin_dir/parley" .
export PARLEY_BIN="$bin_dir/parley"
(cd compat && npm test)

if [ -d models/mongo ] && [ "${PARLEY_SKIP_MONGO_COMPAT:-}" != "1" ] && grep -q "mongo.Open" store_mongo.go 2>/dev/null; then
  step "compat suite on the MongoDB store (FerretDB)"
  uri=$(bash scripts/ferretdb-start.sh "$bin_dir/ferretdb")
  trap 'bash scripts/ferretdb-stop.sh "$bin_dir/ferretdb" || true; rm -rf "$bin_dir"' EXIT
  (cd compat && PARLEY_TEST_MONGODB_URI="$uri" npm test)
fi
