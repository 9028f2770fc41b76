package config

// RateClass is one token bucket's shape: Burst events at once, refilled at PerSec.
type RateClass struct {
	PerSec float64
	Burst  int
}

// EventLimits bounds what one user may ask of a node through sockets (README "Limits").
// Each class of event has its own bucket per user, shared by all of that user's sockets
// on the node; an event counts against its class only.
type EventLimits struct {
	Messages       RateClass // message:new, edit, delete, reactions
	FriendRequests RateClass // friend:request:send
	Search         RateClass // user:search, message:search
	Uploads        RateClass // POST /uploads
	Other          RateClass // every other event, unknown ones included
	// MaxSocketsPerUser caps one user's sockets on a node; the next handshake is refused.
	MaxSocketsPerUser int
}

func defaultEventLimits() EventLimits {
	return EventLimits{
		// Generous for people and for a client flushing an offline outbox (hundreds of
		// queued sends at once); a flooder is held to 20 messages a second.
		Messages:       RateClass{PerSec: 20, Burst: 200},
		FriendRequests: RateClass{PerSec: 0.2, Burst: 20},
		Search:         RateClass{PerSec: 5, Burst: 20},
		Uploads:        RateClass{PerSec: 0.5, Burst: 20}, // two messages' worth at once, then one every 2 s
		Other:          RateClass{PerSec: 50, Burst: 300},
		// Tabs, devices and a reconnecting client's overlap fit; a script opening
		// thousands does not.
		MaxSocketsPerUser: 20,
	}
}

// loadEventLimits reads the variables of EventLimits. RATE_LIMIT_PER_SEC and
// RATE_LIMIT_BURST (the per-socket limit of earlier versions) are the Other class.
func loadEventLimits(e *envReader, l *EventLimits) {
	for _, c := range []struct {
		perSec, burst string
		class         *RateClass
	}{
		{"RATE_MESSAGES_PER_SEC", "RATE_MESSAGES_BURST", &l.Messages},
		{"RATE_FRIEND_REQUESTS_PER_SEC", "RATE_FRIEND_REQUESTS_BURST", &l.FriendRequests},
		{"RATE_SEARCH_PER_SEC", "RATE_SEARCH_BURST", &l.Search},
		{"RATE_UPLOADS_PER_SEC", "RATE_UPLOADS_BURST", &l.Uploads},
		{"RATE_LIMIT_PER_SEC", "RATE_LIMIT_BURST", &l.Other},
	} {
		e.positive(c.perSec, &c.class.PerSec, 1e9, "a positive number")
		e.intIn(c.burst, &c.class.Burst, 1, 1_000_000_000)
	}
	e.intIn("MAX_SOCKETS_PER_USER", &l.MaxSocketsPerUser, 1, 100_000)
}
