package models

import (
	"errors"
	"fmt"
	"time"
)

// Attachment is an uploaded file's record; its bytes live in the store's own file
// storage (files beside the SQLite database, GridFS on MongoDB), under the same id.
//
// An upload starts unattached (MessageID nil). message:new attaches it to one message,
// once: from then on members of that message's chat may read it. Unattached uploads are
// removed once they are older than the configured TTL, and a deleted message's
// attachments are removed with it.
type Attachment struct {
	ID         string
	UploaderID string
	// Name is the sanitised file name the uploader gave (never empty).
	Name string
	// Size is the number of bytes stored.
	Size int64
	// ContentType is what the server sniffed from the first bytes, never what the
	// client declared.
	ContentType string
	CreatedAt   time.Time
	// MessageID and ChatID are set once the upload is attached to a message.
	MessageID *string
	ChatID    *string
}

// Attached reports whether the upload belongs to a message.
func (a *Attachment) Attached() bool { return a.MessageID != nil }

// MaxAttachmentsPerMessage is how many uploads one message may carry.
const MaxAttachmentsPerMessage = 10

// UploadAbandonAfter is how old an upload whose bytes never finished arriving must be
// before the sweep removes what it left (a crash mid-upload). Uploads are cut off long
// before this (server.transferTime).
const UploadAbandonAfter = time.Hour

// ErrAttachmentTaken: the upload is already attached to a message.
var ErrAttachmentTaken = errors.New("attachment already attached to a message")

// AttachmentRefError says which attachment of a message:new could not be attached and
// why: Err wraps ErrNotFound (no such upload, or another user's) or ErrAttachmentTaken.
type AttachmentRefError struct {
	ID  string
	Err error
}

func (e *AttachmentRefError) Error() string { return fmt.Sprintf("attachment %s: %v", e.ID, e.Err) }
func (e *AttachmentRefError) Unwrap() error { return e.Err }

// AttachmentView is the wire shape of an attachment (PROTOCOL.md `Attachment`). URL is
// relative (`/uploads/<id>?exp=…&sig=…`), signed for a short time, and fresh each time a
// view is rendered.
type AttachmentView struct {
	ID          string `json:"id" msgpack:"id"`
	Name        string `json:"name" msgpack:"name"`
	Size        int64  `json:"size" msgpack:"size"`
	ContentType string `json:"contentType" msgpack:"contentType"`
	URL         string `json:"url" msgpack:"url"`
}

// noAttachments is the shared empty list: it encodes as [] and costs no allocation.
var noAttachments = []AttachmentView{}

// AttachmentViews renders attachments with url(id) as each one's URL.
func AttachmentViews(as []Attachment, url func(id string) string) []AttachmentView {
	if len(as) == 0 {
		return noAttachments
	}
	out := make([]AttachmentView, len(as))
	for i, a := range as {
		out[i] = AttachmentView{ID: a.ID, Name: a.Name, Size: a.Size, ContentType: a.ContentType}
		if url != nil {
			out[i].URL = url(a.ID)
		}
	}
	return out
}
