package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/handlers"
	"github.com/parley-chat/parley/models"
)

// upload stores an upload of c and returns its id.
func (e *env) upload(c handlers.Caller, body string) string {
	e.t.Helper()
	a := &models.Attachment{UploaderID: c.UserID, Name: "f.txt", ContentType: "text/plain; charset=utf-8", CreatedAt: e.clock.Now()}
	if err := e.store.CreateAttachment(context.Background(), a, bytes.NewReader([]byte(body))); err != nil {
		e.t.Fatalf("CreateAttachment: %v", err)
	}
	return a.ID
}

func attachmentIDsOf(m M) []string {
	var out []string
	for _, a := range arr(m["attachments"]) {
		out = append(out, str(obj(a)["id"]))
	}
	return out
}

func TestMessageNewWithAttachments(t *testing.T) {
	e := newEnv(t)
	e.h.AttachmentURL = func(id string) string { return "/uploads/" + id + "?signed" }
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	chatID := e.direct(ada, bob)
	u1, u2 := e.upload(ada, "one"), e.upload(ada, "two")
	e.rec.take()
	m := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "  ", "attachments": []string{u2, u1}})["message"])
	if m["text"] != "" || fmt.Sprint(attachmentIDsOf(m)) != fmt.Sprint([]string{u2, u1}) {
		t.Fatalf("message with attachments only: %v", m)
	}
	first := obj(arr(m["attachments"])[0])
	if first["name"] != "f.txt" || num(first["size"]) != 3 || first["contentType"] != "text/plain; charset=utf-8" || first["url"] != "/uploads/"+u2+"?signed" {
		t.Fatalf("attachment view: %v", first)
	}
	news := only(e.rec.take(), "message:new")
	if len(news) != 1 || fmt.Sprint(attachmentIDsOf(obj(news[0].Payload["message"]))) != fmt.Sprint([]string{u2, u1}) {
		t.Fatalf("broadcast: %v", news)
	}
	plain := e.send(bob, chatID, "no files")
	if a, ok := plain["attachments"].([]any); !ok || len(a) != 0 {
		t.Fatalf("a message without attachments has attachments %v, want []", plain["attachments"])
	}
	listed := arr(e.ok(bob, "message:list", M{"chatId": chatID})["messages"])
	if fmt.Sprint(attachmentIDsOf(obj(listed[0]))) != fmt.Sprint([]string{u2, u1}) || len(arr(obj(listed[1])["attachments"])) != 0 {
		t.Fatalf("message:list: %v", listed)
	}
	synced := arr(e.ok(bob, "sync", M{"cursors": M{chatID: 0}})["messages"])
	if fmt.Sprint(attachmentIDsOf(obj(synced[0]))) != fmt.Sprint([]string{u2, u1}) {
		t.Fatalf("sync: %v", synced)
	}
	// The sender may edit the text away (the attachments stay); a message without any may not.
	e.ok(ada, "message:edit", M{"messageId": m["id"], "text": "now with words"})
	e.ok(ada, "message:edit", M{"messageId": m["id"], "text": ""})
	e.fail(bob, "message:edit", M{"messageId": plain["id"], "text": " "}, "VALIDATION_ERROR")
	// Visibility of the bytes: uploader and members; not an outsider; a deleted message's
	// attachments are gone.
	eve := e.user("eve")
	for _, c := range []handlers.Caller{ada, bob} {
		if _, err := e.h.VisibleAttachment(context.Background(), c.UserID, u1); err != nil {
			t.Errorf("%s cannot read an attachment of their chat: %v", c.SocketID, err)
		}
	}
	if _, err := e.h.VisibleAttachment(context.Background(), eve.UserID, u1); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("an outsider reads an attachment: %v", err)
	}
	e.ok(ada, "message:delete", M{"messageId": m["id"]})
	deleted := obj(arr(e.ok(bob, "message:list", M{"chatId": chatID})["messages"])[0])
	if deleted["deleted"] != true || len(arr(deleted["attachments"])) != 0 {
		t.Fatalf("a deleted message: %v", deleted)
	}
	if _, err := e.h.VisibleAttachment(context.Background(), ada.UserID, u1); err == nil {
		t.Errorf("a deleted message's attachment is still served to its uploader")
	}
}

func TestMessageNewAttachmentRefusals(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.user("ada"), e.user("bob")
	e.connect(ada, bob)
	chatID := e.direct(ada, bob)
	mine, bobs := e.upload(ada, "a"), e.upload(bob, "b")
	e.ok(ada, "message:new", M{"chatId": chatID, "text": "x", "attachments": []string{mine}})
	fresh := e.upload(ada, "c")
	e.rec.take()
	many := make([]string, 11)
	for i := range many {
		many[i] = models.NewID()
	}
	for _, c := range []struct {
		what    string
		payload M
		code    string
	}{
		{"11 attachments", M{"chatId": chatID, "text": "x", "attachments": many}, "VALIDATION_ERROR"},
		{"a repeated id", M{"chatId": chatID, "text": "x", "attachments": []string{fresh, fresh}}, "VALIDATION_ERROR"},
		{"an empty id", M{"chatId": chatID, "text": "x", "attachments": []string{""}}, "VALIDATION_ERROR"},
		{"not a list of strings", M{"chatId": chatID, "text": "x", "attachments": []int{1}}, "VALIDATION_ERROR"},
		{"no text and no attachments", M{"chatId": chatID, "text": " ", "attachments": []string{}}, "VALIDATION_ERROR"},
		{"someone else's upload", M{"chatId": chatID, "text": "x", "attachments": []string{fresh, bobs}}, "NOT_FOUND"},
		{"an upload that does not exist", M{"chatId": chatID, "text": "x", "attachments": []string{models.NewID()}}, "NOT_FOUND"},
		{"an upload attached already", M{"chatId": chatID, "text": "x", "attachments": []string{fresh, mine}}, "CONFLICT"},
	} {
		e.fail(ada, "message:new", c.payload, c.code)
		if news := only(e.rec.take(), "message:new"); len(news) != 0 {
			t.Errorf("%s: broadcast %v", c.what, news)
		}
	}
	if msgs := arr(e.ok(ada, "message:list", M{"chatId": chatID})["messages"]); len(msgs) != 1 {
		t.Fatalf("refused messages were stored: %v", msgs)
	}
	// Ten is the limit, and fresh was left unattached by the refusals.
	ten := []string{fresh}
	for range 9 {
		ten = append(ten, e.upload(ada, "z"))
	}
	m := obj(e.ok(ada, "message:new", M{"chatId": chatID, "text": "", "attachments": ten})["message"])
	if len(arr(m["attachments"])) != 10 || num(m["seq"]) != 2 {
		t.Fatalf("ten attachments: %v", m)
	}
}
