package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/parley-chat/parley/models"
)

// Uploads on MongoDB
//
// The bytes are a GridFS file in the bucket "uploads" (collections uploads.files and
// uploads.chunks, in the GridFS layout, so mongofiles and every driver's GridFS read
// them), whose _id is the attachment's id; the record is a document of the collection
// `attachments`. Nothing needs a service besides the database, so every node of a
// cluster serves every upload.
//
// The chunks are written and read here, not through the driver's upload and download
// streams: its upload stream (driver v2.10) holds up to 16 MiB in a buffer it allocates
// per upload and writes nothing before that buffer fills, so an upload under 16 MiB sits
// whole in memory until it ends; and its download stream reads the chunks with the
// server's default batch size, whose first reply carries up to 16 MiB, the whole of any
// upload allowed here. This code holds one 255 KiB chunk while writing and at most
// downloadBatch chunks while reading. The bucket (db.GridFSBucket) deletes files, and
// the tests read what was written with its download stream.
//
// Every change is a single-document write ordered so that a crash between two leaves a
// state the sweep (SweepAttachments) completes:
//
//   - upload: the record is inserted with state "uploading", the chunks are inserted one
//     by one, then the files document, then the record becomes "ready" with its size;
//     a failure deletes what was written; a crash leaves an "uploading" record that the
//     sweep removes, with its chunks, after models.UploadAbandonAfter;
//   - attach (message:new): each upload is claimed with one findOneAndUpdate whose filter
//     says "ready, this sender's, attached to nothing" (the compare-and-set that makes
//     two messages never share an upload), marked claimPendingAt until the message is
//     stored, then unmarked. A refused claim releases the ones taken before it. A claim
//     whose message never got stored (a crash in between) is released by the sweep once
//     older than RepairGrace; one whose message did get stored is confirmed, by the
//     sweep or by the first read that meets it;
//   - removal (an expired upload, a deleted message's attachments): the record becomes
//     "deleting" (before the message is marked deleted), then the GridFS file is deleted,
//     then the record; the sweep finishes any "deleting" record.

const (
	collAttachments = "attachments"
	uploadsBucket   = "uploads"
	// chunkSize is GridFS's default chunk size.
	chunkSize = 255 << 10
	// downloadBatch bounds the chunks one reply of a download carries (about 1 MiB).
	downloadBatch = 4
)

// Attachment states.
const (
	stateUploading = "uploading"
	stateReady     = "ready"
	stateDeleting  = "deleting"
)

type attachmentDoc struct {
	ID          bson.ObjectID `bson:"_id"`
	Uploader    bson.ObjectID `bson:"uploader"`
	Name        string        `bson:"name"`
	ContentType string        `bson:"contentType"`
	Size        int64         `bson:"size"`
	State       string        `bson:"state"`
	// MessageID is null until message:new attaches the upload; ChatID and Position come
	// with it.
	MessageID *bson.ObjectID `bson:"messageId"`
	ChatID    *bson.ObjectID `bson:"chatId,omitempty"`
	Position  int            `bson:"position,omitempty"`
	// ClaimPendingAt dates a claim whose message is not known to be stored yet.
	ClaimPendingAt *time.Time `bson:"claimPendingAt,omitempty"`
	CreatedAt      time.Time  `bson:"createdAt"`
	UpdatedAt      time.Time  `bson:"updatedAt"`
}

func (d *attachmentDoc) model() models.Attachment {
	a := models.Attachment{
		ID: d.ID.Hex(), UploaderID: d.Uploader.Hex(), Name: d.Name, Size: d.Size,
		ContentType: d.ContentType, CreatedAt: d.CreatedAt.UTC(),
	}
	if d.MessageID != nil && !d.MessageID.IsZero() {
		m := d.MessageID.Hex()
		a.MessageID = &m
		if d.ChatID != nil {
			c := d.ChatID.Hex()
			a.ChatID = &c
		}
	}
	return a
}

func attachmentKey(id bson.ObjectID) string { return "attachment:" + id.Hex() }

func attachmentKeys(ids []bson.ObjectID) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = attachmentKey(id)
	}
	return keys
}

// bucket is the uploads GridFS bucket. The driver's bucket keeps per-bucket state that is
// not safe to share between goroutines (a first-write flag, its copy buffers), so each
// call gets its own; building one costs nothing.
func (s *Store) bucket() *mongo.GridFSBucket {
	return s.db.GridFSBucket(options.GridFSBucket().SetName(uploadsBucket))
}

// CreateAttachment implements models.Attachments (see the steps above).
func (s *Store) CreateAttachment(ctx context.Context, a *models.Attachment, body io.Reader) error {
	var id bson.ObjectID
	var ok bool
	if a.ID == "" {
		id = bson.NewObjectID()
	} else if id, ok = oid(a.ID); !ok {
		return errInvalidID("attachment", a.ID)
	}
	uploader, ok := oid(a.UploaderID)
	if !ok {
		return errInvalidID("uploader", a.UploaderID)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	created := ms(a.CreatedAt)
	doc := attachmentDoc{ID: id, Uploader: uploader, Name: a.Name, ContentType: a.ContentType,
		State: stateUploading, CreatedAt: created, UpdatedAt: created}
	if _, err := s.attachments.InsertOne(ctx, doc); err != nil {
		return mapErr(err)
	}
	n, err := s.writeChunks(ctx, id, a.Name, body)
	if err == nil {
		unlock := s.locks.lock(attachmentKey(id))
		_, err = s.attachments.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: stateUploading}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: stateReady}, {Key: "size", Value: n}, {Key: "updatedAt", Value: ms(time.Now())}}}})
		unlock()
		err = mapErr(err)
	}
	if err != nil {
		// Withdraw the upload; if that fails too the sweep removes the "uploading" record
		// and whatever chunks it has.
		dctx, cancel := s.detached(ctx)
		defer cancel()
		if derr := s.deleteBytes(dctx, id); derr == nil {
			unlock := s.locks.lock(attachmentKey(id))
			_, _ = s.attachments.DeleteOne(dctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: stateUploading}})
			unlock()
		}
		return err
	}
	a.ID, a.CreatedAt, a.Size, a.MessageID, a.ChatID = id.Hex(), created, n, nil, nil
	return nil
}

// writeChunks stores body as the GridFS file id, chunk by chunk, and returns its length.
func (s *Store) writeChunks(ctx context.Context, id bson.ObjectID, name string, body io.Reader) (int64, error) {
	buf := make([]byte, chunkSize)
	var total int64
	for n := int32(0); ; n++ {
		k, rerr := io.ReadFull(body, buf)
		if k > 0 {
			chunk := bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "files_id", Value: id},
				{Key: "n", Value: n}, {Key: "data", Value: bson.Binary{Data: buf[:k]}}}
			if _, err := s.chunks.InsertOne(ctx, chunk); err != nil {
				return 0, mapErr(err)
			}
			total += int64(k)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return 0, fmt.Errorf("reading the upload: %w", rerr)
		}
	}
	file := bson.D{{Key: "_id", Value: id}, {Key: "length", Value: total}, {Key: "chunkSize", Value: int32(chunkSize)},
		{Key: "uploadDate", Value: ms(time.Now())}, {Key: "filename", Value: name}}
	if _, err := s.files.InsertOne(ctx, file); err != nil {
		return 0, mapErr(err)
	}
	return total, nil
}

// deleteBytes deletes the GridFS file id and its chunks (those of a file whose files
// document was never written too); a file already gone is no error.
func (s *Store) deleteBytes(ctx context.Context, id bson.ObjectID) error {
	err := s.bucket().Delete(ctx, id)
	if errors.Is(err, mongo.ErrFileNotFound) {
		return nil // Delete removed any chunks all the same
	}
	return mapErr(err)
}

// AttachmentByID implements models.Attachments. A claim still marked pending counts as
// attached only once its message is stored (and is then confirmed).
func (s *Store) AttachmentByID(ctx context.Context, id string) (*models.Attachment, error) {
	aid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	var d attachmentDoc
	if err := s.attachments.FindOne(ctx, bson.D{{Key: "_id", Value: aid}, {Key: "state", Value: stateReady}}).Decode(&d); err != nil {
		return nil, mapErr(err)
	}
	a := d.model()
	if d.ClaimPendingAt != nil && d.MessageID != nil {
		stored, err := s.messageStored(ctx, *d.MessageID)
		if err != nil {
			return nil, err
		}
		if stored {
			s.confirmClaims(ctx, *d.MessageID, []bson.ObjectID{aid})
		} else {
			a.MessageID, a.ChatID = nil, nil
		}
	}
	return &a, nil
}

// messageStored reports whether the message exists and has its seq.
func (s *Store) messageStored(ctx context.Context, mid bson.ObjectID) (bool, error) {
	err := s.messages.FindOne(ctx, bson.D{{Key: "_id", Value: mid}, notPending()},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

// OpenAttachment implements models.Attachments.
func (s *Store) OpenAttachment(ctx context.Context, id string) (io.ReadCloser, error) {
	aid, ok := oid(id)
	if !ok {
		return nil, models.ErrNotFound
	}
	var f struct {
		Length    int64 `bson:"length"`
		ChunkSize int32 `bson:"chunkSize"`
	}
	if err := s.files.FindOne(ctx, bson.D{{Key: "_id", Value: aid}}).Decode(&f); err != nil {
		return nil, mapErr(err)
	}
	r := &chunkReader{ctx: ctx, length: f.Length, chunkSize: int64(f.ChunkSize)}
	if f.Length == 0 {
		return r, nil
	}
	if f.ChunkSize <= 0 {
		return nil, fmt.Errorf("mongo: upload %s has no chunk size", id)
	}
	cur, err := s.chunks.Find(ctx, bson.D{{Key: "files_id", Value: aid}},
		options.Find().SetSort(bson.D{{Key: "n", Value: 1}}).SetBatchSize(downloadBatch))
	if err != nil {
		return nil, mapErr(err)
	}
	r.cur = cur
	return r, nil
}

// chunkReader streams a GridFS file's chunks in order, checking each one's number and
// size as the GridFS spec asks, so a file with a missing chunk ends in an error, never in
// short content.
type chunkReader struct {
	ctx       context.Context
	cur       *mongo.Cursor
	length    int64
	chunkSize int64
	read      int64 // bytes handed out
	next      int32 // the chunk expected next
	pending   []byte
	err       error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.read >= r.length {
			r.err = io.EOF
			continue
		}
		if !r.cur.Next(r.ctx) {
			r.err = mapErr(r.cur.Err())
			if r.err == nil {
				r.err = fmt.Errorf("mongo: upload ends at chunk %d of %d bytes: %w", r.next, r.length, io.ErrUnexpectedEOF)
			}
			continue
		}
		n, ok := r.cur.Current.Lookup("n").AsInt64OK()
		_, data, dok := r.cur.Current.Lookup("data").BinaryOK()
		want := min(r.chunkSize, r.length-r.read)
		if !ok || !dok || n != int64(r.next) || int64(len(data)) != want {
			r.err = fmt.Errorf("mongo: upload chunk %d is missing or malformed: %w", r.next, io.ErrUnexpectedEOF)
			continue
		}
		r.next++
		r.read += int64(len(data))
		r.pending = data
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	if r.cur == nil {
		return nil
	}
	return r.cur.Close(context.WithoutCancel(r.ctx))
}

// AttachmentsForMessages implements models.Attachments.
func (s *Store) AttachmentsForMessages(ctx context.Context, messageIDs []string) (map[string][]models.Attachment, error) {
	out := map[string][]models.Attachment{}
	ids := oids(messageIDs)
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.attachments.Find(ctx, bson.D{{Key: "messageId", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "state", Value: stateReady}},
		options.Find().SetSort(bson.D{{Key: "messageId", Value: 1}, {Key: "position", Value: 1}}))
	if err != nil {
		return nil, mapErr(err)
	}
	var docs []attachmentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(err)
	}
	for i := range docs {
		a := docs[i].model()
		out[*a.MessageID] = append(out[*a.MessageID], a)
	}
	return out, nil
}

// claimAttachments attaches refs, in order, to the message mid of chat sent by sender, as
// pending claims (see above). On a refusal it releases the claims it took and returns an
// *models.AttachmentRefError. It returns the claimed records and their ids.
func (s *Store) claimAttachments(ctx context.Context, mid, chat, sender bson.ObjectID, refs []models.Attachment) ([]models.Attachment, []bson.ObjectID, error) {
	out := make([]models.Attachment, 0, len(refs))
	claimed := make([]bson.ObjectID, 0, len(refs))
	refuse := func(err error) ([]models.Attachment, []bson.ObjectID, error) {
		s.releaseClaims(ctx, mid, claimed)
		return nil, nil, err
	}
	now := ms(time.Now())
	for i, ref := range refs {
		aid, ok := oid(ref.ID)
		if !ok {
			return refuse(&models.AttachmentRefError{ID: ref.ID, Err: models.ErrNotFound})
		}
		var d attachmentDoc
		unlock := s.locks.lock(attachmentKey(aid))
		err := s.attachments.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: aid}, {Key: "uploader", Value: sender}, {Key: "state", Value: stateReady}, {Key: "messageId", Value: nil}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "messageId", Value: mid}, {Key: "chatId", Value: chat}, {Key: "position", Value: i},
				{Key: "claimPendingAt", Value: now}, {Key: "updatedAt", Value: now}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		unlock()
		if err == nil {
			out = append(out, d.model())
			claimed = append(claimed, aid)
			continue
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return refuse(mapErr(err))
		}
		var cur attachmentDoc
		ferr := s.attachments.FindOne(ctx, bson.D{{Key: "_id", Value: aid}}).Decode(&cur)
		switch {
		case ferr == nil && cur.Uploader == sender && cur.State == stateReady && cur.MessageID != nil:
			return refuse(&models.AttachmentRefError{ID: ref.ID, Err: models.ErrAttachmentTaken})
		case ferr == nil || errors.Is(ferr, mongo.ErrNoDocuments):
			return refuse(&models.AttachmentRefError{ID: ref.ID, Err: models.ErrNotFound})
		default:
			return refuse(mapErr(ferr))
		}
	}
	return out, claimed, nil
}

// releaseClaims undoes claims of message mid (best effort: the sweep releases what is
// left once the claims are older than RepairGrace and mid is not stored).
func (s *Store) releaseClaims(ctx context.Context, mid bson.ObjectID, ids []bson.ObjectID) {
	if len(ids) == 0 {
		return
	}
	dctx, cancel := s.detached(ctx)
	defer cancel()
	for _, id := range ids {
		unlock := s.locks.lock(attachmentKey(id))
		_, err := s.attachments.UpdateOne(dctx, bson.D{{Key: "_id", Value: id}, {Key: "messageId", Value: mid}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "messageId", Value: nil}, {Key: "updatedAt", Value: ms(time.Now())}}},
				{Key: "$unset", Value: bson.D{{Key: "chatId", Value: ""}, {Key: "position", Value: ""}, {Key: "claimPendingAt", Value: ""}}}})
		unlock()
		if err != nil {
			s.log.Warn().Err(err).Str("attachment", id.Hex()).Msg("could not release an attachment claim yet; the sweep will")
			return
		}
	}
}

// confirmClaims unmarks the pending claims of message mid, which is stored (best effort:
// reads treat a pending claim of a stored message as attached, and the sweep confirms it).
func (s *Store) confirmClaims(ctx context.Context, mid bson.ObjectID, ids []bson.ObjectID) {
	if len(ids) == 0 {
		return
	}
	dctx, cancel := s.detached(ctx)
	defer cancel()
	unlock := s.locks.lock(attachmentKeys(ids)...)
	_, err := s.attachments.UpdateMany(dctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "messageId", Value: mid}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "claimPendingAt", Value: ""}}}})
	unlock()
	if err != nil {
		s.log.Warn().Err(err).Str("message", mid.Hex()).Msg("could not confirm attachment claims yet; the sweep will")
	}
}

// markMessageAttachments marks the ready attachments of message mid "deleting" and
// returns their ids.
func (s *Store) markMessageAttachments(ctx context.Context, mid bson.ObjectID) ([]bson.ObjectID, error) {
	ids, err := findIDs(ctx, s.attachments, bson.D{{Key: "messageId", Value: mid}, {Key: "state", Value: stateReady}}, 0)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	unlock := s.locks.lock(attachmentKeys(ids)...)
	_, err = s.attachments.UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "messageId", Value: mid}, {Key: "state", Value: stateReady}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: stateDeleting}, {Key: "updatedAt", Value: ms(time.Now())}}}})
	unlock()
	if err != nil {
		return nil, mapErr(err)
	}
	return ids, nil
}

// removeAttachments deletes the bytes, then the records, of uploads marked "deleting".
// An upload whose bytes cannot be deleted keeps its record, for the next sweep.
func (s *Store) removeAttachments(ctx context.Context, ids []bson.ObjectID) (int, error) {
	gone := make([]bson.ObjectID, 0, len(ids))
	var errs []error
	for _, id := range ids {
		if err := s.deleteBytes(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, id)
	}
	if len(gone) == 0 {
		return 0, errors.Join(errs...)
	}
	unlock := s.locks.lock(attachmentKeys(gone)...)
	res, err := s.attachments.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: gone}}}, {Key: "state", Value: stateDeleting}})
	unlock()
	if err != nil {
		return 0, errors.Join(append(errs, mapErr(err))...)
	}
	return int(res.DeletedCount), errors.Join(errs...)
}

// SweepAttachments implements models.Attachments.
func (s *Store) SweepAttachments(ctx context.Context, unattachedBefore time.Time) (int, error) {
	now := time.Now()
	var errs []error
	// Expired unattached uploads and abandoned ones become "deleting", each by a write
	// conditional on its state (and on being unattached), so a claim racing the sweep
	// either wins or finds the upload gone.
	for _, q := range []struct {
		filter bson.D
	}{
		{bson.D{{Key: "state", Value: stateReady}, {Key: "messageId", Value: nil}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: ms(unattachedBefore)}}}}},
		{bson.D{{Key: "state", Value: stateUploading}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: ms(now.Add(-models.UploadAbandonAfter))}}}}},
	} {
		ids, err := s.attachmentIDs(ctx, q.filter)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, id := range ids {
			unlock := s.locks.lock(attachmentKey(id))
			_, err := s.attachments.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: id}}, q.filter...),
				bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: stateDeleting}, {Key: "updatedAt", Value: ms(now)}}}})
			unlock()
			if err != nil {
				errs = append(errs, mapErr(err))
				break
			}
		}
	}
	if err := s.settleStaleClaims(ctx, now); err != nil {
		errs = append(errs, err)
	}
	ids, err := s.attachmentIDs(ctx, bson.D{{Key: "state", Value: stateDeleting}})
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	n, err := s.removeAttachments(ctx, ids)
	return n, errors.Join(append(errs, err)...)
}

// attachmentIDs lists up to sweepBatch attachment ids matching filter.
func (s *Store) attachmentIDs(ctx context.Context, filter bson.D) ([]bson.ObjectID, error) {
	return findIDs(ctx, s.attachments, filter, sweepBatch)
}

// settleStaleClaims confirms pending claims older than RepairGrace whose message is
// stored and releases those whose message does not exist; a message still being stored
// (its own claim pending) is left for a later pass.
func (s *Store) settleStaleClaims(ctx context.Context, now time.Time) error {
	cur, err := s.attachments.Find(ctx, bson.D{{Key: "claimPendingAt", Value: bson.D{{Key: "$lt", Value: ms(now.Add(-s.opts.RepairGrace))}}}},
		options.Find().SetLimit(sweepBatch))
	if err != nil {
		return mapErr(err)
	}
	var docs []attachmentDoc
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(err)
	}
	byMessage := map[bson.ObjectID][]bson.ObjectID{}
	for _, d := range docs {
		if d.MessageID != nil {
			byMessage[*d.MessageID] = append(byMessage[*d.MessageID], d.ID)
		}
	}
	for mid, ids := range byMessage {
		var m messageDoc
		err := s.messages.FindOne(ctx, bson.D{{Key: "_id", Value: mid}}).Decode(&m)
		switch {
		case err == nil && m.Pending == "":
			s.confirmClaims(ctx, mid, ids)
		case err == nil: // the message's own claim is unfinished: the message sweep comes first
		case errors.Is(err, mongo.ErrNoDocuments):
			s.releaseClaims(ctx, mid, ids)
		default:
			return mapErr(err)
		}
	}
	return nil
}
