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

step "compat suite on the MongoDB store (FerretDB)"
fdir=$(mktemp -d)
fport=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
"$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$fdir/" --listen-addr="127.0.0.1:$fport" \
  --telemetry=disable --debug-addr=- --state-dir="$fdir" --log-level=error >"$fdir/ferretdb.log" 2>&1 &
fpid=$!
trap 'kill $fpid 2>/dev/null; wait $fpid 2>/dev/null; rm -rf "$bin_dir" "$fdir"' EXIT
for _ in $(seq 1 150); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$fport") 2>/dev/null; then break; fi
  kill -0 $fpid 2>/dev/null || { cat "$fdir/ferretdb.log"; exit 1; }
  sleep 0.2
done
(cd compat && PARLEY_TEST_MONGODB_URI="mongodb://127.0.0.1:$fport/" npm test)
