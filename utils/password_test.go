package utils

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordArgon2idRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q, want a PHC argon2id string with the configured parameters", hash)
	}
	if !CheckPassword(hash, "correct horse battery staple") {
		t.Fatal("the right password was refused")
	}
	if CheckPassword(hash, "correct horse battery stapl") || CheckPassword(hash, "") {
		t.Fatal("a wrong password was accepted")
	}
	again, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestPasswordAcceptsBcryptHashesOfANodeServer(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("hunter22hunter22"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(b)
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		h := prefix + hash[4:] // the variants differ only in the prefix for these inputs
		if !CheckPassword(h, "hunter22hunter22") {
			t.Errorf("%s hash refused the right password", prefix)
		}
		if CheckPassword(h, "hunter22hunter2") {
			t.Errorf("%s hash accepted a wrong password", prefix)
		}
	}
}

// checkNoPanic runs CheckPassword and turns a panic into a test failure, so one bad
// hash does not hide the others.
func checkNoPanic(t *testing.T, hash, password string) (ok bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("CheckPassword(%q) panicked: %v", hash, r)
			ok = false
		}
	}()
	return CheckPassword(hash, password)
}

func TestPasswordRefusesGarbageHashes(t *testing.T) {
	good, err := HashPassword("password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, hash := range []string{
		"",
		"password1",
		"$argon2id$",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=18$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=x,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$extra",
		"$2a$10$short",
		"$2b$",
		"$1$abc$def",
	} {
		if checkNoPanic(t, hash, "password1") {
			t.Errorf("CheckPassword(%q) accepted the password", hash)
		}
	}
}

// A stored hash with zero passes or zero lanes (a corrupt row, a hand-edited migration)
// must be refused, not crash the login handler: argon2.IDKey panics on both.
func TestPasswordRefusesArgon2idHashesWithZeroParameters(t *testing.T) {
	good, err := HashPassword("password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for _, params := range []string{"m=19456,t=0,p=1", "m=19456,t=2,p=0"} {
		hash := fmt.Sprintf("$argon2id$v=19$%s$%s$%s", params, parts[4], parts[5])
		if checkNoPanic(t, hash, "password1") {
			t.Errorf("CheckPassword(%q) accepted the password", hash)
		}
	}
}

func TestDummyPasswordCheckRuns(t *testing.T) {
	DummyPasswordCheck("whatever") // must neither panic nor need a hash
}
