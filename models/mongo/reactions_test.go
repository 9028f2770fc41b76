package mongo

import (
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/parley-chat/parley/models"
)

// What the documents look like (a mongoose-based reader sees plain added fields), and the
// window between Unreact's two updates, which the contract suite cannot reach.

func TestReactionDocumentShape(t *testing.T) {
	s := openStore(t, Options{})
	ctx := t.Context()
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	m := mustSend(t, s, chat.ID, ids[0])
	for _, u := range ids {
		if _, _, err := s.React(ctx, m.ID, u, "👍"); err != nil {
			t.Fatal(err)
		}
	}
	until := time.Now().Add(time.Hour)
	if _, err := s.SetMute(ctx, chat.ID, ids[1], &until); err != nil {
		t.Fatal(err)
	}
	mid, _ := oid(m.ID)
	var doc bson.M
	if err := s.messages.FindOne(ctx, byID(mid)).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// Decoded into types, not compared as printed values: the driver decodes embedded
	// documents of a bson.M as bson.D, which prints as extended JSON.
	var shape struct {
		Reactions []struct {
			Emoji string        `bson:"emoji"`
			User  bson.ObjectID `bson:"user"`
		} `bson:"reactions"`
		ReactionEmoji []string `bson:"reactionEmoji"`
	}
	if err := s.messages.FindOne(ctx, byID(mid)).Decode(&shape); err != nil {
		t.Fatal(err)
	}
	u0, _ := oid(ids[0])
	u1, _ := oid(ids[1])
	r := shape.Reactions
	if len(r) != 2 || r[0].Emoji != "👍" || r[0].User != u0 || r[1].Emoji != "👍" || r[1].User != u1 ||
		len(shape.ReactionEmoji) != 1 || shape.ReactionEmoji[0] != "👍" {
		t.Errorf("message document: reactions %v, reactionEmoji %v", doc["reactions"], doc["reactionEmoji"])
	}
	for _, f := range []string{"chatId", "sender", "text", "replyTo", "createdAt", "updatedAt"} {
		if _, ok := doc[f]; !ok {
			t.Errorf("message document lost the Node field %q: %v", f, doc)
		}
	}
	cid, _ := oid(chat.ID)
	var chatDoc struct {
		MutedUntil   map[string]any  `bson:"mutedUntil"`
		Participants []bson.ObjectID `bson:"participants"`
	}
	if err := s.chats.FindOne(ctx, byID(cid)).Decode(&chatDoc); err != nil {
		t.Fatal(err)
	}
	if _, ok := chatDoc.MutedUntil[ids[1]].(bson.DateTime); !ok || len(chatDoc.MutedUntil) != 1 {
		t.Errorf("chat document mutedUntil = %#v, want {%s: date}", chatDoc.MutedUntil, ids[1])
	}
	if len(chatDoc.Participants) != 2 {
		t.Errorf("chat document participants = %v", chatDoc.Participants)
	}
}

// An Unreact that stopped after pulling the last reaction of an emoji leaves the emoji in
// reactionEmoji with no reaction. Reads skip it, and when it stands in the way of the
// MaxReactionEmoji check, React drops it and goes on.
func TestReactionEmojiLeftBehind(t *testing.T) {
	s := openStore(t, Options{})
	ctx := t.Context()
	ids := mustUsers(t, s, "ann", "ben")
	chat := mustGroup(t, s, ids...)
	m := mustSend(t, s, chat.ID, ids[0])
	for i := range models.MaxReactionEmoji {
		if _, _, err := s.React(ctx, m.ID, ids[0], fmt.Sprintf(":e%d:", i)); err != nil {
			t.Fatal(err)
		}
	}
	// The first of Unreact's two updates only.
	mid, _ := oid(m.ID)
	u0, _ := oid(ids[0])
	if _, err := s.messages.UpdateOne(ctx, byID(mid), bson.D{{Key: "$pull", Value: bson.D{{Key: "reactions", Value: reactionPair(":e5:", u0)}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reactions) != models.MaxReactionEmoji-1 {
		t.Fatalf("reads show %d emoji, want %d (the unused one skipped)", len(got.Reactions), models.MaxReactionEmoji-1)
	}
	got, changed, err := s.React(ctx, m.ID, ids[1], ":new:")
	if err != nil || !changed {
		t.Fatalf("React with room held by an unused emoji: %v (changed %v)", err, changed)
	}
	if n := len(got.Reactions); n != models.MaxReactionEmoji || got.Reactions[n-1].Emoji != ":new:" {
		t.Fatalf("reactions after making room: %+v", got.Reactions)
	}
	if _, _, err := s.React(ctx, m.ID, ids[1], ":one-too-many:"); err != models.ErrTooManyReactions {
		t.Fatalf("the 21st emoji: %v, want ErrTooManyReactions", err)
	}
}
