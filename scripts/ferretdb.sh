#!/usr/bin/env bash
# Builds FerretDB v1.24 (the MongoDB-protocol server the tests use) once and caches the
# binary outside the repository. Its module ships no version file, so a plain
# `go install` yields a binary that panics at start; vendoring and writing the file works.
# Prints the binary's path.
set -euo pipefail
cache="${PARLEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/parley}"
bin="$cache/ferretdb-v1.24.0"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  go mod init ferretdb-build >/dev/null 2>&1
  go get -tool github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.0 >&2
  go mod vendor >&2
  echo v1.24.0 > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
  go build -mod=vendor -o "$bin.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb >&2
)
mv "$bin.tmp" "$bin"
echo "$bin"
