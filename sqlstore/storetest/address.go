package storetest

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// testUnconfirmedAddress: an address set by staff and waiting to be
// confirmed keeps when it was set and the address before, through
// UpdateUser and every way of reading the account, and confirming it
// clears both.
func testUnconfirmedAddress(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice", "user")

	changed := *u
	changed.PreviousEmail, changed.Email = u.Email, "alice@new.example.com"
	changed.EmailUnconfirmedAt = base.Add(90*time.Minute + 123*time.Millisecond)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&changed) })
	want := changed
	want.Roles = []string{"user"}
	got := mustGetUser(t, s, u.ID)
	checkUser(t, got, &want)
	checkUTC(t, "EmailUnconfirmedAt", got.EmailUnconfirmedAt)
	if got.CodeAddress() != "alice@example.com" {
		t.Errorf("CodeAddress: got %q, want the address before, alice@example.com", got.CodeAddress())
	}
	checkUser(t, mustGetUserByName(t, s, "ALICE"), &want)
	var listed []*mfagate.User
	mustView(t, s, func(tx mfagate.Tx) (err error) { listed, err = tx.Users(mfagate.UserFilter{}); return err })
	if len(listed) != 1 {
		t.Fatalf("Users: got %d, want 1", len(listed))
	}
	checkUser(t, listed[0], &want)

	// Created that way too (an import of an account mid-change is not a
	// thing, but nothing is dropped on the way in).
	other := &mfagate.User{Username: "bob", Email: "bob@new.example.com", PreviousEmail: "bob@example.com",
		EmailUnconfirmedAt: base, CreatedAt: base}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.CreateUser(other) })
	if got := mustGetUser(t, s, other.ID); got.PreviousEmail != "bob@example.com" || !got.EmailUnconfirmedAt.Equal(base) {
		t.Errorf("created: got previous %q unconfirmed at %v, want bob@example.com at %v", got.PreviousEmail, got.EmailUnconfirmedAt, base)
	}

	confirmed := want
	confirmed.PreviousEmail, confirmed.EmailUnconfirmedAt = "", time.Time{}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&confirmed) })
	checkUser(t, mustGetUser(t, s, u.ID), &confirmed)
}

// testEmailInUse: an address is in use by another account when it is
// their address, or the address their sign-in codes still go to, in any
// case; never by the account asking.
func testEmailInUse(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice", "user")
	bob := mustCreateUser(t, s, "bob", "user")
	moved := *bob
	moved.PreviousEmail, moved.Email, moved.EmailUnconfirmedAt = bob.Email, "robert@example.com", base
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&moved) })

	tests := []struct {
		name   string
		email  string
		except int64
		want   bool
	}{
		{"another's address", "alice@example.com", bob.ID, true},
		{"in another case", "ALICE@Example.COM", bob.ID, true},
		{"one's own", "alice@example.com", alice.ID, false},
		{"another's unconfirmed address", "robert@example.com", alice.ID, true},
		{"where another's codes still go", "bob@example.com", alice.ID, true},
		{"nobody's", "carol@example.com", alice.ID, false},
		{"part of one", "lice@example.com", bob.ID, false},
		{"empty", "", bob.ID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bool
			mustView(t, s, func(tx mfagate.Tx) (err error) { got, err = tx.EmailInUse(tt.email, tt.except); return err })
			if got != tt.want {
				t.Errorf("EmailInUse(%q, %d): got %v, want %v", tt.email, tt.except, got, tt.want)
			}
		})
	}
}
