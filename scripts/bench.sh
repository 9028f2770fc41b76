#!/usr/bin/env bash
# Parley's benchmarks against Node socket.io 4.8 servers, measured in the same run. Each
# server is its own process on 127.0.0.1, the load generator another one: by default
# bench/loadgen (Go, a minimal Socket.IO v4 client of its own over WebSocket), or with
# BENCH_LOADGEN=node the official socket.io-client v4 in Node (bench/load.js, fanout.js,
# idle.js), which spends ~30 us of JavaScript per received event on one core and so can
# bound the servers' throughput. Both drive the same scenarios and print the same JSON.
# Prints one Markdown table per scenario with each server's row and Parley / Node ratio rows.
#
#   scripts/bench.sh                                  # all five scenarios, ~7-8 min on 2 cores
#                                                     # (+2-3 min once, to build the search database)
#   BENCH_SCENARIOS="e2e open" scripts/bench.sh       # a subset
#   BENCH_QUICK=1 scripts/bench.sh                    # short windows, 1,000 idle conns (~2 min)
#
# Scenarios (BENCH_SCENARIOS, default "fanout e2e open idle search"):
#   fanout  200 clients in one room `r`; 16 `m` broadcasts of ~150-byte JSON in flight, each
#           complete when every client (sender included) has it. Node: bench/node-fanout-server.js;
#           Parley: the Go main package bench/fanout (skipped, with a note, until it exists).
#   e2e     closed loop: 10 rooms x 20 members, 16 senders round-robin over the rooms, 32 acked
#           `message:new` in flight in total, 100-character texts. Parley (SQLite), Node with
#           SQLite (bench/node-sqlite-server.js, better-sqlite3) and bare Node (bench/node-server.js).
#   open    the e2e shape at a fixed offered rate (open loop, 1,000 msgs/s), ack latency from
#           each send's scheduled time; same three servers.
#   idle    5,000 idle websocket connections opened in batches; RSS per connection. Parley
#           (one JWT user per connection) and bare Node.
#   search  message:search on SQLite, Parley only (no server, no load generator): the Go benchmark
#           BenchmarkSearchMessages (models/sqlite/search_bench_test.go) on a database of
#           1,000,000 messages in 1,000 chats, built once with plain SQL and kept in
#           ~/.cache/parley; p50/p90/p99 of a search by a caller in 20 of the chats, in one chat
#           (chatId), and by a caller in 200 chats. It measures the store call (the query and
#           reading the page), on the work tree's code. BENCH_SEARCH=0 skips it.
#
# Knobs (environment; defaults in brackets, BENCH_QUICK=1 changes the starred ones):
#   BENCH_SCENARIOS   scenarios, in order ["fanout e2e open idle search"]
#   BENCH_LOADGEN     go (bench/loadgen, built here) or node (bench/*.js, socket.io-client) [go]
#   BENCH_SERVERS     servers to run where a scenario has them ["parley node-sqlite node"];
#                     in fanout "parley" is bench/fanout and "node" bench/node-fanout-server.js
#   BENCH_RUNS        rounds per scenario, alternating server order [1]
#   BENCH_SECONDS*    measured window, fanout/e2e/open [10; quick 4]
#   BENCH_WARMUP*     warm-up seconds, fanout/e2e/open [3; quick 1]
#   fanout:  BENCH_FANOUT_CLIENTS [200]  BENCH_FANOUT_INFLIGHT [16]  BENCH_FANOUT_BYTES [150]
#            BENCH_FANOUT_BIN  a prebuilt binary with bench/fanout's contract, run instead of
#                              building ./bench/fanout (e.g. to compare two builds)
#   e2e/open: BENCH_ROOMS [10]  BENCH_MEMBERS [20]  BENCH_SENDERS (in total) [16]
#            BENCH_INFLIGHT (e2e, in total) [BENCH_SENDERS x BENCH_WINDOW]  BENCH_WINDOW [2]
#            BENCH_TEXT_BYTES [100]  BENCH_RATE (open, msgs/s in total) [1000]
#            BENCH_ACK_TIMEOUT_MS [10000]
#   idle:    BENCH_IDLE_CONNS* [5000; quick 1000]  BENCH_IDLE_BATCH [250]
#            BENCH_IDLE_SECONDS* [10; quick 3]  BENCH_IDLE_SETTLE [2]
#   search:  BENCH_SEARCH [1; 0 leaves the scenario out]  BENCH_SEARCH_QUERIES* per case [2000; quick 500]
#            BENCH_SEARCH_MESSAGES [1000000]  BENCH_SEARCH_CHATS [1000]
#            BENCH_SEARCH_DB  the database file [~/.cache/parley/search-bench-<messages>-<chats>-v1.db]
#   BENCH_PARLEY_REV  build Parley from this git revision (git archive into a temporary
#                     directory; the work tree is untouched) instead of the work tree,
#                     e.g. BENCH_PARLEY_REV=HEAD to measure the last commit
#   BENCH_PARLEY_BIN  run this prebuilt Parley binary instead of building one
#   GOGC, GOMAXPROCS, GODEBUG are passed through to the Go servers as they are set (not to
#                     bench/loadgen, which runs with the Go defaults).
# (BENCH_SENDERS used to count senders per room; it now counts them in total.)
#
# For each server: start it on a free 127.0.0.1 port (Parley on a fresh SQLite file in a
# temporary directory with a fresh JWT_SECRET, rate limit raised out of the way; Node+SQLite
# on a fresh file too), wait for GET /healthz, run the load generator (bounded by
# timeout(1)), read the server's peak RSS (VmHWM, reset by the load generator when the
# measured window starts) and RSS at the end (VmRSS), stop it by pid (SIGTERM, SIGKILL after
# 5 s). Server CPU is utime+stime from /proc/<pid>/stat, sampled by the load generator at
# the edges of the measured window. Only processes started here are stopped.
#
# Exit status: 0, or 1 when a run or a build failed (the report is printed anyway).
# Needs: Go, Node >= 20 and npm (bench/node_modules is installed with `npm ci` if missing;
# better-sqlite3 builds from source, 1-3 minutes), curl, Linux /proc.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${BENCH_QUICK:-0}
LOADGEN=${BENCH_LOADGEN:-go}
[ "$QUICK" = 1 ] && q=1 || q=0
SCENARIOS=${BENCH_SCENARIOS:-fanout e2e open idle search}
if [ "${BENCH_SEARCH:-1}" = 0 ]; then SCENARIOS=$(echo " $SCENARIOS " | sed 's/ search / /g'); fi
SEARCH_QUERIES=${BENCH_SEARCH_QUERIES:-$([ $q = 1 ] && echo 500 || echo 2000)}
SEARCH_MESSAGES=${BENCH_SEARCH_MESSAGES:-1000000}
SEARCH_CHATS=${BENCH_SEARCH_CHATS:-1000}
SERVERS=${BENCH_SERVERS:-parley node-sqlite node}
RUNS=${BENCH_RUNS:-1}
SECS=${BENCH_SECONDS:-$([ $q = 1 ] && echo 4 || echo 10)}
WARMUP=${BENCH_WARMUP:-$([ $q = 1 ] && echo 1 || echo 3)}
FANOUT_CLIENTS=${BENCH_FANOUT_CLIENTS:-200}
FANOUT_INFLIGHT=${BENCH_FANOUT_INFLIGHT:-16}
FANOUT_BYTES=${BENCH_FANOUT_BYTES:-150}
ROOMS=${BENCH_ROOMS:-10}
MEMBERS=${BENCH_MEMBERS:-20}
SENDERS=${BENCH_SENDERS:-16}
WINDOW=${BENCH_WINDOW:-2}
INFLIGHT=${BENCH_INFLIGHT:-$((SENDERS * WINDOW))}
TEXT_BYTES=${BENCH_TEXT_BYTES:-100}
RATE=${BENCH_RATE:-1000}
ACK_TIMEOUT_MS=${BENCH_ACK_TIMEOUT_MS:-10000}
IDLE_CONNS=${BENCH_IDLE_CONNS:-$([ $q = 1 ] && echo 1000 || echo 5000)}
IDLE_BATCH=${BENCH_IDLE_BATCH:-250}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-$([ $q = 1 ] && echo 3 || echo 10)}
IDLE_SETTLE=${BENCH_IDLE_SETTLE:-2}

say() { printf '[bench] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in go node npm curl getconf timeout; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ -r /proc/self/stat ] || die "needs Linux /proc"
CLK_TCK=$(getconf CLK_TCK)

has() { # word list...
  local w=$1; shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}
has "$LOADGEN" go node || die "BENCH_LOADGEN must be go or node, got '$LOADGEN'"
for s in $SCENARIOS; do
  has "$s" fanout e2e open idle search || die "unknown scenario $s in BENCH_SCENARIOS (want fanout, e2e, open, idle, search)"
done
for s in $SERVERS; do
  has "$s" parley node-sqlite node || die "unknown server $s in BENCH_SERVERS (want parley, node-sqlite, node)"
done
for v in RUNS:RUNS SECS:SECONDS FANOUT_CLIENTS:FANOUT_CLIENTS FANOUT_INFLIGHT:FANOUT_INFLIGHT FANOUT_BYTES:FANOUT_BYTES \
  ROOMS:ROOMS MEMBERS:MEMBERS SENDERS:SENDERS INFLIGHT:INFLIGHT TEXT_BYTES:TEXT_BYTES RATE:RATE ACK_TIMEOUT_MS:ACK_TIMEOUT_MS \
  IDLE_CONNS:IDLE_CONNS IDLE_BATCH:IDLE_BATCH IDLE_SECONDS:IDLE_SECONDS \
  SEARCH_QUERIES:SEARCH_QUERIES SEARCH_MESSAGES:SEARCH_MESSAGES SEARCH_CHATS:SEARCH_CHATS; do
  var=${v%%:*}
  [[ ${!var} =~ ^[0-9]+$ ]] && [ "${!var}" -gt 0 ] || die "BENCH_${v#*:} must be a positive integer, got '${!var}'"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a whole number of seconds, got '$WARMUP'"
[[ $IDLE_SETTLE =~ ^[0-9]+$ ]] || die "BENCH_IDLE_SETTLE must be a whole number of seconds, got '$IDLE_SETTLE'"

# The servers each scenario runs, in order, from BENCH_SERVERS.
servers_for() {
  local s out=()
  case "$1" in
    fanout)
      for s in $SERVERS; do
        case "$s" in parley) out+=(parley-fanout) ;; node) out+=(node-fanout) ;; esac
      done
      ;;
    e2e | open) for s in $SERVERS; do out+=("$s"); done ;;
    idle) for s in $SERVERS; do [ "$s" = node-sqlite ] || out+=("$s"); done ;;
  esac
  echo "${out[*]}"
}
wanted=""
for s in $SCENARIOS; do wanted+=" $(servers_for "$s")"; done
# Scenarios with servers and a load generator (search has neither: it needs only Go).
load_scenarios=0
for s in $SCENARIOS; do [ "$s" = search ] || load_scenarios=1; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")
server_pid=""
load_pid=""
failed=0
nnote=0
results=()

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
    kill -TERM "$load_pid" 2>/dev/null || true # timeout(1) passes it on to the load generator
    wait "$load_pid" 2>/dev/null || true
  fi
  stop_server "$server_pid"
  server_pid=""
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { # scenario text
  nnote=$((nnote + 1))
  say "$1: $2"
  node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({scenario: process.argv[2], note: process.argv[3]}))' \
    "$tmp/note.$nnote.json" "$1" "$2"
  results+=("$tmp/note.$nnote.json")
}

# --- file descriptors: the idle scenario holds IDLE_CONNS sockets in each of two processes ---
if has idle $SCENARIOS; then
  need=$((IDLE_CONNS + 1024))
  soft=$(ulimit -Sn)
  hard=$(ulimit -Hn)
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
      die "the idle scenario needs $need open files per process, the hard limit is $hard (lower BENCH_IDLE_CONNS)"
    fi
    ulimit -Sn "$need"
  fi
fi

# --- build and install ---
parley_bin=""
parley_src="work tree"
if has parley $wanted; then
  if [ -n "${BENCH_PARLEY_BIN:-}" ]; then
    [ -x "$BENCH_PARLEY_BIN" ] || die "BENCH_PARLEY_BIN=$BENCH_PARLEY_BIN is not an executable file"
    parley_bin=$BENCH_PARLEY_BIN
    parley_src="binary $BENCH_PARLEY_BIN"
  elif [ -n "${BENCH_PARLEY_REV:-}" ]; then
    rev=$(git rev-parse --short --verify "${BENCH_PARLEY_REV}^{commit}" 2>/dev/null) || die "BENCH_PARLEY_REV=$BENCH_PARLEY_REV is not a commit"
    say "building Parley from commit $rev"
    mkdir -p "$tmp/parley-src"
    git archive --format=tar "$rev" | tar -x -C "$tmp/parley-src"
    if (cd "$tmp/parley-src" && timeout 300 go build -o "$tmp/parley" .); then parley_bin="$tmp/parley"; fi
    parley_src="commit $rev"
  else
    say "building Parley (work tree)"
    if timeout 300 go build -o "$tmp/parley" .; then parley_bin="$tmp/parley"; fi
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain --untracked-files=no -- . ':!bench' ':!scripts/bench.sh' 2>/dev/null)" ]; then
      parley_src="work tree: $commit + local changes"
    else
      parley_src="work tree: $commit"
    fi
  fi
  if [ -z "$parley_bin" ]; then
    failed=1
    for s in $SCENARIOS; do
      [ "$s" = fanout ] || note "$s" "Parley ($parley_src): SKIPPED, \`go build\` failed (see the output above)."
    done
  fi
fi
fanout_bin=""
if has parley-fanout $wanted; then
  if [ -n "${BENCH_FANOUT_BIN:-}" ]; then
    [ -x "$BENCH_FANOUT_BIN" ] || die "BENCH_FANOUT_BIN=$BENCH_FANOUT_BIN is not an executable file"
    fanout_bin=$BENCH_FANOUT_BIN
    say "Parley's fan-out server: $fanout_bin (BENCH_FANOUT_BIN)"
  elif compgen -G "bench/fanout/*.go" >/dev/null; then
    say "building Parley's fan-out server (./bench/fanout)"
    if timeout 300 go build -o "$tmp/parley-fanout" ./bench/fanout; then
      fanout_bin="$tmp/parley-fanout"
    else
      failed=1
      note fanout "Parley's fan-out server: SKIPPED, \`go build ./bench/fanout\` failed (see the output above)."
    fi
  else
    note fanout "Parley's fan-out server: SKIPPED, ./bench/fanout does not exist yet (a Go main package: PORT and HOST env, GET /healthz, every socket joins room \`r\`, each \`m\` event is broadcast to \`r\` sender included)."
  fi
fi
loadgen=() # the Go load generator's command, empty for the Node generators
if [ "$LOADGEN" = go ] && [ "$load_scenarios" = 1 ]; then
  say "building the load generator (./bench/loadgen)"
  timeout 300 go build -o "$tmp/loadgen" ./bench/loadgen || die "go build ./bench/loadgen failed (BENCH_LOADGEN=node runs the Node load generators)"
  # The Go runtime knobs are for the servers under test: the load generator runs without them.
  loadgen=(env -u GOGC -u GOMAXPROCS -u GODEBUG "$tmp/loadgen")
  # report.js describes the Node generator's client in its Shape lines; say which one ran.
  for s in $SCENARIOS; do
    [ "$s" = search ] && continue
    note "$s" "Load generator: bench/loadgen (Go; its own Socket.IO v4 client over WebSocket, one process, not socket.io-client v4 as the Shape line says). BENCH_LOADGEN=node runs the Node generators."
  done
fi
deps_ok() {
  [ -d bench/node_modules/socket.io ] && [ -d bench/node_modules/socket.io-client ] || return 1
  if has node-sqlite $wanted; then
    (cd bench && node -e 'require("better-sqlite3")' 2>/dev/null) || return 1
  fi
}
if [ "$load_scenarios" = 1 ] && ! deps_ok; then
  say "installing bench dependencies (npm ci; better-sqlite3 compiles from source, 1-3 minutes)"
  nodedir=()
  # Build the native module against the installed Node's headers, not downloaded ones.
  [ -f /usr/include/node/node.h ] && nodedir=(env npm_config_nodedir=/usr)
  (cd bench && timeout 900 "${nodedir[@]}" npm ci --no-audit --no-fund >&2) || die "npm ci failed in bench/"
  deps_ok || die "bench dependencies still missing after npm ci"
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_healthy() { # pid port name
  local pid=$1 port=$2 name=$3
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || { say "$name exited during start-up (log: $(tail -n 5 "$tmp/$name.log" 2>/dev/null))"; return 1; }
    curl -fsS -m 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  say "$name did not answer /healthz within 15 s"
  return 1
}

jwt_secret=""
start_server() { # key port
  local key=$1 port=$2
  jwt_secret=""
  case "$key" in
    parley)
      rm -rf "$tmp/parley-data"
      mkdir -p "$tmp/parley-data"
      jwt_secret="bench-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
      # SQLite (not MongoDB, no Redis), a fresh file, quiet logs, rate limit out of the way.
      env -u MONGODB_URI -u REDIS_URL -u JWT_PUBLIC_KEY -u JWT_ISSUER -u JWT_AUDIENCE -u AUTH_ALLOW_USER_ID \
        PORT="$port" HOST=127.0.0.1 SQLITE_PATH="$tmp/parley-data/parley.db" JWT_SECRET="$jwt_secret" \
        LOG_LEVEL=error RATE_LIMIT_PER_SEC=1000000 RATE_LIMIT_BURST=1000000 RATE_MESSAGES_PER_SEC=1000000 RATE_MESSAGES_BURST=1000000 SHUTDOWN_TIMEOUT_MS=3000 \
        "$parley_bin" >"$tmp/$key.log" 2>&1 &
      ;;
    parley-fanout)
      PORT="$port" HOST=127.0.0.1 "$fanout_bin" >"$tmp/$key.log" 2>&1 &
      ;;
    node)
      PORT="$port" HOST=127.0.0.1 node bench/node-server.js >"$tmp/$key.log" 2>&1 &
      ;;
    node-sqlite)
      rm -rf "$tmp/node-sqlite-data"
      mkdir -p "$tmp/node-sqlite-data"
      PORT="$port" HOST=127.0.0.1 SQLITE_PATH="$tmp/node-sqlite-data/bench.db" node bench/node-sqlite-server.js >"$tmp/$key.log" 2>&1 &
      ;;
    node-fanout)
      PORT="$port" HOST=127.0.0.1 node bench/node-fanout-server.js >"$tmp/$key.log" 2>&1 &
      ;;
    *) die "unknown server $key" ;;
  esac
  server_pid=$!
  wait_healthy "$server_pid" "$port" "$key"
}

sio_version=n/a
[ "$load_scenarios" = 1 ] && sio_version=$(node -p 'require("./bench/node_modules/socket.io/package.json").version')
label() {
  case "$1" in
    parley) echo "Parley (Go, SQLite, $parley_src${GOGC:+, GOGC=$GOGC})" ;;
    parley-fanout)
      if [ -n "${BENCH_FANOUT_BIN:-}" ]; then echo "Parley fan-out (BENCH_FANOUT_BIN=$BENCH_FANOUT_BIN${GOGC:+, GOGC=$GOGC})"
      else echo "Parley bench/fanout (Go${GOGC:+, GOGC=$GOGC})"; fi
      ;;
    node) echo "Node socket.io $sio_version (no DB)" ;;
    node-sqlite)
      echo "Node socket.io $sio_version + better-sqlite3 $(cd bench && node -p 'require("better-sqlite3/package.json").version+" (SQLite "+new (require("better-sqlite3"))(":memory:").prepare("select sqlite_version() v").get().v+")"')"
      ;;
    node-fanout) echo "Node socket.io $sio_version" ;;
  esac
}

run_one() { # scenario key round
  local scenario=$1 key=$2 round=$3 port out rc=0 limit
  local -a cmd
  port=$(free_port)
  say "$scenario, round $round: $key on 127.0.0.1:$port"
  if ! start_server "$key" "$port"; then
    stop_server "$server_pid"
    server_pid=""
    failed=1
    note "$scenario" "$(label "$key"), round $round: FAILED, the server did not start."
    return 0
  fi
  local common=(--url "http://127.0.0.1:$port" --target "$key" --pid "$server_pid" --clk-tck "$CLK_TCK")
  case "$scenario" in
    fanout)
      cmd=(node bench/fanout.js)
      [ ${#loadgen[@]} -gt 0 ] && cmd=("${loadgen[@]}" fanout)
      cmd+=("${common[@]}" --clients "$FANOUT_CLIENTS" --inflight "$FANOUT_INFLIGHT"
        --bytes "$FANOUT_BYTES" --seconds "$SECS" --warmup "$WARMUP")
      limit=$((SECS + WARMUP + 90))
      ;;
    e2e | open)
      local mode=closed
      [ "$scenario" = open ] && mode=open
      cmd=(node bench/load.js)
      [ ${#loadgen[@]} -gt 0 ] && cmd=("${loadgen[@]}" load)
      cmd+=("${common[@]}" --mode "$mode" --rooms "$ROOMS" --members "$MEMBERS"
        --senders "$SENDERS" --inflight "$INFLIGHT" --rate "$RATE" --text-bytes "$TEXT_BYTES"
        --seconds "$SECS" --warmup "$WARMUP" --ack-timeout-ms "$ACK_TIMEOUT_MS")
      limit=$((SECS + WARMUP + ACK_TIMEOUT_MS / 1000 + 120))
      ;;
    idle)
      cmd=(node --max-old-space-size=4096 bench/idle.js)
      [ ${#loadgen[@]} -gt 0 ] && cmd=("${loadgen[@]}" idle)
      cmd+=("${common[@]}" --conns "$IDLE_CONNS" --batch "$IDLE_BATCH"
        --settle "$IDLE_SETTLE" --seconds "$IDLE_SECONDS" --connect-deadline-s 180)
      limit=$((IDLE_SETTLE + IDLE_SECONDS + 240))
      ;;
  esac
  out="$tmp/$scenario.$key.$round.load.json"
  # The secret only reaches the load generator, through its environment.
  BENCH_JWT_SECRET="$jwt_secret" timeout --kill-after=5 "$limit" "${cmd[@]}" >"$out" &
  load_pid=$!
  # In the background and waited for, so INT/TERM reach the trap at once.
  wait "$load_pid" || rc=$?
  load_pid=""
  local hwm rss
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true)
  kill -0 "$server_pid" 2>/dev/null || say "warning: $key was not running at the end of the run (log: $(tail -n 5 "$tmp/$key.log" 2>/dev/null))"
  stop_server "$server_pid"
  server_pid=""
  if [ ! -s "$out" ]; then
    failed=1
    local why="exit $rc"
    [ "$rc" -eq 124 ] && why="timed out after $limit s"
    note "$scenario" "$(label "$key"), round $round: FAILED, the load generator produced no result ($why); server log tail: $(tail -n 3 "$tmp/$key.log" 2>/dev/null | tr '\n' ' ')"
    return 0
  fi
  [ "$rc" -eq 0 ] || say "warning: the load generator reported lost, failed or timed-out operations against $key (exit $rc); see the per-run lines"
  local gogc=""
  case "$key" in parley*) gogc=${GOGC:-} ;; esac
  node -e '
    const fs = require("fs");
    const [file, key, server, round, hwm, rss, gogc] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    Object.assign(r, { key, server, round: Number(round), peakRssKiB: hwm ? Number(hwm) : null, endRssKiB: rss ? Number(rss) : null });
    if (gogc) r.gogc = gogc;
    fs.writeFileSync(file.replace(/\.load\.json$/, ".json"), JSON.stringify(r));
  ' "$out" "$key" "$(label "$key")" "$round" "$hwm" "$rss" "$gogc"
  results+=("${out%.load.json}.json")
}

# The search scenario: the Go benchmark writes its results as JSON; each case becomes a run.
run_search() {
  local raw="$tmp/search.raw.json" rc=0
  local -a dbenv=()
  [ -n "${BENCH_SEARCH_DB:-}" ] && dbenv=(PARLEY_BENCH_SEARCH_DB="$BENCH_SEARCH_DB")
  say "search: BenchmarkSearchMessages, $SEARCH_QUERIES queries per case on $SEARCH_MESSAGES messages in $SEARCH_CHATS chats (the database is built once, 2-3 min)"
  env "${dbenv[@]}" PARLEY_BENCH_SEARCH_JSON="$raw" PARLEY_BENCH_SEARCH_MESSAGES="$SEARCH_MESSAGES" PARLEY_BENCH_SEARCH_CHATS="$SEARCH_CHATS" \
    timeout 3600 go test ./models/sqlite -run '^$' -bench '^BenchmarkSearchMessages$' -benchtime "${SEARCH_QUERIES}x" -timeout 60m \
    >"$tmp/search.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] || [ ! -s "$raw" ]; then
    failed=1
    note search "Parley message:search: FAILED (exit $rc): $(tail -n 5 "$tmp/search.log" | tr '\n' ' ')"
    return 0
  fi
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  node -e '
    const fs = require("fs");
    const [raw, dir, commit] = process.argv.slice(1);
    const names = { caller_in_20_chats: "caller in 20 chats", one_chat_chatId: "one chat (chatId)", caller_in_200_chats: "caller in 200 chats" };
    JSON.parse(fs.readFileSync(raw, "utf8")).forEach((r, i) => {
      const c = r.scenario;
      Object.assign(r, { key: `search-${c}`, case: c, scenario: "search", round: 1,
        server: `Parley SQLite (work tree ${commit}): ${names[c] || c}` });
      const f = `${dir}/search.${i}.json`;
      fs.writeFileSync(f, JSON.stringify(r));
      console.log(f);
    });
  ' "$raw" "$tmp" "$commit" >"$tmp/search.files" || { failed=1; note search "Parley message:search: FAILED to read the results"; return 0; }
  while read -r f; do results+=("$f"); done <"$tmp/search.files"
}

t_start=$(date +%s)
for scenario in $SCENARIOS; do
  if [ "$scenario" = search ]; then
    run_search
    continue
  fi
  keys=$(servers_for "$scenario")
  for round in $(seq "$RUNS"); do
    order=$keys
    # Alternate the order between rounds, so no server always runs first.
    if [ $((round % 2)) -eq 0 ]; then order=$(echo "$keys" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    for key in $order; do
      [ "$key" = parley-fanout ] && [ -z "$fanout_bin" ] && continue
      [ "$key" = parley ] && [ -z "$parley_bin" ] && continue
      run_one "$scenario" "$key" "$round"
    done
  done
done
say "all runs took $(($(date +%s) - t_start)) s"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit (with local changes)"
BENCH_META=$(node -e 'console.log(JSON.stringify({date: new Date().toISOString().slice(0,16).replace("T"," ")+" UTC", commit: process.argv[1], cores: require("os").cpus().length, node: "Node "+process.version, go: process.argv[2]}))' \
  "$commit" "$(go env GOVERSION)")
if [ ${#results[@]} -gt 0 ]; then
  BENCH_META="$BENCH_META" node bench/report.js "${results[@]}"
else
  say "no results"
  failed=1
fi
exit "$failed"
