package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/utils"
)

// Attachments over HTTP (README "Attachments", PROTOCOL.md "Uploads"):
//
//	POST /uploads[?name=<file name>]   bearer token; the raw body is the file
//	GET  /uploads/<id>                 bearer token, or ?exp=…&sig=… from an attachment's url

// transferTime bounds how long moving n bytes to or from a client may take: 10 minutes
// plus a second per 64 KiB (a 10 MiB upload gets 12:40, enough at 120 kbit/s). A slower
// upload is cut off and nothing of it is kept; a slower download is cut off.
func transferTime(n int64) time.Duration {
	return 10*time.Minute + time.Duration(n/(64<<10))*time.Second
}

// sniffLen is how much of an upload http.DetectContentType reads.
const sniffLen = 512

// inlineTypes are the sniffed types served inline (an <img> shows them); everything else
// is served as a download (Content-Disposition: attachment). SVG is never among them: it
// is a document that runs scripts, and DetectContentType reports it as text/xml or
// text/plain anyway.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// uploadURLKeyLabel derives the key of upload links from the JWT secret.
const uploadURLKeyLabel = "parley upload url v1"

// uploadMetrics count the upload routes' outcomes.
type uploadMetrics struct {
	uploads *prometheus.CounterVec
	bytes   prometheus.Counter
	served  *prometheus.CounterVec
	swept   prometheus.Counter
}

func newUploadMetrics(reg *prometheus.Registry) uploadMetrics {
	m := uploadMetrics{
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_uploads_total", Help: "POST /uploads by result code (OK, PAYLOAD_TOO_LARGE, RATE_LIMITED, UNAUTHORIZED, …).",
		}, []string{"code"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_upload_bytes_total", Help: "Bytes of uploads stored.",
		}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_upload_downloads_total", Help: "GET /uploads/<id> by result code and credential (token, signed url).",
		}, []string{"code", "via"}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_uploads_swept_total", Help: "Uploads removed by the sweep (never attached within UPLOAD_TTL_MS, or removals a crash interrupted).",
		}),
	}
	reg.MustRegister(m.uploads, m.bytes, m.served, m.swept)
	return m
}

// uploadFailure answers an upload refusal and counts it.
func (s *Server) uploadFailure(w http.ResponseWriter, status int, err error) {
	appErr, _ := utils.AsAppError(err)
	s.metrics.uploads.uploads.WithLabelValues(appErr.Code).Inc()
	writeError(w, status, err)
}

// uploadName is the name the client gave: the name query parameter, else the X-Filename
// header, percent-decoded (a header carries only Latin-1, so clients send
// encodeURIComponent(name)); sanitised by the caller.
func uploadName(r *http.Request) string {
	if n := r.URL.Query().Get("name"); n != "" {
		return n
	}
	h := r.Header.Get("X-Filename")
	if d, err := url.PathUnescape(h); err == nil {
		return d
	}
	return h
}

// bodyReader remembers the first read error of the request body, so a failed store
// write can tell a client's failure (too large, gone, too slow) from the store's.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := bearerToken(r.Header)
	if token == "" {
		s.uploadFailure(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "an Authorization: Bearer token is required"))
		return
	}
	userID, _, err := s.tokenUser(ctx, token)
	if errors.Is(err, errUnauthorized) {
		s.uploadFailure(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "the token is invalid or expired"))
		return
	} else if err != nil {
		s.uploadHTTPFailure(w, err)
		return
	}
	if wait, ok := s.limits.takeClass(userID, classUploads, time.Now()); !ok {
		s.metrics.uploads.uploads.WithLabelValues(utils.CodeRateLimited).Inc()
		writeError(w, http.StatusTooManyRequests, retryLater(utils.CodeRateLimited, "too many uploads, retry later (RATE_UPLOADS_PER_SEC)", wait))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		s.uploadFailure(w, http.StatusUnsupportedMediaType, utils.Invalid("content-type",
			"send the file itself as the body (any Content-Type but multipart/form-data), not a form"))
		return
	}
	limit := s.cfg.Uploads.MaxBytes
	tooLarge := utils.Errorf(utils.CodeTooLarge, "an upload is at most %d bytes (MAX_UPLOAD_BYTES)", limit)
	if r.ContentLength > limit {
		s.uploadFailure(w, http.StatusRequestEntityTooLarge, tooLarge) // refused before a byte is read
		return
	}
	// A client too slow to send its body is cut off.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(transferTime(limit)))
	body := &bodyReader{r: http.MaxBytesReader(w, r.Body, limit)}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(body, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		s.uploadBodyFailure(w, body.err, tooLarge)
		return
	}
	if n == 0 {
		s.uploadFailure(w, http.StatusBadRequest, utils.Invalid("body", "is empty: the body is the file"))
		return
	}
	head = head[:n]
	// What the client declared is ignored: the stored type is what the bytes are.
	contentType := http.DetectContentType(head)
	a := &models.Attachment{
		ID: models.NewID(), UploaderID: userID, ContentType: contentType, CreatedAt: time.Now().UTC(),
		Name: utils.SanitizeFilename(uploadName(r), contentType),
	}
	if err := s.store.CreateAttachment(ctx, a, io.MultiReader(bytes.NewReader(head), body)); err != nil {
		if body.err != nil {
			s.uploadBodyFailure(w, body.err, tooLarge)
			return
		}
		s.uploadHTTPFailure(w, err)
		return
	}
	s.metrics.uploads.uploads.WithLabelValues("OK").Inc()
	s.metrics.uploads.bytes.Add(float64(a.Size))
	view := models.AttachmentViews([]models.Attachment{*a}, func(id string) string { return s.signer.URL(id, time.Now()) })[0]
	writeJSON(w, http.StatusCreated, map[string]any{"attachment": view})
}

// uploadBodyFailure answers an upload whose body could not be read.
func (s *Server) uploadBodyFailure(w http.ResponseWriter, err error, tooLarge error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.uploadFailure(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	// The client went away or was too slow: it will hardly read this.
	s.uploadFailure(w, http.StatusBadRequest, utils.Invalid("body", "could not be read to its end"))
}

// uploadHTTPFailure answers a store failure during an upload (503 when it is down).
func (s *Server) uploadHTTPFailure(w http.ResponseWriter, err error) {
	appErr, _ := utils.AsAppError(err)
	s.metrics.uploads.uploads.WithLabelValues(appErr.Code).Inc()
	s.httpFailure(w, err)
}

var errNoUpload = utils.NotFound("upload")

// handleUploadGet serves an upload's bytes, streamed from the store, to a holder of a
// valid signed url, to its uploader and to members of the chat it was posted in. Every
// refusal that depends on the id (missing, not visible, a bad or expired signature) is
// the same 404.
func (s *Server) handleUploadGet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	q := r.URL.Query()
	now := time.Now()
	var (
		a   *models.Attachment
		err error
		via = "token"
	)
	signed := q.Has("sig") || q.Has("exp")
	if signed && s.signer.Valid(id, q.Get("exp"), q.Get("sig"), now) {
		via = "url"
		if a, err = s.store.AttachmentByID(ctx, id); errors.Is(err, models.ErrNotFound) {
			err = errNoUpload
		}
	} else {
		token := bearerToken(r.Header)
		switch {
		case token == "" && signed:
			err = errNoUpload // an expired or forged link
		case token == "":
			s.metrics.uploads.served.WithLabelValues(utils.CodeUnauthorized, via).Inc()
			writeError(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "an Authorization: Bearer token or a signed url is required"))
			return
		default:
			var userID string
			userID, _, err = s.tokenUser(ctx, token)
			if errors.Is(err, errUnauthorized) {
				s.metrics.uploads.served.WithLabelValues(utils.CodeUnauthorized, via).Inc()
				writeError(w, http.StatusUnauthorized, utils.Errorf(utils.CodeUnauthorized, "the token is invalid or expired"))
				return
			}
			if err == nil {
				a, err = s.handlers.VisibleAttachment(ctx, userID, id)
			}
		}
	}
	var rc io.ReadCloser = io.NopCloser(http.NoBody)
	if err == nil && r.Method != http.MethodHead {
		rc, err = s.store.OpenAttachment(ctx, a.ID)
		if errors.Is(err, models.ErrNotFound) {
			err = errNoUpload // removed between the two reads
		}
	}
	if err != nil {
		appErr, _ := utils.AsAppError(err)
		s.metrics.uploads.served.WithLabelValues(appErr.Code, via).Inc()
		if appErr.Code == utils.CodeNotFound {
			writeError(w, http.StatusNotFound, errNoUpload)
			return
		}
		s.httpFailure(w, err)
		return
	}
	defer rc.Close()
	s.metrics.uploads.served.WithLabelValues("OK", via).Inc()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	// Whatever a browser makes of the bytes, they get no scripts, no requests and no
	// origin of their own.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	disposition := "attachment"
	if inlineTypes[a.ContentType] {
		disposition = "inline"
	}
	h.Set("Content-Disposition", utils.ContentDisposition(disposition, a.Name))
	if via == "url" {
		// A cached copy never outlives the link.
		h.Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(s.signer.Remaining(q.Get("exp"), now).Seconds())))
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(transferTime(a.Size)))
	if _, err := io.Copy(w, rc); err != nil && ctx.Err() == nil {
		s.log.Debug().Err(err).Str("upload", a.ID).Msg("serving an upload stopped")
	}
}

// uploadSweepEvery is how often the upload sweep runs: a quarter of UPLOAD_TTL_MS, so
// an unattached upload is gone at most a quarter late, between 250 ms and 10 minutes.
func uploadSweepEvery(ttl time.Duration) time.Duration {
	return min(10*time.Minute, max(250*time.Millisecond, ttl/4))
}

// sweepUploads removes uploads never attached within UPLOAD_TTL_MS and finishes
// removals a crash interrupted. Every node runs it; the store makes concurrent passes
// safe.
func (s *Server) sweepUploads() {
	defer s.background.Done()
	ticker := time.NewTicker(uploadSweepEvery(s.cfg.Uploads.TTL))
	defer ticker.Stop()
	for {
		select {
		case <-s.baseCtx.Done():
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(s.baseCtx, time.Minute)
		n, err := s.store.SweepAttachments(ctx, time.Now().Add(-s.cfg.Uploads.TTL))
		cancel()
		if n > 0 {
			s.metrics.uploads.swept.Add(float64(n))
			s.log.Debug().Int("removed", n).Msg("uploads swept")
		}
		if err != nil && s.baseCtx.Err() == nil {
			s.log.Warn().Err(err).Msg("upload sweep")
		}
	}
}
