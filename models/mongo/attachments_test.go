package mongo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/parley-chat/parley/models"
)

func countDocs(t *testing.T, s *Store, coll string, filter bson.D) int64 {
	t.Helper()
	n, err := s.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type cutBody struct{ n int }

var errCut = errors.New("connection reset")

func (b *cutBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errCut
	}
	n := min(len(p), b.n)
	b.n -= n
	for i := range p[:n] {
		p[i] = 'z'
	}
	return n, nil
}

// An upload is a plain GridFS file of the bucket "uploads": the driver's own download
// stream reads what the store wrote, chunk by chunk.
func TestAttachmentIsGridFS(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{})
	body := bytes.Repeat([]byte("0123456789"), 60_000) // 600,000 bytes: 3 chunks of 255 KiB
	a := &models.Attachment{UploaderID: bson.NewObjectID().Hex(), Name: "big.bin", ContentType: "application/octet-stream", CreatedAt: time.Now()}
	if err := s.CreateAttachment(ctx, a, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	id, _ := bson.ObjectIDFromHex(a.ID)
	if n := countDocs(t, s, "uploads.chunks", bson.D{{Key: "files_id", Value: id}}); n != 3 {
		t.Fatalf("%d chunks, want 3", n)
	}
	ds, err := s.bucket().OpenDownloadStream(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(ds)
	_ = ds.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("the driver's GridFS download: %d bytes, %v", len(got), err)
	}
	if f := ds.GetFile(); f.Name != "big.bin" || f.Length != int64(len(body)) || f.ChunkSize != chunkSize {
		t.Fatalf("files document: %+v", f)
	}
}

// A body that fails midway leaves no record, no files document and no chunk.
func TestAttachmentFailedUploadLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{})
	a := &models.Attachment{UploaderID: bson.NewObjectID().Hex(), Name: "x", ContentType: "text/plain", CreatedAt: time.Now()}
	if err := s.CreateAttachment(ctx, a, &cutBody{n: 700_000}); !errors.Is(err, errCut) {
		t.Fatalf("CreateAttachment: %v", err)
	}
	for _, c := range []string{collAttachments, "uploads.files", "uploads.chunks"} {
		if n := countDocs(t, s, c, bson.D{}); n != 0 {
			t.Errorf("%s holds %d documents after a failed upload", c, n)
		}
	}
}

// Claims a crash left pending: one whose message was stored reads as attached and is
// confirmed; one whose message never came is released by the sweep once older than
// RepairGrace; one whose message is itself unfinished is left for the message sweep.
func TestAttachmentPendingClaims(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{RepairGrace: 50 * time.Millisecond})
	alice, bob := bson.NewObjectID(), bson.NewObjectID()
	g := mustGroup(t, s, alice.Hex(), bob.Hex())
	chat, _ := bson.ObjectIDFromHex(g.ID)
	up := func() models.Attachment {
		a := &models.Attachment{UploaderID: alice.Hex(), Name: "f", ContentType: "text/plain", CreatedAt: time.Now()}
		if err := s.CreateAttachment(ctx, a, bytes.NewReader([]byte("data"))); err != nil {
			t.Fatal(err)
		}
		return *a
	}
	// Stored message, claim left pending.
	kept := up()
	m, _, err := s.InsertMessage(ctx, &models.Message{ChatID: chat.Hex(), SenderID: alice.Hex(), Text: "x", CreatedAt: time.Now(),
		Attachments: []models.Attachment{{ID: kept.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	keptID, _ := bson.ObjectIDFromHex(kept.ID)
	if _, err := s.attachments.UpdateOne(ctx, bson.D{{Key: "_id", Value: keptID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "claimPendingAt", Value: time.Now()}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AttachmentByID(ctx, kept.ID)
	if err != nil || got.MessageID == nil || *got.MessageID != m.ID {
		t.Fatalf("a pending claim of a stored message: %+v %v", got, err)
	}
	if n := countDocs(t, s, collAttachments, bson.D{{Key: "_id", Value: keptID}, {Key: "claimPendingAt", Value: bson.D{{Key: "$exists", Value: true}}}}); n != 0 {
		t.Fatal("reading a pending claim of a stored message did not confirm it")
	}
	// A claim to a message that never got stored.
	orphan := up()
	ghost := bson.NewObjectID()
	if _, _, err := s.claimAttachments(ctx, ghost, chat, alice, []models.Attachment{{ID: orphan.ID}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AttachmentByID(ctx, orphan.ID); got == nil || got.Attached() {
		t.Fatalf("a pending claim of a message never stored reads as attached: %+v", got)
	}
	// A claim whose message is itself a pending claim (in flight).
	waiting := up()
	pendingMsg := &messageDoc{ID: bson.NewObjectID(), ChatID: chat, Sender: alice, Seq: placeholderSeq(), Pending: "tok"}
	now := ms(time.Now())
	pendingMsg.PendingAt, pendingMsg.CreatedAt, pendingMsg.UpdatedAt = &now, now, now
	if _, err := s.messages.InsertOne(ctx, pendingMsg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.claimAttachments(ctx, pendingMsg.ID, chat, alice, []models.Attachment{{ID: waiting.ID}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := s.SweepAttachments(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AttachmentByID(ctx, orphan.ID); got == nil || got.Attached() {
		t.Fatalf("after the sweep the orphan claim: %+v", got)
	}
	orphanID, _ := bson.ObjectIDFromHex(orphan.ID)
	var d attachmentDoc
	if err := s.attachments.FindOne(ctx, bson.D{{Key: "_id", Value: orphanID}}).Decode(&d); err != nil || d.MessageID != nil || d.ClaimPendingAt != nil {
		t.Fatalf("the released claim: %+v %v", d, err)
	}
	waitingID, _ := bson.ObjectIDFromHex(waiting.ID)
	if err := s.attachments.FindOne(ctx, bson.D{{Key: "_id", Value: waitingID}}).Decode(&d); err != nil || d.MessageID == nil || *d.MessageID != pendingMsg.ID {
		t.Fatalf("the claim of a message in flight was touched: %+v %v", d, err)
	}
	// The released upload can be attached again.
	if _, _, err := s.InsertMessage(ctx, &models.Message{ChatID: chat.Hex(), SenderID: alice.Hex(), Text: "again", CreatedAt: time.Now(),
		Attachments: []models.Attachment{{ID: orphan.ID}}}); err != nil {
		t.Fatalf("attaching a released upload: %v", err)
	}
}

// What a crash leaves of an upload (a record still "uploading" after
// models.UploadAbandonAfter, with some chunks and no files document) or of a removal (a
// record "deleting") is removed by the sweep; an upload in progress is left alone.
func TestAttachmentSweepFinishesInterruptedWork(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{})
	uploader := bson.NewObjectID()
	abandoned, deleting, inFlight := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	for _, r := range []struct {
		id    bson.ObjectID
		state string
		age   time.Duration
	}{{abandoned, stateUploading, 2 * time.Hour}, {deleting, stateDeleting, time.Minute}, {inFlight, stateUploading, 10 * time.Minute}} {
		at := ms(time.Now().Add(-r.age))
		if _, err := s.attachments.InsertOne(ctx, attachmentDoc{ID: r.id, Uploader: uploader, Name: "f", ContentType: "text/plain",
			State: r.state, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.chunks.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "files_id", Value: r.id},
			{Key: "n", Value: int32(0)}, {Key: "data", Value: bson.Binary{Data: []byte("partial")}}}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.SweepAttachments(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("SweepAttachments = %d, %v; want 2", n, err)
	}
	if c := countDocs(t, s, collAttachments, bson.D{}); c != 1 {
		t.Errorf("%d records left, want the upload in flight", c)
	}
	if c := countDocs(t, s, "uploads.chunks", bson.D{}); c != 1 {
		t.Errorf("%d chunks left, want the upload in flight's", c)
	}
	if c := countDocs(t, s, "uploads.chunks", bson.D{{Key: "files_id", Value: inFlight}}); c != 1 {
		t.Errorf("the chunk of the upload in flight was removed")
	}
}

// A send that reuses a stored message's id (no clientId) stores nothing: its uploads stay
// the caller's, unattached, and the stored message keeps its own attachments.
func TestInsertReusingAnIDAttachesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{})
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	upload := func(name string) string {
		a := &models.Attachment{UploaderID: ids[0], Name: name, ContentType: "text/plain", CreatedAt: time.Now()}
		if err := s.CreateAttachment(ctx, a, bytes.NewReader([]byte(name))); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	first, second := upload("first"), upload("second")
	orig, _, err := s.InsertMessage(ctx, &models.Message{ChatID: chat.ID, SenderID: ids[0], Text: "one", CreatedAt: time.Now(),
		Attachments: []models.Attachment{{ID: first}}})
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := s.InsertMessage(ctx, &models.Message{ID: orig.ID, ChatID: chat.ID, SenderID: ids[0], Text: "two", CreatedAt: time.Now(),
		Attachments: []models.Attachment{{ID: second}}})
	if err != nil || created {
		t.Fatalf("reused id: created %v, %v", created, err)
	}
	if len(again.Attachments) != 1 || again.Attachments[0].ID != first {
		t.Fatalf("the stored message's attachments: %+v", again.Attachments)
	}
	m, created, err := s.InsertMessage(ctx, &models.Message{ChatID: chat.ID, SenderID: ids[0], Text: "three", CreatedAt: time.Now(),
		Attachments: []models.Attachment{{ID: second}}})
	if err != nil || !created || len(m.Attachments) != 1 || m.Attachments[0].ID != second {
		t.Fatalf("the upload was not left free: %+v %v %v", m, created, err)
	}
}
