package storetest

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/models"
)

var searchTests = []storeTest{
	{"Prefix", testSearchPrefix},
	{"Metacharacters", testSearchMetacharacters},
	{"Limit", testSearchLimit},
}

// search runs SearchUsers and checks the handles it returns, in order.
func search(t *testing.T, s models.Store, prefix string, limit int, want ...string) {
	t.Helper()
	got, err := s.SearchUsers(t.Context(), prefix, limit)
	if err != nil {
		t.Errorf("SearchUsers(%q, %d): %v", prefix, limit, err)
		return
	}
	sameOrder(t, fmt.Sprintf("SearchUsers(%q, %d) handles", prefix, limit), userHandles(got), want)
}

func testSearchPrefix(t *testing.T, s models.Store) {
	newUserNamed(t, s, "bob", "Al Bundy")
	newUserNamed(t, s, "alice", "Zoe Alpha")
	newUserNamed(t, s, "carol", "Carol")
	newUserNamed(t, s, "alfred", "Batman Butler")
	newUserNamed(t, s, "dalia", "Dalmatian")

	search(t, s, "al", 20, "alfred", "alice", "bob") // handle or name prefix, ordered by handle
	search(t, s, "AL", 20, "alfred", "alice", "bob") // case-insensitive
	search(t, s, "aLi", 20, "alice")
	search(t, s, "zoe", 20, "alice")   // name prefix
	search(t, s, "ZOE A", 20, "alice") // name prefix across a space
	search(t, s, "carol", 20, "carol") // handle and name both match: listed once
	search(t, s, "alpha", 20)          // a prefix, not a substring
	search(t, s, "bundy", 20)
	search(t, s, "almatian", 20)
	search(t, s, "xyz", 20)

	got, err := s.SearchUsers(t.Context(), "alf", 20)
	fatalIf(t, err, "SearchUsers")
	if len(got) == 1 {
		equal(t, "found user's Name", got[0].Name, "Batman Butler")
	}
}

// Search text is literal: SQL LIKE and regular-expression metacharacters match themselves.
func testSearchMetacharacters(t *testing.T, s models.Store) {
	for _, u := range [][2]string{
		{"a_b", "Plain"}, {"axb", "Plain"}, {"a.c", "Plain"}, {"abc", "Plain"},
		{"pct", "100% sure"}, {"pct2", "100 percent"},
		{"star", ".*star"}, {"paren", "(paren"}, {"brack", "[bracket"},
		{"slash", `back\slash`}, {"cpp", "C++ fan"}, {"dollar", "$money"},
		{"caret", "^up"}, {"pipe", "x|y"}, {"quote", "O'Brien"},
	} {
		newUserNamed(t, s, u[0], u[1])
	}
	search(t, s, "a_", 50, "a_b")
	search(t, s, "a.", 50, "a.c")
	search(t, s, "%", 50)
	search(t, s, "_", 50)
	search(t, s, "100%", 50, "pct")
	search(t, s, ".*", 50, "star")
	search(t, s, ".", 50, "star")
	search(t, s, "*", 50)
	search(t, s, "(", 50, "paren")
	search(t, s, "(p", 50, "paren")
	search(t, s, "[", 50, "brack")
	search(t, s, `back\`, 50, "slash")
	search(t, s, `\`, 50)
	search(t, s, "c++", 50, "cpp")
	search(t, s, "$", 50, "dollar")
	search(t, s, "^", 50, "caret")
	search(t, s, "x|", 50, "pipe")
	search(t, s, "|", 50)
	search(t, s, "?", 50)
	search(t, s, "o'", 50, "quote")
	search(t, s, "'", 50)
}

func testSearchLimit(t *testing.T, s models.Store) {
	for _, h := range []string{"sam4", "sam1", "sam6", "other", "sam2", "sam5", "sam3"} {
		newUser(t, s, h)
	}
	search(t, s, "sam", 3, "sam1", "sam2", "sam3")
	search(t, s, "sam", 1, "sam1")
	search(t, s, "sam", 50, "sam1", "sam2", "sam3", "sam4", "sam5", "sam6")
	search(t, s, "SAM5", 50, "sam5")
}
