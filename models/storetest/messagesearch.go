package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

var messageSearchTests = []storeTest{
	{"Words", testSearchWords},
	{"Folding", testSearchFolding},
	{"PlainText", testSearchPlainText},
	{"OnlyMembersChats", testSearchMembership},
	{"DeletedAndEdited", testSearchDeletedEdited},
	{"NewestFirstAndPaging", testSearchPaging},
	{"OneChatPaging", testSearchOneChatPaging},
	{"MalformedInput", testSearchMalformed},
}

// found runs SearchMessages and returns the ids it answered, in order.
func found(t *testing.T, s models.Store, q models.SearchQuery) []string {
	t.Helper()
	got, err := s.SearchMessages(t.Context(), q)
	if err != nil {
		t.Fatalf("SearchMessages(%+v): %v", q, err)
	}
	if got == nil {
		t.Fatalf("SearchMessages(%+v) = nil, want a list (empty when nothing matches)", q)
	}
	for _, m := range got {
		if m.Deleted {
			t.Errorf("SearchMessages(%+v) returned deleted message %s", q, m.ID)
		}
	}
	return messageIDs(got)
}

// finds checks that searching text as user (in every chat) answers want, newest first.
func finds(t *testing.T, s models.Store, user, text string, want ...*models.Message) {
	t.Helper()
	got := found(t, s, models.SearchQuery{UserID: user, Text: text, Limit: 50})
	sameOrder(t, fmt.Sprintf("search %q", text), got, messageIDs(want))
}

// newestFirst reverses msgs (sent oldest first) into the order searches answer.
func newestFirst(msgs ...*models.Message) []*models.Message {
	out := make([]*models.Message, len(msgs))
	for i, m := range msgs {
		out[len(msgs)-1-i] = m
	}
	return out
}

func testSearchWords(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	hello := send(t, s, g.ID, a, "Hello world, this is Ann")
	help := send(t, s, g.ID, b, "can you help me with the world map?")
	helium := send(t, s, g.ID, a, "helium balloons")
	_ = send(t, s, g.ID, b, "nothing to see")
	emoji := send(t, s, g.ID, a, "👍🎉")

	finds(t, s, a, "hello", hello)                             // a whole word
	finds(t, s, a, "hel", newestFirst(hello, help, helium)...) // a prefix
	finds(t, s, b, "world", newestFirst(hello, help)...)
	finds(t, s, a, "world hel", newestFirst(hello, help)...) // every word must match
	finds(t, s, a, "hel world", newestFirst(hello, help)...) // in any order
	finds(t, s, a, "world helium")                           // none has both
	finds(t, s, a, "orld")                                   // a word's middle is no prefix
	finds(t, s, a, "helloo")                                 // longer than the word
	finds(t, s, a, "the world", help)                        // "the" is a word like any other
	finds(t, s, a, "hello hello hel", hello)                 // repeats change nothing
	finds(t, s, a, "map? can", help)
	finds(t, s, a, "👍") // no words: nothing
	_ = emoji

	// Limit caps the page.
	got := found(t, s, models.SearchQuery{UserID: a, Text: "hel", Limit: 2})
	sameOrder(t, "search hel, limit 2", got, messageIDs(newestFirst(help, helium)))
}

func testSearchFolding(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	cafe := send(t, s, g.ID, a, "Rendez-vous au Café de Flore")
	naive := send(t, s, g.ID, b, "NAÏVE question about the CRÈME brûlée")
	strasse := send(t, s, g.ID, a, "Hauptstraße 5, Zürich")
	greek := send(t, s, g.ID, b, "ΟΔΥΣΣΕΥΣ και Σωκράτης")
	wide := send(t, s, g.ID, a, "ｆｕｌｌｗｉｄｔｈ text")
	han := send(t, s, g.ID, b, "我们明天见 ok")
	decomposed := send(t, s, g.ID, a, "cafe\u0301 au lait") // e + combining acute
	long := send(t, s, g.ID, b, strings.Repeat("a", 70)+"b and more")

	for _, c := range []struct {
		text string
		want []*models.Message
	}{
		{"cafe", newestFirst(cafe, decomposed)},
		{"CAFÉ", newestFirst(cafe, decomposed)},
		{"café", newestFirst(cafe, decomposed)},
		{"Cafe\u0301", newestFirst(cafe, decomposed)},
		{"caf", newestFirst(cafe, decomposed)},
		{"flore", []*models.Message{cafe}},
		{"rendez vous", []*models.Message{cafe}},
		{"naive", []*models.Message{naive}},
		{"Naïve crème BRULEE", []*models.Message{naive}},
		{"hauptstrasse", []*models.Message{strasse}},
		{"HAUPTSTRASSE", []*models.Message{strasse}},
		{"hauptstraße", []*models.Message{strasse}},
		{"zurich", []*models.Message{strasse}},
		{"5", []*models.Message{strasse}},
		{"οδυσσευς", []*models.Message{greek}},
		{"ΟΔΥΣΣΕΎΣ", []*models.Message{greek}}, // with tonos
		{"οδυσσευσ", []*models.Message{greek}}, // final sigma folds to sigma
		{"σωκρ", []*models.Message{greek}},
		{"fullwidth", []*models.Message{wide}},
		{"ＦＵＬＬ", []*models.Message{wide}},
		{"我们", []*models.Message{han}}, // a run of Han is one word: prefixes match
		{"明天", nil},                    // its middle does not
		{"ok", []*models.Message{han}},
		{"lait", []*models.Message{decomposed}},
		// Words count by their first 64 characters.
		{strings.Repeat("a", 64), []*models.Message{long}},
		{strings.Repeat("a", 70), []*models.Message{long}},
		{strings.Repeat("a", 63) + "b", nil},
	} {
		finds(t, s, a, c.text, c.want...)
	}
}

// Query text is plain text: FTS5 syntax (quotes, *, NEAR, AND/OR/NOT, -, :, ^, column
// filters), regular-expression and LIKE metacharacters are separators like any other
// punctuation, never an operator and never an error.
func testSearchPlainText(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	near := send(t, s, g.ID, a, `she said "NEAR" the door`)
	minus := send(t, s, g.ID, b, "rock-paper-scissors: tokens:secret")
	star := send(t, s, g.ID, a, "a*b (c) [d] {e} ^f$ g|h 100% under_score back\\slash")
	other := send(t, s, g.ID, b, "and or not")

	for _, c := range []struct {
		text string
		want []*models.Message
	}{
		{`"near"`, []*models.Message{near}},
		{`NEAR(door said)`, []*models.Message{near}},
		{`near*`, []*models.Message{near}},
		{`"she said`, []*models.Message{near}},
		{`-rock`, []*models.Message{minus}},
		{`rock -paper`, []*models.Message{minus}}, // not "rock but not paper"
		{`tokens:secret`, []*models.Message{minus}},
		{`tokens:`, []*models.Message{minus}},
		{`secret:tokens`, []*models.Message{minus}},
		{`^door`, []*models.Message{near}},
		{`a*b`, []*models.Message{star}},
		{`(c) [d]`, []*models.Message{star}},
		{`.*`, nil},
		{`*`, nil},
		{`"`, nil},
		{`""`, nil},
		{`-`, nil},
		{`:`, nil},
		{`%`, nil},
		{`^`, nil},
		{`$where`, nil},
		{`{"$ne": null}`, nil}, // the words "ne" and "null"; no message has both
		{`100%`, []*models.Message{star}},
		{`under_score`, []*models.Message{star}},
		{`back\slash`, []*models.Message{star}},
		{`AND`, []*models.Message{other}},
		{`or not`, []*models.Message{other}},
		{`NOT door`, nil}, // "not" and "door": no message has both
		{`tokens : secret`, []*models.Message{minus}},
		{`\"`, nil},
		{`'; DROP TABLE messages; --`, nil},
		{`' OR '1'='1`, nil},
	} {
		finds(t, s, a, c.text, c.want...)
	}
	// Every message is still there.
	finds(t, s, a, "door", near)
}

func testSearchMembership(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben", "cat", "dan")
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	ab := newGroup(t, s, a, b)
	ac := newDirect(t, s, a, c)
	bc := newGroup(t, s, b, c)
	inAB := send(t, s, ab.ID, b, "secret plans in ab")
	inAC := send(t, s, ac.ID, c, "secret plans in ac")
	inBC := send(t, s, bc.ID, c, "secret plans in bc")

	finds(t, s, a, "secret", newestFirst(inAB, inAC)...)
	finds(t, s, b, "secret", newestFirst(inAB, inBC)...)
	finds(t, s, c, "secret", newestFirst(inAC, inBC)...)
	finds(t, s, d, "secret") // in no chat
	// One chat, a member.
	sameOrder(t, "a searching ab", found(t, s, models.SearchQuery{UserID: a, ChatID: ab.ID, Text: "secret", Limit: 10}), []string{inAB.ID})
	sameOrder(t, "c searching ac", found(t, s, models.SearchQuery{UserID: c, ChatID: ac.ID, Text: "plans", Limit: 10}), []string{inAC.ID})
	// One chat, not a member: nothing, as for a chat that does not exist.
	sameOrder(t, "a searching bc", found(t, s, models.SearchQuery{UserID: a, ChatID: bc.ID, Text: "secret", Limit: 10}), nil)
	sameOrder(t, "d searching ab", found(t, s, models.SearchQuery{UserID: d, ChatID: ab.ID, Text: "secret", Limit: 10}), nil)
	sameOrder(t, "a searching a missing chat", found(t, s, models.SearchQuery{UserID: a, ChatID: models.NewID(), Text: "secret", Limit: 10}), nil)

	// Leaving a chat takes its messages out of the member's searches at once, old and new.
	_, err := s.RemoveParticipant(ctx, ab.ID, a, now())
	fatalIf(t, err, "RemoveParticipant")
	after := send(t, s, ab.ID, b, "secret plans after ann left")
	finds(t, s, a, "secret", inAC)
	sameOrder(t, "a searching ab after leaving", found(t, s, models.SearchQuery{UserID: a, ChatID: ab.ID, Text: "secret", Limit: 10}), nil)
	finds(t, s, b, "secret", newestFirst(inAB, inBC, after)...)
	// Added again, the member finds the chat's whole history again.
	_, err = s.AddParticipants(ctx, ab.ID, []string{a}, now())
	fatalIf(t, err, "AddParticipants")
	finds(t, s, a, "secret", newestFirst(inAB, inAC, after)...)
	// A newly added member finds messages from before they joined (history is shared).
	_, err = s.AddParticipants(ctx, bc.ID, []string{d}, now())
	fatalIf(t, err, "AddParticipants d")
	finds(t, s, d, "secret", inBC)
}

func testSearchDeletedEdited(t *testing.T, s models.Store) {
	ctx := t.Context()
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	m1 := send(t, s, g.ID, a, "the quick brown fox")
	m2 := send(t, s, g.ID, b, "a quick reply")
	m3 := send(t, s, g.ID, a, "quick quick quick")
	finds(t, s, a, "quick", newestFirst(m1, m2, m3)...)

	_, err := s.DeleteMessage(ctx, m2.ID, now())
	fatalIf(t, err, "DeleteMessage")
	finds(t, s, a, "quick", newestFirst(m1, m3)...)
	finds(t, s, b, "reply")
	_, err = s.DeleteMessage(ctx, m2.ID, now()) // again: still gone
	fatalIf(t, err, "DeleteMessage again")
	finds(t, s, b, "reply")

	_, err = s.EditMessage(ctx, m1.ID, "the slow red Ökonom", nil, now())
	fatalIf(t, err, "EditMessage")
	finds(t, s, a, "quick", m3)    // the old words no longer match
	finds(t, s, a, "brown")        // at all
	finds(t, s, a, "slow red", m1) // the new ones do
	finds(t, s, a, "okon", m1)
	finds(t, s, a, "the", m1)
	// An edit keeps the message's place (it is not a new message).
	m4 := send(t, s, g.ID, b, "the end")
	finds(t, s, a, "the", newestFirst(m1, m4)...)
	_, err = s.EditMessage(ctx, m3.ID, "…", nil, now()) // to a text without words
	fatalIf(t, err, "EditMessage to no words")
	finds(t, s, a, "quick")
	// A deleted message is not found, even by what it said before an edit.
	_, err = s.DeleteMessage(ctx, m1.ID, now())
	fatalIf(t, err, "DeleteMessage edited")
	finds(t, s, a, "slow")
	finds(t, s, a, "the", m4)
}

// pages walks a search page by page with Before, limit n, and returns every id seen.
func pages(t *testing.T, s models.Store, q models.SearchQuery, n int) []string {
	t.Helper()
	var all []string
	q.Limit = n + 1
	for range 1000 {
		got, err := s.SearchMessages(t.Context(), q)
		fatalIf(t, err, "SearchMessages page")
		more := len(got) > n
		if more {
			got = got[:n]
		}
		all = append(all, messageIDs(got)...)
		if !more {
			return all
		}
		last := got[len(got)-1]
		q.Before = &models.SearchCursor{CreatedAt: last.CreatedAt, Seq: last.Seq, ID: last.ID}
	}
	t.Fatal("paging never ended")
	return nil
}

func testSearchPaging(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben", "cat")
	a, b, c := ids[0], ids[1], ids[2]
	chats := []*models.Chat{newGroup(t, s, a, b), newDirect(t, s, a, c), newGroup(t, s, a, b, c)}
	other := newGroup(t, s, b, c)
	var want []*models.Message
	for i := range 23 {
		m := send(t, s, chats[i%3].ID, ids[i%3], fmt.Sprintf("needle number %d", i))
		want = append(want, m)
		send(t, s, other.ID, b, "needle elsewhere")
		send(t, s, chats[(i+1)%3].ID, a, "haystack")
	}
	wantIDs := messageIDs(newestFirst(want...))
	all := found(t, s, models.SearchQuery{UserID: a, Text: "needle", Limit: 50})
	sameOrder(t, "one page of 50", all, wantIDs)
	for _, n := range []int{1, 4, 5, 22, 23, 24} {
		sameOrder(t, fmt.Sprintf("pages of %d", n), pages(t, s, models.SearchQuery{UserID: a, Text: "needle"}, n), wantIDs)
	}
	// A page after the last message is empty.
	last := want[0]
	got := found(t, s, models.SearchQuery{UserID: a, Text: "needle", Limit: 5,
		Before: &models.SearchCursor{CreatedAt: last.CreatedAt, Seq: last.Seq, ID: last.ID}})
	sameOrder(t, "after the oldest", got, nil)
	// Messages sent after a page was read do not disturb the pages after it.
	first := found(t, s, models.SearchQuery{UserID: a, Text: "needle", Limit: 5})
	send(t, s, chats[0].ID, a, "needle newer")
	m := want[len(want)-5]
	rest := pages(t, s, models.SearchQuery{UserID: a, Text: "needle",
		Before: &models.SearchCursor{CreatedAt: m.CreatedAt, Seq: m.Seq, ID: m.ID}}, 7)
	sameOrder(t, "pages after new messages", append(first, rest...), wantIDs)
}

func testSearchOneChatPaging(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	h := newGroup(t, s, a, b)
	var want []*models.Message
	for i := range 12 {
		want = append(want, send(t, s, g.ID, ids[i%2], fmt.Sprintf("ping %d", i)))
		send(t, s, h.ID, a, "ping elsewhere")
	}
	wantIDs := messageIDs(newestFirst(want...))
	for _, n := range []int{1, 5, 12, 13} {
		sameOrder(t, fmt.Sprintf("one chat, pages of %d", n), pages(t, s, models.SearchQuery{UserID: b, ChatID: g.ID, Text: "PING"}, n), wantIDs)
	}
	got, err := s.SearchMessages(t.Context(), models.SearchQuery{UserID: b, ChatID: g.ID, Text: "ping", Limit: 50})
	fatalIf(t, err, "SearchMessages")
	for i, m := range got {
		equal(t, fmt.Sprintf("result %d seq", i), m.Seq, int64(12-i))
		equal(t, fmt.Sprintf("result %d chat", i), m.ChatID, g.ID)
	}
	if len(got) > 0 {
		checkMessage(t, "newest result", got[0], want[11])
	}
}

func testSearchMalformed(t *testing.T, s models.Store) {
	ids := newUsers(t, s, "ann", "ben")
	a, b := ids[0], ids[1]
	g := newGroup(t, s, a, b)
	m := send(t, s, g.ID, a, "findable text")
	for _, bad := range malformedIDs {
		sameOrder(t, "malformed user "+bad, found(t, s, models.SearchQuery{UserID: bad, Text: "findable", Limit: 10}), nil)
		if bad != "" {
			sameOrder(t, "malformed chat "+bad, found(t, s, models.SearchQuery{UserID: a, ChatID: bad, Text: "findable", Limit: 10}), nil)
		}
		// A cursor naming no message this store holds leads nowhere harmful.
		if _, err := s.SearchMessages(t.Context(), models.SearchQuery{UserID: a, Text: "findable", Limit: 10,
			Before: &models.SearchCursor{CreatedAt: time.Now(), Seq: 1, ID: bad}}); err != nil {
			t.Errorf("cursor with id %q: %v", bad, err)
		}
	}
	sameOrder(t, "empty text", found(t, s, models.SearchQuery{UserID: a, Text: "", Limit: 10}), nil)
	sameOrder(t, "no limit", found(t, s, models.SearchQuery{UserID: a, Text: "findable"}), []string{m.ID})
}
