package engineio

import "time"

// Options configure a Server. Zero values take the defaults of Node's engine.io.
type Options struct {
	// PingInterval is how often the server pings a connection; PingTimeout how long it
	// waits for the pong before closing it ("ping timeout"). Defaults 25 s and 20 s.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// UpgradeTimeout bounds a polling → WebSocket upgrade between the probe and the
	// upgrade packet. Default 10 s.
	UpgradeTimeout time.Duration
	// UpgradeCheck is how long a GET that arrives during an upgrade is held (default
	// 100 ms, Node's check interval): refused if the upgrade completes meanwhile, else a noop.
	UpgradeCheck time.Duration
	// MaxPayload is the largest packet (WebSocket message) or polling request body
	// accepted, in bytes; larger ones close the connection. Default 1,000,000.
	MaxPayload int
	// MaxQueueBytes bounds what may wait in one connection's send queue. A connection
	// whose queue would grow beyond it is not reading: it is closed ("slow consumer")
	// instead of buffering without end. Default 4 MiB.
	MaxQueueBytes int
	// WriteDelay, when positive, lets a WebSocket connection's new packets wait up to
	// this long while traffic is sustained, so that one write carries everything queued
	// for it meanwhile (writeCoalescer); after a quiet window a packet goes at once.
	// Zero (the default, as in Node) writes every packet as soon as a writer is free.
	WriteDelay time.Duration
	// AllowOrigin decides whether a request with an Origin header may proceed; nil allows
	// every origin. Refused requests get 403 before any session is created or touched.
	AllowOrigin func(origin string) bool
	// OnConnection is called once per new session, before its open packet is written; it
	// must call SetHandler. Required.
	OnConnection func(c *Conn)
	// OnSlowConsumer, when set, is told about each connection dropped for not reading,
	// with the bytes that were queued for it.
	OnSlowConsumer func(c *Conn, queuedBytes int)
}

func (o *Options) setDefaults() {
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeCheck <= 0 {
		o.UpgradeCheck = 100 * time.Millisecond
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = 1_000_000
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = 4 << 20
	}
}
