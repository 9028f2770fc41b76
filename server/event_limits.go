package server

import (
	"time"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/utils"
)

// eventClass is the rate-limit class of a client event (config.EventLimits).
type eventClass int

const (
	classOther eventClass = iota
	classMessages
	classFriendRequests
	classSearch
	classUploads // POST /uploads, never a socket event
	numEventClasses
)

func (c eventClass) String() string {
	switch c {
	case classMessages:
		return "messages"
	case classFriendRequests:
		return "friendRequests"
	case classSearch:
		return "search"
	case classUploads:
		return "uploads"
	}
	return "other"
}

// classOf names an event's class. Names no handler knows are Other: unknown events cost
// a decode and an ack like any other, so they are counted like any other.
func classOf(event string) eventClass {
	switch event {
	case "message:new", "message:edit", "message:delete", "message:react", "message:unreact":
		return classMessages
	case "friend:request:send":
		return classFriendRequests
	case "user:search", "message:search":
		return classSearch
	}
	return classOther
}

// maxLimitedUsers bounds each class's memory: at capacity, users whose bucket has refilled
// are forgotten (a full bucket says nothing).
const maxLimitedUsers = 200_000

// Flooding: every refused event costs the socket a strike; a socket out of strikes (more
// than floodStrikes refusals faster than floodStrikesPerSec) ignores RATE_LIMITED and is
// disconnected. A client that honours retryAfterMs never gets near it.
const (
	floodStrikes       = 100
	floodStrikesPerSec = 10
)

// eventLimits holds a token bucket per user for each class, shared by the user's sockets
// on this node and kept when they disconnect, so reconnecting does not refill it.
type eventLimits struct {
	classes [numEventClasses]*utils.KeyedLimiter
}

func newEventLimits(cfg config.EventLimits) *eventLimits {
	l := &eventLimits{}
	for c, rc := range map[eventClass]config.RateClass{
		classMessages: cfg.Messages, classFriendRequests: cfg.FriendRequests,
		classSearch: cfg.Search, classUploads: cfg.Uploads, classOther: cfg.Other,
	} {
		l.classes[c] = utils.NewKeyedLimiter(rc.PerSec, rc.Burst, maxLimitedUsers)
	}
	return l
}

// take spends one of userID's tokens for event; when none is left it reports how long
// until one is.
func (l *eventLimits) take(userID, event string, now time.Time) (time.Duration, bool) {
	return l.takeClass(userID, classOf(event), now)
}

// takeClass spends one of userID's tokens of class c.
func (l *eventLimits) takeClass(userID string, c eventClass, now time.Time) (time.Duration, bool) {
	return l.classes[c].Take(userID, now)
}

func newFloodStrikes() *utils.RateLimiter {
	return utils.NewRateLimiter(floodStrikesPerSec, floodStrikes)
}
