package bus

import "time"

// Channel names of @socket.io/redis-adapter (default key "socket.io"), and Parley's own.
func broadcastPrefix(nsp string) string  { return "socket.io#" + nsp + "#" }
func broadcastPattern(nsp string) string { return broadcastPrefix(nsp) + "*" }
func roomChannel(nsp, room string) string {
	return broadcastPrefix(nsp) + room + "#"
}
func requestChannel(nsp string) string  { return "socket.io-request#" + nsp + "#" }
func responseChannel(nsp string) string { return "socket.io-response#" + nsp + "#" }

// recentChannel carries, for a few seconds after a room was joined somewhere, second
// copies of Parley nodes' broadcasts to it: a node that just started listening to the
// room's channel may not be subscribed yet when the first broadcast goes out. Node
// adapters do not listen to it (it is outside their pattern); every Parley node does,
// which also makes its subscriber count the number of Parley nodes.
func recentChannel(nsp string) string { return "parley#" + nsp + "#recent" }

// broadcastChannel is where a broadcast is published: its room's channel when it targets
// exactly one room, else the namespace's channel (as the Node adapter does).
func broadcastChannel(nsp string, rooms []string) string {
	if len(rooms) == 1 {
		return roomChannel(nsp, rooms[0])
	}
	return broadcastPrefix(nsp)
}

// recentWindow is how long a joined room gets second copies on recentChannel.
const recentWindow = 5 * time.Second

// unsubscribeDelay keeps listening to a room that just lost its last local socket, so a
// reloading tab does not make the node unsubscribe and subscribe again.
const unsubscribeDelay = 5 * time.Second
