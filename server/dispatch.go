package server

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/utils"
)

// eventTimeout bounds one event's work, so a stuck store cannot pin a socket's queue.
const eventTimeout = 15 * time.Second

// dispatch is the one wrapper every client event goes through: rate limit, decode,
// validate, handle, and exactly one ack. The library runs a socket's events one after
// another, so a socket's sends are handled (and stored) in the order it sent them.
func (s *Server) dispatch(sess *session, ev handlers.Event, args []any) {
	ack, payload := splitArgs(args)
	start := time.Now()
	code := "OK"
	defer func() {
		s.metrics.observe(ev.Name, code, time.Since(start))
	}()
	reply := func(v map[string]any) {
		if ack != nil {
			ack([]any{v}, nil)
		}
	}
	if !s.inflight.enter() {
		code = utils.CodeUnavailable
		reply(errorAck(&utils.AppError{Code: utils.CodeUnavailable, Message: "server is shutting down, retry on another node"}))
		return
	}
	defer s.inflight.leave()
	if wait, ok := sess.limiter.Allow(time.Now()); !ok {
		code = utils.CodeRateLimited
		reply(errorAck(&utils.AppError{Code: utils.CodeRateLimited, Message: "too many events, slow down", RetryAfterMs: wait.Milliseconds() + 1}))
		return
	}
	result, err := s.runHandler(sess, ev, payload)
	if err != nil {
		appErr, internal := utils.AsAppError(err)
		if internal {
			s.log.Error().Err(err).Str("event", ev.Name).Str("userId", sess.caller.UserID).Msg("event failed")
		}
		code = appErr.Code
		reply(errorAck(appErr))
		return
	}
	reply(successAck(result))
}

// runHandler decodes the payload and calls the handler, turning a panic into INTERNAL so
// one bad event never takes the process down.
func (s *Server) runHandler(sess *session, ev handlers.Event, payload any) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("event", ev.Name).Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("handler panicked")
			result, err = nil, fmt.Errorf("panic in %s: %v", ev.Name, r)
		}
	}()
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, utils.Invalid("payload", "must be JSON")
	}
	ctx, cancel := context.WithTimeout(s.baseCtx, eventTimeout)
	defer cancel()
	return ev.Handle(ctx, sess.caller, raw)
}

// splitArgs separates the ack function (always last when present) from the payload (the
// first argument; a missing payload decodes as {}).
func splitArgs(args []any) (socket.Ack, any) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		// socket.Ack is an alias of func([]any, error), so this also matches plain funcs.
		if fn, ok := args[n-1].(socket.Ack); ok {
			ack = fn
			args = args[:n-1]
		}
	}
	if len(args) == 0 {
		return ack, nil
	}
	return ack, args[0]
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

// unknownEvent answers an event no handler is registered for.
func unknownEvent(name string, args []any) {
	ack, _ := splitArgs(args)
	if ack != nil {
		ack([]any{errorAck(&utils.AppError{Code: utils.CodeValidation, Message: "unknown event " + fmt.Sprintf("%q", name), Issues: []utils.Issue{{Path: "event", Message: "unknown event"}}})}, nil)
	}
}
