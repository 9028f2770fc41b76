package models

import "time"

// User is the stored user document.
type User struct {
	ID           string
	Handle       string // lower case, unique
	Name         string
	Image        *string
	PasswordHash string // empty for users created from external tokens
	LastSeen     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wire shapes carry msgpack tags equal to their json tags: broadcasts to other nodes
// travel through the Redis adapter as msgpack, and without them the receiving node would
// emit Go field names ("ID", "Handle") to its clients.

// UserView is the wire shape of a user (PROTOCOL.md `User`).
type UserView struct {
	ID       string  `json:"id" msgpack:"id"`
	Handle   string  `json:"handle" msgpack:"handle"`
	Name     string  `json:"name" msgpack:"name"`
	Image    *string `json:"image" msgpack:"image"`
	Online   bool    `json:"online" msgpack:"online"`
	LastSeen *string `json:"lastSeen" msgpack:"lastSeen"`
}

// UserRef is the short user shape embedded in messages.
type UserRef struct {
	ID     string  `json:"id" msgpack:"id"`
	Handle string  `json:"handle" msgpack:"handle"`
	Name   string  `json:"name" msgpack:"name"`
	Image  *string `json:"image" msgpack:"image"`
}

// Ref returns the short shape of u.
func (u *User) Ref() UserRef {
	return UserRef{ID: u.ID, Handle: u.Handle, Name: u.Name, Image: u.Image}
}

// UserPatch is a partial update; nil fields are left alone. ClearImage sets image to null.
type UserPatch struct {
	Name       *string
	Image      *string
	ClearImage bool
}

// FormatTime renders a time the way every wire shape does: ISO-8601 UTC with milliseconds,
// as JavaScript's Date.prototype.toISOString does.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// FormatTimePtr is FormatTime for optional times.
func FormatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}
