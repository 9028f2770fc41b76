#!/usr/bin/env bash
# Room fan-out benchmark: Parley against a bare Node.js socket.io v4 server doing the same
# broadcast (bench/node-server.js), measured in the same run, each server its own process,
# the load generator (bench/load.js, the official socket.io-client v4) a third one.
#
#   scripts/bench.sh                      # about a minute on 2 cores; prints a Markdown table
#
# Knobs (environment):
#   BENCH_SECONDS  measured window per server (10)     BENCH_WARMUP   warm-up seconds (3)
#   BENCH_ROOMS    rooms (10)                          BENCH_MEMBERS  members per room (20)
#   BENCH_SENDERS  senders per room (4)                BENCH_WINDOW   in-flight acked sends per sender (2)
#   BENCH_TEXT_BYTES  message text length (64)         BENCH_RUNS     rounds, alternating server order (1)
#   BENCH_SERVERS  which servers ("parley node")
#   GOGC, GOMAXPROCS, GODEBUG are passed through to Parley as they are set.
#
# For each server: start it on a free 127.0.0.1 port (Parley on a fresh SQLite file in a
# temporary directory, rate limit raised out of the way), run the load, read the server's
# CPU time (utime+stime from /proc/<pid>/stat, sampled by load.js at the edges of the
# measured window), its peak RSS (VmHWM, reset after setup so it is the peak under load)
# and its RSS at the end (VmRSS), stop it. Everything is bounded in time, loopback only, and
# the servers started here are stopped on exit.
# Needs: Go, Node >= 20 and npm (bench/node_modules is installed with `npm ci` if missing),
# curl, Linux /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-3}
ROOMS=${BENCH_ROOMS:-10}
MEMBERS=${BENCH_MEMBERS:-20}
SENDERS=${BENCH_SENDERS:-4}
WINDOW=${BENCH_WINDOW:-2}
TEXT_BYTES=${BENCH_TEXT_BYTES:-64}
RUNS=${BENCH_RUNS:-1}
SERVERS=${BENCH_SERVERS:-parley node}

say() { printf '[bench] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in go node npm curl getconf; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ -r /proc/self/stat ] || die "needs Linux /proc"
CLK_TCK=$(getconf CLK_TCK)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")
server_pid=""
load_pid=""

stop_server() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  say "server $pid ignored SIGTERM for 5 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  if [ -n "$load_pid" ]; then
    kill -TERM "$load_pid" 2>/dev/null || true # timeout(1) passes it on to load.js
    wait "$load_pid" 2>/dev/null || true
  fi
  stop_server "$server_pid"
  server_pid=""
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build and install ---
say "building Parley"
timeout 300 go build -o "$tmp/parley" . || die "go build failed"
if [ ! -d bench/node_modules/socket.io ] || [ ! -d bench/node_modules/socket.io-client ]; then
  say "installing bench dependencies (npm ci)"
  (cd bench && timeout 300 npm ci --no-audit --no-fund >&2) || die "npm ci failed in bench/"
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_healthy() { # pid port name
  local pid=$1 port=$2 name=$3
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (log: $(tail -n 5 "$tmp/$name.log" 2>/dev/null))"
    curl -fsS -m 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$name did not answer /healthz within 15 s"
}

start_server() { # name port
  local name=$1 port=$2
  case "$name" in
    parley)
      mkdir -p "$tmp/parley-data"
      rm -f "$tmp/parley-data/"*
      # SQLite (not MongoDB, no Redis), a fresh file, quiet logs, rate limit out of the way.
      env -u MONGODB_URI -u REDIS_URL \
        PORT="$port" HOST=127.0.0.1 SQLITE_PATH="$tmp/parley-data/parley.db" \
        JWT_SECRET="bench-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" \
        LOG_LEVEL=error RATE_LIMIT_PER_SEC=1000000 RATE_LIMIT_BURST=1000000 SHUTDOWN_TIMEOUT_MS=3000 \
        "$tmp/parley" >"$tmp/$name.log" 2>&1 &
      ;;
    node)
      PORT="$port" HOST=127.0.0.1 node bench/node-server.js >"$tmp/$name.log" 2>&1 &
      ;;
    *) die "unknown server $name (want parley or node)" ;;
  esac
  server_pid=$!
  wait_healthy "$server_pid" "$port" "$name"
}

results=()
run_one() { # name round
  local name=$1 round=$2 port out rc=0
  port=$(free_port)
  say "round $round: $name on 127.0.0.1:$port"
  start_server "$name" "$port"
  out="$tmp/$name.$round.load.json"
  timeout --kill-after=5 $((SECS + WARMUP + 150)) \
    node bench/load.js --url "http://127.0.0.1:$port" --target "$name" \
      --rooms "$ROOMS" --members "$MEMBERS" --senders "$SENDERS" --window "$WINDOW" \
      --seconds "$SECS" --warmup "$WARMUP" --text-bytes "$TEXT_BYTES" \
      --pid "$server_pid" --clk-tck "$CLK_TCK" >"$out" &
  load_pid=$!
  # In the background and waited for, so INT/TERM reach the trap at once.
  wait "$load_pid" || rc=$?
  load_pid=""
  local hwm rss
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)
  stop_server "$server_pid"
  server_pid=""
  if [ ! -s "$out" ]; then
    die "load generator failed against $name (exit $rc); server log tail: $(tail -n 5 "$tmp/$name.log" 2>/dev/null)"
  fi
  [ "$rc" -eq 0 ] || say "warning: load generator reported failed or timed-out acks against $name (exit $rc)"
  local gogc=""
  [ "$name" = parley ] && gogc=${GOGC:-}
  node -e '
    const fs = require("fs");
    const [file, server, hwm, rss, gogc] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    r.server = server; r.peakRssKiB = hwm ? Number(hwm) : null; r.endRssKiB = rss ? Number(rss) : null;
    if (gogc) r.gogc = gogc;
    fs.writeFileSync(file.replace(/\.load\.json$/, ".json"), JSON.stringify(r));
  ' "$out" "$(label "$name")" "$hwm" "$rss" "$gogc"
  results+=("$tmp/$name.$round.json")
}

label() {
  case "$1" in
    parley) echo "Parley (Go, SQLite${GOGC:+, GOGC=$GOGC})" ;;
    node) echo "Node socket.io $(node -p 'require("./bench/node_modules/socket.io/package.json").version') (no DB)" ;;
  esac
}

for round in $(seq "$RUNS"); do
  order=$SERVERS
  # Alternate the order between rounds, so neither server always runs second.
  if [ $((round % 2)) -eq 0 ]; then order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
  for name in $order; do
    run_one "$name" "$round"
  done
done

node bench/report.js "${results[@]}"
