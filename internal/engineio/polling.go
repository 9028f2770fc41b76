package engineio

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// recordSeparator joins the packets of a polling payload.
const recordSeparator = 0x1e

func (c *Conn) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r)
	case http.MethodPost:
		c.serveData(w, r)
	default:
		refuse(w, errBadRequest)
	}
}

// servePoll answers a GET with everything queued, waiting for something to send when
// the queue is empty (the heartbeat's ping comes at the latest).
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.transport != transportPolling {
		c.mu.Unlock()
		refuse(w, errBadRequest) // upgraded: this sid is WebSocket-only now
		return
	}
	if c.state == stateClosed {
		c.mu.Unlock()
		refuse(w, errUnknownSID)
		return
	}
	if c.poll != nil {
		// Two GETs at once: the client is broken. Refuse this one, close the session
		// (the pending GET gets the close packet).
		c.mu.Unlock()
		refuse(w, errBadRequest)
		c.close("transport error", false)
		return
	}
	if len(c.queue) == 0 && c.pollTail == nil && c.state == stateOpen {
		// During an upgrade (a WebSocket with this sid is being probed), a GET is held
		// briefly, as Node's 100 ms check does: if the upgrade completes meanwhile it is
		// refused like any GET after it, otherwise it is released with a noop. The probe's
		// answer does not release it: a client may send the probe and its upgrade at
		// once, and a GET it sends between them, read before them, must see the upgrade.
		duringUpgrade := c.upgrading
		ch := make(chan struct{}, 1)
		c.poll = ch
		c.pollHeld = duringUpgrade
		c.mu.Unlock()
		var hold <-chan time.Time
		if duringUpgrade {
			t := time.NewTimer(c.srv.opts.UpgradeCheck)
			defer t.Stop()
			hold = t.C
		}
		select {
		case <-ch:
		case <-hold:
		case <-r.Context().Done():
			c.mu.Lock()
			if c.poll == ch {
				c.poll, c.pollHeld = nil, false
			}
			c.mu.Unlock()
			// The client gave up on its poll: Node treats that as a transport error.
			c.close("transport error", false)
			return
		}
		c.mu.Lock()
		if c.poll == ch {
			c.poll, c.pollHeld = nil, false
		}
		if c.transport != transportPolling {
			// Upgraded while this GET waited: the queue belongs to the WebSocket now.
			c.pollTail = nil
			c.mu.Unlock()
			if duringUpgrade {
				refuse(w, errBadRequest)
			} else {
				writePayload(w, nil, c.srv.noop)
			}
			return
		}
		if c.upgrading && len(c.queue) == 0 && c.pollTail == nil {
			c.pollTail = c.srv.noop
		}
	}
	batch := c.takeQueueLocked()
	tail := c.pollTail
	c.pollTail = nil
	closing := c.state == stateClosing
	if closing {
		c.state = stateClosed
		if c.closeTimer != nil {
			c.closeTimer.Stop()
		}
	}
	c.mu.Unlock()
	if len(batch) == 0 && tail == nil {
		tail = c.srv.noop
	}
	writePayload(w, batch, tail)
	if closing {
		c.srv.unregister(c)
	}
	c.mu.Lock()
	c.recycleLocked(batch)
	c.mu.Unlock()
}

// writePayload writes packets (and an optional last one) as one polling payload, straight
// from the shared packet buffers: text packets as they are, binary ones as "b" + base64.
func writePayload(w http.ResponseWriter, batch []*Packet, tail *Packet) {
	n := 0
	count := len(batch)
	if tail != nil {
		count++
	}
	for i := 0; i < count; i++ {
		p := tail
		if i < len(batch) {
			p = batch[i]
		}
		if i > 0 {
			n++
		}
		if p.binary {
			n += 1 + base64.StdEncoding.EncodedLen(len(p.data()))
		} else {
			n += len(p.data())
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	sep := []byte{recordSeparator}
	for i := 0; i < count; i++ {
		p := tail
		if i < len(batch) {
			p = batch[i]
		}
		if i > 0 {
			_, _ = w.Write(sep)
		}
		if p.binary {
			_, _ = w.Write([]byte{'b'})
			enc := base64.NewEncoder(base64.StdEncoding, w)
			_, _ = enc.Write(p.data())
			_ = enc.Close()
		} else {
			_, _ = w.Write(p.data())
		}
	}
}

// serveData takes a POST: one or more packets from the client.
func (c *Conn) serveData(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.transport != transportPolling {
		c.mu.Unlock()
		refuse(w, errBadRequest)
		return
	}
	if c.posting {
		c.mu.Unlock()
		refuse(w, errBadRequest)
		c.close("transport error", false)
		return
	}
	c.posting = true
	open := c.state == stateOpen
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	if r.Header.Get("Content-Type") == "application/octet-stream" {
		refuse(w, errBadRequest) // Engine.IO v4 sends binary as base64 text
		c.close("transport error", false)
		return
	}
	limit := int64(c.srv.opts.MaxPayload)
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		c.close("transport error", false)
		return
	}
	if int64(len(body)) > limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		c.close("transport error", false)
		return
	}
	if !open {
		writeOK(w) // closing: packets are no longer taken
		return
	}
	if !utf8.Valid(body) {
		// Text, as on WebSocket (where invalid UTF-8 closes with 1007).
		refuse(w, errBadRequest)
		c.close("parse error", false)
		return
	}
	packets, err := decodePayload(body)
	if err != nil {
		refuse(w, errBadRequest)
		c.close("parse error", false)
		return
	}
	for _, p := range packets {
		c.onPacket(p)
	}
	writeOK(w)
}

func writeOK(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// decodePayload splits a polling body into packets. Nothing is delivered unless all of
// it parses.
func decodePayload(body []byte) ([]decodedPacket, error) {
	var out []decodedPacket
	for len(body) > 0 || out == nil {
		var part []byte
		if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
			part, body = body[:i], body[i+1:]
			if len(body) == 0 {
				return nil, errBadPacket // a trailing separator announces a packet that is not there
			}
		} else {
			part, body = body, nil
		}
		if len(part) > 0 && part[0] == 'b' {
			data := make([]byte, base64.StdEncoding.DecodedLen(len(part)-1))
			n, err := base64.StdEncoding.Decode(data, part[1:])
			if err != nil {
				return nil, errBadPacket
			}
			out = append(out, decodedPacket{typ: typeMessage, data: data[:n], binary: true})
			continue
		}
		p, err := decodeText(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
