package mongo

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/parley-chat/parley/models"
)

// What a message's mentions look like in its document: an added array of ObjectIds,
// absent when there are none, replaced by an edit, removed by a delete; and the index
// that counts them.
func TestMentionDocumentShape(t *testing.T) {
	s := openStore(t, Options{})
	ctx := t.Context()
	ids := mustUsers(t, s, "ann", "ben", "cat")
	chat := mustGroup(t, s, ids...)
	m, _, err := s.InsertMessage(ctx, &models.Message{ID: models.NewID(), ChatID: chat.ID, SenderID: ids[0], Text: "@cat @ben",
		Mentions: []string{ids[2], ids[1]}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	plain := mustSend(t, s, chat.ID, ids[0])
	mentions := func(id string) (list []bson.ObjectID, present bool) {
		t.Helper()
		mid, _ := oid(id)
		var doc bson.M
		if err := s.messages.FindOne(ctx, byID(mid)).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		_, present = doc["mentions"]
		var shape struct {
			Mentions []bson.ObjectID `bson:"mentions"`
		}
		if err := s.messages.FindOne(ctx, byID(mid)).Decode(&shape); err != nil {
			t.Fatal(err)
		}
		return shape.Mentions, present
	}
	u1, _ := oid(ids[1])
	u2, _ := oid(ids[2])
	if got, _ := mentions(m.ID); len(got) != 2 || got[0] != u2 || got[1] != u1 {
		t.Errorf("mentions = %v, want [%s %s]", got, ids[2], ids[1])
	}
	if _, present := mentions(plain.ID); present {
		t.Error("a message without mentions has a mentions field")
	}
	if _, err := s.EditMessage(ctx, m.ID, "@ben", []string{ids[1]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := mentions(m.ID); len(got) != 1 || got[0] != u1 {
		t.Errorf("mentions after the edit = %v, want [%s]", got, ids[1])
	}
	if _, err := s.EditMessage(ctx, m.ID, "nobody", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, present := mentions(m.ID); present {
		t.Error("an edit without mentions left the field")
	}
	if _, err := s.EditMessage(ctx, m.ID, "@cat", []string{ids[2]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteMessage(ctx, m.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, present := mentions(m.ID); present {
		t.Error("a deleted message kept its mentions")
	}

	cur, err := s.messages.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []struct {
		Key bson.D `bson:"key"`
	}
	if err := cur.All(ctx, &indexes); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ix := range indexes {
		if keysString(ix.Key) == `{"mentions":1,"chatId":1,"seq":1}` {
			found = true
		}
	}
	if !found {
		t.Errorf("no {mentions, chatId, seq} index on messages: %v", indexes)
	}
}
