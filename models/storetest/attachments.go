package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var attachmentTests = []storeTest{
	{"CreateAndRead", testAttachmentCreateAndRead},
	{"EmptyBody", testAttachmentEmptyBody},
	{"FailedBodyStoresNothing", testAttachmentFailedBody},
	{"Attach", testAttachmentAttach},
	{"AttachRefusals", testAttachmentRefusals},
	{"AttachRefusalsWithClientID", testAttachmentRefusalsClientID},
	{"ConcurrentClaims", testAttachmentConcurrentClaims},
	{"IdempotentRetry", testAttachmentIdempotentRetry},
	{"DeleteMessageRemoves", testAttachmentDeleteMessage},
	{"Sweep", testAttachmentSweep},
}

// payload is n pseudo-random bytes (several GridFS chunks for n over 255 KiB).
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// upload stores body as an upload of uploader and returns its record.
func upload(t *testing.T, s models.Store, uploader string, body []byte) *models.Attachment {
	t.Helper()
	a := &models.Attachment{UploaderID: uploader, Name: "file.bin", ContentType: "application/octet-stream", CreatedAt: now()}
	fatalIf(t, s.CreateAttachment(t.Context(), a, bytes.NewReader(body)), "CreateAttachment")
	return a
}

// readAll reads an upload's stored bytes.
func readAll(t *testing.T, s models.Store, id string) []byte {
	t.Helper()
	r, err := s.OpenAttachment(t.Context(), id)
	fatalIf(t, err, "OpenAttachment")
	defer r.Close()
	b, err := io.ReadAll(r)
	fatalIf(t, err, "reading an upload")
	return b
}

func refs(as ...*models.Attachment) []models.Attachment {
	out := make([]models.Attachment, len(as))
	for i, a := range as {
		out[i] = models.Attachment{ID: a.ID}
	}
	return out
}

func attachmentIDs(as []models.Attachment) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// wantRefErr checks that err names attachment id and wraps target.
func wantRefErr(t *testing.T, err error, id string, target error, what string) {
	t.Helper()
	var re *models.AttachmentRefError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error = %v, want an *AttachmentRefError", what, err)
	}
	equal(t, what+": AttachmentRefError.ID", re.ID, id)
	wantErr(t, err, target, what)
}

// gone checks that an upload has neither record nor bytes left.
func gone(t *testing.T, s models.Store, id, what string) {
	t.Helper()
	_, err := s.AttachmentByID(t.Context(), id)
	wantErr(t, err, models.ErrNotFound, what+": AttachmentByID")
	r, err := s.OpenAttachment(t.Context(), id)
	if err == nil {
		r.Close()
	}
	wantErr(t, err, models.ErrNotFound, what+": OpenAttachment")
}

func testAttachmentCreateAndRead(t *testing.T, s models.Store) {
	u := newUser(t, s, "uploader").ID
	body := payload(600_000, 1)
	at := now()
	a := &models.Attachment{UploaderID: u, Name: "photo.png", ContentType: "image/png", CreatedAt: at}
	fatalIf(t, s.CreateAttachment(t.Context(), a, bytes.NewReader(body)), "CreateAttachment")
	if !models.ValidID(a.ID) {
		t.Fatalf("CreateAttachment gave no id: %q", a.ID)
	}
	equal(t, "Size", a.Size, int64(len(body)))
	got, err := s.AttachmentByID(t.Context(), a.ID)
	fatalIf(t, err, "AttachmentByID")
	equal(t, "ID", got.ID, a.ID)
	equal(t, "UploaderID", got.UploaderID, u)
	equal(t, "Name", got.Name, "photo.png")
	equal(t, "ContentType", got.ContentType, "image/png")
	equal(t, "Size", got.Size, int64(len(body)))
	sameTime(t, "CreatedAt", got.CreatedAt, at)
	if got.Attached() || got.ChatID != nil {
		t.Errorf("a new upload is attached: %+v", got)
	}
	if b := readAll(t, s, a.ID); !bytes.Equal(b, body) {
		t.Errorf("stored bytes differ: %d bytes back, %d uploaded", len(b), len(body))
	}
	for _, id := range append(malformedIDs, models.NewID()) {
		_, err := s.AttachmentByID(t.Context(), id)
		wantErr(t, err, models.ErrNotFound, fmt.Sprintf("AttachmentByID(%q)", id))
		r, err := s.OpenAttachment(t.Context(), id)
		if err == nil {
			r.Close()
		}
		wantErr(t, err, models.ErrNotFound, fmt.Sprintf("OpenAttachment(%q)", id))
	}
}

func testAttachmentEmptyBody(t *testing.T, s models.Store) {
	u := newUser(t, s, "uploader").ID
	a := upload(t, s, u, nil)
	equal(t, "Size", a.Size, int64(0))
	if b := readAll(t, s, a.ID); len(b) != 0 {
		t.Errorf("an empty upload reads back %d bytes", len(b))
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	data []byte
	err  error
}

var errClientGone = errors.New("the client went away")

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func testAttachmentFailedBody(t *testing.T, s models.Store) {
	u := newUser(t, s, "uploader").ID
	a := &models.Attachment{ID: models.NewID(), UploaderID: u, Name: "big.bin", ContentType: "application/octet-stream", CreatedAt: now()}
	err := s.CreateAttachment(t.Context(), a, &failingReader{data: payload(700_000, 2), err: errClientGone})
	if !errors.Is(err, errClientGone) {
		t.Fatalf("CreateAttachment with a failing body: error = %v, want one wrapping the read error", err)
	}
	gone(t, s, a.ID, "after a failed upload")
	// Nothing about it is left for a sweep either.
	n, err := s.SweepAttachments(t.Context(), now().Add(time.Hour))
	fatalIf(t, err, "SweepAttachments")
	equal(t, "uploads a sweep removes after a failed upload", n, 0)
}

func testAttachmentAttach(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	b1, b2 := payload(300_000, 3), payload(10, 4)
	a1, a2 := upload(t, s, ids[0], b1), upload(t, s, ids[0], b2)
	m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "", CreatedAt: now(),
		Attachments: refs(a2, a1)}
	stored, created, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage with attachments")
	equal(t, "created", created, true)
	equal(t, "Seq", stored.Seq, int64(1))
	sameOrder(t, "stored.Attachments", attachmentIDs(stored.Attachments), []string{a2.ID, a1.ID})
	for _, a := range stored.Attachments {
		if a.MessageID == nil || *a.MessageID != m.ID || a.ChatID == nil || *a.ChatID != g.ID {
			t.Errorf("returned attachment %s not attached to %s in %s: %+v", a.ID, m.ID, g.ID, a)
		}
	}
	equal(t, "stored.Attachments[1].Size", stored.Attachments[1].Size, int64(len(b1)))
	got, err := s.AttachmentByID(t.Context(), a1.ID)
	fatalIf(t, err, "AttachmentByID")
	if got.MessageID == nil || *got.MessageID != m.ID || got.ChatID == nil || *got.ChatID != g.ID {
		t.Errorf("AttachmentByID after attaching: %+v", got)
	}
	plain := send(t, s, g.ID, ids[1], "no attachments")
	byMsg, err := s.AttachmentsForMessages(t.Context(), []string{m.ID, plain.ID, models.NewID(), "xyz"})
	fatalIf(t, err, "AttachmentsForMessages")
	sameOrder(t, "AttachmentsForMessages[m]", attachmentIDs(byMsg[m.ID]), []string{a2.ID, a1.ID})
	if _, ok := byMsg[plain.ID]; ok {
		t.Errorf("a message without attachments is in AttachmentsForMessages: %v", byMsg[plain.ID])
	}
	equal(t, "AttachmentsForMessages entries", len(byMsg), 1)
	if b := readAll(t, s, a1.ID); !bytes.Equal(b, b1) {
		t.Errorf("bytes of an attached upload changed")
	}
	// Attached uploads outlive any unattached TTL.
	n, err := s.SweepAttachments(t.Context(), now().Add(time.Hour))
	fatalIf(t, err, "SweepAttachments")
	equal(t, "attached uploads swept", n, 0)
	if _, err := s.AttachmentByID(t.Context(), a2.ID); err != nil {
		t.Errorf("an attached upload was swept: %v", err)
	}
}

// refusals checks that a message naming a bad upload after a good one is not stored, and
// leaves the good one unattached. clientID gives each send a client id.
func refusals(t *testing.T, s models.Store, clientID bool) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	good := upload(t, s, ids[0], payload(100, 5))
	bobs := upload(t, s, ids[1], payload(100, 6))
	taken := upload(t, s, ids[0], payload(100, 7))
	first := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "first", CreatedAt: now(), Attachments: refs(taken)}
	_, _, err := s.InsertMessage(t.Context(), first)
	fatalIf(t, err, "InsertMessage")
	missing := models.NewID()
	n := 0
	for _, c := range []struct {
		what   string
		ref    string
		target error
	}{
		{"another user's upload", bobs.ID, models.ErrNotFound},
		{"a missing upload", missing, models.ErrNotFound},
		{"a malformed id", "xyz", models.ErrNotFound},
		{"an upload attached already", taken.ID, models.ErrAttachmentTaken},
	} {
		n++
		m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: c.what, CreatedAt: now(),
			Attachments: []models.Attachment{{ID: good.ID}, {ID: c.ref}}}
		if clientID {
			m.ClientID = ptr(fmt.Sprintf("c%d", n))
		}
		_, _, err := s.InsertMessage(t.Context(), m)
		wantRefErr(t, err, c.ref, c.target, c.what)
		if _, err := s.MessageByID(t.Context(), m.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("%s: the refused message was stored (MessageByID: %v)", c.what, err)
		}
		a, err := s.AttachmentByID(t.Context(), good.ID)
		fatalIf(t, err, c.what+": AttachmentByID")
		if a.Attached() {
			t.Errorf("%s: the good upload stayed attached to a refused message: %+v", c.what, a)
		}
	}
	page, _, err := s.ListMessages(t.Context(), g.ID, models.MessageQuery{Limit: 50})
	fatalIf(t, err, "ListMessages")
	equal(t, "messages stored", len(page), 1)
	c, err := s.ChatByID(t.Context(), g.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "chat LastSeq (refused messages take no seq)", c.LastSeq, int64(1))
	b, err := s.AttachmentByID(t.Context(), bobs.ID)
	fatalIf(t, err, "AttachmentByID bob's")
	if b.Attached() {
		t.Errorf("bob's upload got attached by alice: %+v", b)
	}
	// The good upload can still be attached.
	ok := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "now", CreatedAt: now(), Attachments: refs(good)}
	stored, _, err := s.InsertMessage(t.Context(), ok)
	fatalIf(t, err, "InsertMessage after refusals")
	equal(t, "Seq after refusals", stored.Seq, int64(2))
}

func testAttachmentRefusals(t *testing.T, s models.Store) { refusals(t, s, false) }

func testAttachmentRefusalsClientID(t *testing.T, s models.Store) { refusals(t, s, true) }

func testAttachmentConcurrentClaims(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	a := upload(t, s, ids[0], payload(1000, 8))
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []string
		refused int
		errs    []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: fmt.Sprint(i), CreatedAt: now(), Attachments: refs(a)}
			if i%2 == 1 {
				m.ClientID = ptr(fmt.Sprintf("c%d", i))
			}
			stored, _, err := s.InsertMessage(t.Context(), m)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, stored.ID)
			case errors.Is(err, models.ErrAttachmentTaken):
				refused++
			default:
				errs = append(errs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent claims: unexpected errors %v", errs)
	}
	if len(won) != 1 || refused != n-1 {
		t.Fatalf("concurrent claims of one upload: %d won (%v), %d refused, want 1 and %d", len(won), won, refused, n-1)
	}
	got, err := s.AttachmentByID(t.Context(), a.ID)
	fatalIf(t, err, "AttachmentByID")
	if got.MessageID == nil || *got.MessageID != won[0] {
		t.Errorf("the upload is attached to %v, want the winner %s", got.MessageID, won[0])
	}
	c, err := s.ChatByID(t.Context(), g.ID)
	fatalIf(t, err, "ChatByID")
	equal(t, "chat LastSeq after concurrent claims", c.LastSeq, int64(1))
}

func testAttachmentIdempotentRetry(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	a1, a2 := upload(t, s, ids[0], payload(10, 9)), upload(t, s, ids[0], payload(20, 10))
	m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "x", ClientID: ptr("k"), CreatedAt: now(), Attachments: refs(a1, a2)}
	first, created, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage")
	equal(t, "created", created, true)
	for _, retry := range [][]models.Attachment{refs(a1, a2), nil} {
		again := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "x", ClientID: ptr("k"), CreatedAt: now(), Attachments: retry}
		orig, created, err := s.InsertMessage(t.Context(), again)
		fatalIf(t, err, "InsertMessage retry")
		equal(t, "retry created", created, false)
		equal(t, "retry ID", orig.ID, first.ID)
		equal(t, "retry Seq", orig.Seq, first.Seq)
		sameOrder(t, "retry Attachments", attachmentIDs(orig.Attachments), []string{a1.ID, a2.ID})
	}
}

func testAttachmentDeleteMessage(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	a1, a2 := upload(t, s, ids[0], payload(400_000, 11)), upload(t, s, ids[0], payload(30, 12))
	keep := upload(t, s, ids[0], payload(30, 13))
	m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "x", CreatedAt: now(), Attachments: refs(a1, a2)}
	_, _, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage")
	other := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "y", CreatedAt: now(), Attachments: refs(keep)}
	_, _, err = s.InsertMessage(t.Context(), other)
	fatalIf(t, err, "InsertMessage other")
	d, err := s.DeleteMessage(t.Context(), m.ID, now())
	fatalIf(t, err, "DeleteMessage")
	equal(t, "Deleted", d.Deleted, true)
	gone(t, s, a1.ID, "a deleted message's attachment")
	gone(t, s, a2.ID, "a deleted message's attachment")
	byMsg, err := s.AttachmentsForMessages(t.Context(), []string{m.ID, other.ID})
	fatalIf(t, err, "AttachmentsForMessages")
	equal(t, "attachments of the deleted message", len(byMsg[m.ID]), 0)
	sameOrder(t, "attachments of the other message", attachmentIDs(byMsg[other.ID]), []string{keep.ID})
	_, err = s.DeleteMessage(t.Context(), m.ID, now())
	fatalIf(t, err, "DeleteMessage again")
	n, err := s.SweepAttachments(t.Context(), now().Add(-time.Hour))
	fatalIf(t, err, "SweepAttachments")
	equal(t, "left for the sweep after a delete", n, 0)
}

func testAttachmentSweep(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "alice", "bob")
	g := newGroup(t, s, ids...)
	old := now().Add(-25 * time.Hour)
	mk := func(created time.Time, seed uint64) *models.Attachment {
		a := &models.Attachment{UploaderID: ids[0], Name: "f", ContentType: "text/plain; charset=utf-8", CreatedAt: created}
		fatalIf(t, s.CreateAttachment(t.Context(), a, bytes.NewReader(payload(300_000, seed))), "CreateAttachment")
		return a
	}
	expired, fresh, attached := mk(old, 14), mk(now(), 15), mk(old, 16)
	m := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "x", CreatedAt: now(), Attachments: refs(attached)}
	_, _, err := s.InsertMessage(t.Context(), m)
	fatalIf(t, err, "InsertMessage")
	n, err := s.SweepAttachments(t.Context(), now().Add(-24*time.Hour))
	fatalIf(t, err, "SweepAttachments")
	equal(t, "uploads swept", n, 1)
	gone(t, s, expired.ID, "an expired unattached upload")
	for _, a := range []*models.Attachment{fresh, attached} {
		if _, err := s.AttachmentByID(t.Context(), a.ID); err != nil {
			t.Errorf("upload %s was swept: %v", a.ID, err)
		}
	}
	// An expired upload can no longer be attached.
	late := &models.Message{ID: models.NewID(), ChatID: g.ID, SenderID: ids[0], Text: "late", CreatedAt: now(), Attachments: refs(expired)}
	_, _, err = s.InsertMessage(t.Context(), late)
	wantRefErr(t, err, expired.ID, models.ErrNotFound, "attaching a swept upload")
	n, err = s.SweepAttachments(t.Context(), now().Add(-24*time.Hour))
	fatalIf(t, err, "SweepAttachments again")
	equal(t, "uploads swept by a second pass", n, 0)
}
