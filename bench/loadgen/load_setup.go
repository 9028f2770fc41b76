package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Setup of `loadgen load`, as load.js does it. Against Parley: a distinct HS256 JWT per
// user (Parley creates the user on first connect), a group per room made with
// chat:create by its first member, and a wait until every other member has chat:new.
// Against the Node servers: arbitrary tokens, rooms named in the handshake (auth.rooms).

// onEvent is member i's event handler (on its reader goroutine).
func (l *loadRun) onEvent(i int) func(name, rest []byte) {
	return func(name, rest []byte) {
		switch string(name) {
		case "message:new":
			if l.phase.Load() == phaseSetup {
				return // load.js listens only once setup is done
			}
			l.deliveriesTotal.Add(1)
			if l.phase.Load() == phaseMeasure {
				l.deliveries.Add(1)
				// Every fourth member's deliveries are timed: parsing every one would cost
				// the load generator a third more CPU on a machine it shares.
				if i%4 != 0 {
					return
				}
				if ms, ok := l.deliveryLatency(rest); ok {
					m := &l.deliveryLats[i]
					m.mu.Lock()
					m.v = append(m.v, ms)
					m.mu.Unlock()
				}
			}
		case "chat:new":
			if l.phase.Load() != phaseSetup {
				return
			}
			arg, _, ok := nextArg(rest)
			if !ok {
				return
			}
			chat, _ := field(arg, "chat")
			idRaw, _ := field(chat, "id")
			if id, ok := jsonString(idRaw); ok && id != "" {
				l.chatMu.Lock()
				l.chatNew[i][id] = true
				l.chatMu.Unlock()
			}
		}
	}
}

// deliveryLatency is how long ago the message of a message:new delivery (rest: its
// arguments) was sent, from the "<run>-<sender>-<n>" clientId the sender gave it.
func (l *loadRun) deliveryLatency(rest []byte) (float64, bool) {
	now := time.Now().UnixNano()
	arg, _, ok := nextArg(rest)
	if !ok {
		return 0, false
	}
	msg, _ := field(arg, "message")
	raw, _ := field(msg, "clientId")
	id, ok := jsonString(raw)
	if !ok || !strings.HasPrefix(id, l.run+"-") {
		return 0, false
	}
	no, n, ok := strings.Cut(id[len(l.run)+1:], "-")
	if !ok {
		return 0, false
	}
	k, err1 := strconv.Atoi(no)
	seq, err2 := strconv.ParseInt(n, 10, 64)
	if err1 != nil || err2 != nil || k < 0 || k >= len(l.senders) {
		return 0, false
	}
	stamp := &l.senders[k].sentAt[seq%sentRing]
	if stamp.n.Load() != seq {
		return 0, false // overwritten by a later send: too old to say
	}
	return float64(now-stamp.t.Load()) / float64(time.Millisecond), true
}

func (l *loadRun) onDisconnect(reason string) {
	if l.active() {
		l.disconnects.Add(1)
		l.log("a client disconnected during the run: %s", reason)
	}
}

func (l *loadRun) setup() error {
	l.run = runTag()
	n := l.rooms * l.members
	l.clients = make([]*Client, n)
	l.deliveryLats = make([]memberLats, n)
	l.chatNew = make([]map[string]bool, n)
	for i := range l.chatNew {
		l.chatNew[i] = map[string]bool{}
	}
	userIDs := make([]string, n)
	for i := range userIDs {
		userIDs[i] = randomID()
	}
	t0 := time.Now()
	err := pool(n, 20, func(i int) error {
		r, m := i/l.members, i%l.members
		var auth []byte
		if l.parley {
			tok := signJWT(l.secret, userIDs[i], map[string]any{"name": fmt.Sprintf("Bench %d.%d", r, m)})
			auth = authJSON(map[string]any{"token": tok})
		} else {
			auth = authJSON(map[string]any{"token": fmt.Sprintf("tok-%s-%d-%d", l.run, r, m), "rooms": []string{fmt.Sprintf("room-%d", r)}})
		}
		c, err := Dial(l.wsURL, Options{Auth: auth, Timeout: 20 * time.Second, OnEvent: l.onEvent(i), OnDisconnect: l.onDisconnect})
		l.clients[i] = c
		return err
	})
	if err != nil {
		return err
	}
	// Ack timeouts fire from one sweeper over all connections (chat:create's too).
	l.stopSweep = sweepAcks(l.clients, 100*time.Millisecond)
	if !l.parley {
		for r := 0; r < l.rooms; r++ {
			l.roomList = append(l.roomList, room{chatID: fmt.Sprintf("room-%d", r), clients: l.clients[r*l.members : (r+1)*l.members], first: r * l.members})
		}
		return nil
	}
	l.log("connected %d JWT users in %.1f s", n, time.Since(t0).Seconds())
	for r := 0; r < l.rooms; r++ {
		first := r * l.members
		ids := userIDs[first+1 : first+l.members]
		payload := authJSON(map[string]any{"type": "group", "name": fmt.Sprintf("bench %d", r), "participantIds": ids})
		res, err := l.clients[first].Call("chat:create", payload, 20*time.Second)
		if err != nil {
			return fmt.Errorf("chat:create: no ack (%v)", err)
		}
		ok, _ := field(res, "success")
		chat, _ := field(res, "chat")
		idRaw, _ := field(chat, "id")
		id, isStr := jsonString(idRaw)
		if !truthy(ok) || !isStr {
			return fmt.Errorf("chat:create: %s", res)
		}
		l.roomList = append(l.roomList, room{chatID: id, clients: l.clients[first : first+l.members], first: first})
	}
	// Every member other than the creator must have chat:new (it is sent after the join).
	deadline := time.Now().Add(20 * time.Second)
	for {
		missing := 0
		l.chatMu.Lock()
		for _, rm := range l.roomList {
			for m := 1; m < l.members; m++ {
				if !l.chatNew[rm.first+m][rm.chatID] {
					missing++
				}
			}
		}
		l.chatMu.Unlock()
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d members never got chat:new", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
