package server

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/utils"
)

// eventTimeout bounds one event's work, so a stuck store cannot pin a socket's queue.
const eventTimeout = 15 * time.Second

// dispatch is the one wrapper every client event goes through: rate limit, decode,
// validate, handle, and exactly one ack. The engine runs a connection's events one after
// another, so a socket's sends are handled (and stored) in the order it sent them.
func (s *Server) dispatch(sess *session, ev handlers.Event, e *socketio.Event) {
	start := time.Now()
	code := "OK"
	defer func() {
		s.metrics.observe(ev.Name, code, time.Since(start))
	}()
	if e.Late() || !s.inflight.enter() {
		code = utils.CodeUnavailable
		ackWith(e, errorAck(&utils.AppError{Code: utils.CodeUnavailable, Message: "server is shutting down, retry on another node"}))
		return
	}
	defer s.inflight.leave()
	if wait, ok := s.limits.take(sess.caller.UserID, e.Name, start); !ok {
		code = utils.CodeRateLimited
		ackWith(e, errorAck(&utils.AppError{Code: utils.CodeRateLimited, Message: "rate limit reached for " + classOf(e.Name).String() + " events, retry after retryAfterMs", RetryAfterMs: wait.Milliseconds() + 1}))
		if _, ok := sess.strikes.Allow(start); !ok {
			s.disconnectFlooder(sess)
		}
		return
	}
	result, err := s.runHandler(sess, ev, e.Arg(0))
	if err != nil {
		appErr, internal := utils.AsAppError(err)
		if internal {
			s.log.Error().Err(err).Str("event", ev.Name).Str("userId", sess.caller.UserID).Msg("event failed")
		}
		code = appErr.Code
		ackWith(e, errorAck(appErr))
		return
	}
	ackWith(e, successAck(result))
}

// runHandler calls the handler on the payload's raw JSON (decoded once, strictly, by the
// handler's binding), turning a panic into INTERNAL so one bad event never takes the
// process down.
func (s *Server) runHandler(sess *session, ev handlers.Event, raw []byte) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("event", ev.Name).Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("handler panicked")
			result, err = nil, fmt.Errorf("panic in %s: %v", ev.Name, r)
		}
	}()
	ctx, cancel := context.WithTimeout(s.baseCtx, eventTimeout)
	defer cancel()
	return ev.Handle(ctx, sess.caller, raw)
}

// ackWith answers the event, when the client asked for an answer.
func ackWith(e *socketio.Event, v map[string]any) {
	if !e.WantsAck() {
		return
	}
	raw, err := encodeObject(v)
	if err != nil {
		raw = []byte(`{"success":false,"error":"internal error","code":"INTERNAL"}`)
	}
	e.Ack([][]byte{raw}, nil)
}

func successAck(result any) map[string]any {
	m, ok := result.(map[string]any)
	if !ok || m == nil {
		m = map[string]any{}
	}
	m["success"] = true
	return m
}

func errorAck(e *utils.AppError) map[string]any {
	m := map[string]any{"success": false, "error": e.Message, "code": e.Code}
	if e.Code == utils.CodeValidation {
		issues := e.Issues
		if issues == nil {
			issues = []utils.Issue{}
		}
		m["issues"] = issues
	}
	if e.Code == utils.CodeRateLimited {
		m["retryAfterMs"] = e.RetryAfterMs
	}
	return m
}

// unknownEvent is the handler of an event name nobody registered: it goes through dispatch
// like any other (rate limit, one ack), under one metrics label whatever the name.
func unknownEvent(name string) handlers.Event {
	return handlers.Event{Name: "unknown", Handle: func(context.Context, handlers.Caller, []byte) (any, error) {
		return nil, &utils.AppError{Code: utils.CodeValidation, Message: "unknown event " + fmt.Sprintf("%q", name), Issues: []utils.Issue{{Path: "event", Message: "unknown event"}}}
	}}
}

// disconnectFlooder closes a socket that kept sending after RATE_LIMITED, telling it why
// first (session:closed), with a Socket.IO disconnect so the client does not reconnect by
// itself.
func (s *Server) disconnectFlooder(sess *session) {
	s.metrics.floodDisconnects.Inc()
	s.log.Warn().Str("userId", sess.caller.UserID).Str("socketId", sess.caller.SocketID).Msg("disconnected a socket that kept sending after RATE_LIMITED")
	_ = sess.sock.EmitJSON("session:closed", map[string]string{"code": utils.CodeRateLimited, "error": "too many events after RATE_LIMITED: disconnected"})
	sess.sock.Disconnect(true)
}
