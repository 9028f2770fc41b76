// Command loadgen is the Go load generator of scripts/bench.sh (BENCH_LOADGEN=go, the
// default): the same scenarios as the Node generators bench/load.js, bench/fanout.js and
// bench/idle.js, with the same flags and the same JSON object on stdout, so
// bench/report.js reads either. It speaks Socket.IO v4 over WebSocket with a minimal
// client of its own (sio.go) instead of socket.io-client, so that the load generator
// costs a fraction of what the servers do and does not bound their throughput: the Node
// generator spends ~30 µs of JavaScript per received event on one core.
//
//	loadgen load   --url URL --target parley|node|node-sqlite --mode closed|open ...  (load.js)
//	loadgen fanout --url URL --target T --clients N --inflight N --bytes N ...          (fanout.js)
//	loadgen idle   --url URL --target parley|node --conns N --batch N --pid PID ...     (idle.js)
//
// Env BENCH_JWT_SECRET: Parley's JWT_SECRET, to sign a token per user (--target parley).
// Exit status as the Node generators: 0; 1 when operations were lost, failed or timed
// out (the JSON is printed anyway) or setup failed; 2 for bad arguments or a setup
// deadline.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "load":
		runLoad(args)
	case "fanout":
		runFanout(args)
	case "idle":
		runIdle(args)
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen load|fanout|idle [flags] (flags as bench/load.js, bench/fanout.js, bench/idle.js; -h for a list)")
	os.Exit(2)
}
