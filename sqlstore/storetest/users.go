package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func testCreateUser(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := &mfagate.User{
		Username:     "Alice",
		Email:        "alice@example.com",
		Name:         "Alice Liddell",
		Roles:        []string{"user", "admin", "user"},
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Disabled:     true,
		CreatedAt:    base,
		LastSignInAt: base.Add(time.Hour),
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
	if u.ID <= 0 {
		t.Fatalf("ID: got %d, want > 0", u.ID)
	}
	want := *u
	want.Roles = []string{"admin", "user"}

	checkUser(t, mustGetUser(t, s, u.ID), &want)
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		var got *mfagate.User
		mustView(t, s, func(tx mfagate.Tx) (err error) {
			got, err = tx.UserByUsername(name)
			return err
		})
		checkUser(t, got, &want)
	}

	other := mustCreateUser(t, s, "bob")
	if other.ID == u.ID {
		t.Errorf("second user ID: got %d, want one different from %d", other.ID, u.ID)
	}
	checkUser(t, mustGetUser(t, s, other.ID), other)
}

func testUsernameConflict(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	mustCreateUser(t, s, "Alice")
	mustCreateUser(t, s, "bob")
	tests := []struct {
		name     string
		username string
	}{
		{"same", "Alice"},
		{"lower", "alice"},
		{"upper", "ALICE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := update(s, func(tx mfagate.Tx) error {
				return tx.CreateUser(&mfagate.User{Username: tt.username, CreatedAt: base})
			})
			wantCode(t, "CreateUser", err, mfagate.ECONFLICT)
			if msg := mfagate.ErrorMessage(err); !strings.Contains(msg, tt.username) {
				t.Errorf("message: got %q, want it to name %q", msg, tt.username)
			}
		})
	}

	// Renaming bob to any spelling of alice clashes too.
	bob := mustGetUserByName(t, s, "bob")
	bob.Username = "aLiCe"
	err := update(s, func(tx mfagate.Tx) error { return tx.UpdateUser(bob) })
	wantCode(t, "UpdateUser to a taken name", err, mfagate.ECONFLICT)
	mustGetUserByName(t, s, "bob")
}

// testConflictKeepsTransaction checks that a conflict does not spoil the
// rest of the transaction (PostgreSQL aborts a transaction on a failed
// statement unless the store avoids one).
func testConflictKeepsTransaction(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	mustCreateUser(t, s, "alice")
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		err := tx.CreateUser(&mfagate.User{Username: "ALICE", CreatedAt: base})
		wantCode(t, "CreateUser", err, mfagate.ECONFLICT)
		return tx.CreateUser(&mfagate.User{Username: "carol", CreatedAt: base})
	})
	mustGetUserByName(t, s, "carol")
}

func testUserNotFound(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	tests := []struct {
		name string
		fn   func(mfagate.Tx) error
	}{
		{"UserByID", func(tx mfagate.Tx) error { _, err := tx.UserByID(alice.ID + 1000); return err }},
		{"UserByUsername", func(tx mfagate.Tx) error { _, err := tx.UserByUsername("nobody"); return err }},
		{"UpdateUser", func(tx mfagate.Tx) error {
			return tx.UpdateUser(&mfagate.User{ID: alice.ID + 1000, Username: "ghost"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.name, update(s, tt.fn), mfagate.ENOTFOUND)
		})
	}
	err := view(s, func(tx mfagate.Tx) error { _, err := tx.UserByUsername("bob"); return err })
	if got, want := mfagate.ErrorMessage(err), `user "bob" not found`; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
}

func testUpdateUser(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice", "user")

	changed := *u
	changed.Username = "Alice.Smith"
	changed.Email = "alice.smith@example.com"
	changed.Name = "Alice Smith"
	changed.Roles = []string{"support", "admin", "support"}
	changed.PasswordHash = "$argon2id$new"
	changed.Disabled = true
	changed.LastSignInAt = base.Add(2 * time.Hour)
	changed.CreatedAt = base.Add(time.Hour) // not saved
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&changed) })

	want := changed
	want.Roles = []string{"admin", "support"}
	want.CreatedAt = base
	checkUser(t, mustGetUser(t, s, u.ID), &want)
	checkUser(t, mustGetUserByName(t, s, "alice.smith"), &want)
	err := view(s, func(tx mfagate.Tx) error { _, err := tx.UserByUsername("alice"); return err })
	wantCode(t, "old username", err, mfagate.ENOTFOUND)

	// Changing only the case of one's own name is not a conflict; roles
	// can be emptied and the last sign-in cleared.
	want.Username, want.Roles, want.Disabled, want.LastSignInAt = "ALICE.SMITH", nil, false, time.Time{}
	again := want
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(&again) })
	checkUser(t, mustGetUser(t, s, u.ID), &want)
}

func testUserTimes(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name       string
		created    time.Time
		lastSignIn time.Time
	}{
		{"utc", base, base.Add(time.Minute)},
		{"sub-millisecond", base.Add(123456789 * time.Nanosecond), base.Add(999999 * time.Nanosecond)},
		{"other zone", time.Date(2026, 6, 1, 12, 0, 0, 5e6, paris), time.Date(2026, 6, 2, 0, 30, 0, 0, paris)},
		{"never signed in", base, time.Time{}},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), time.Time{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &mfagate.User{Username: "user" + string(rune('a'+i)), CreatedAt: tt.created, LastSignInAt: tt.lastSignIn}
			mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
			got := mustGetUser(t, s, u.ID)
			if want := stored(tt.created); got.CreatedAt != want {
				t.Errorf("CreatedAt: got %v, want %v", got.CreatedAt, want)
			}
			if want := stored(tt.lastSignIn); got.LastSignInAt != want {
				t.Errorf("LastSignInAt: got %v, want %v", got.LastSignInAt, want)
			}
			checkUTC(t, "CreatedAt", got.CreatedAt)
			checkUTC(t, "LastSignInAt", got.LastSignInAt)
		})
	}
}

func testUsers(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	a := mustCreateUser(t, s, "a", "user")
	b := mustCreateUser(t, s, "b", "admin", "user")
	c := mustCreateUser(t, s, "c")
	d := mustCreateUser(t, s, "d", "user", "support")
	e := mustCreateUser(t, s, "e", "admin")
	all := []*mfagate.User{a, b, c, d, e}

	tests := []struct {
		name   string
		filter mfagate.UserFilter
		want   []*mfagate.User
	}{
		{"all", mfagate.UserFilter{}, all},
		{"limit", mfagate.UserFilter{Limit: 2}, []*mfagate.User{a, b}},
		{"after", mfagate.UserFilter{AfterID: b.ID}, []*mfagate.User{c, d, e}},
		{"after and limit", mfagate.UserFilter{AfterID: b.ID, Limit: 2}, []*mfagate.User{c, d}},
		{"after the last", mfagate.UserFilter{AfterID: e.ID}, nil},
		{"role", mfagate.UserFilter{Role: "user"}, []*mfagate.User{a, b, d}},
		{"role and limit", mfagate.UserFilter{Role: "user", Limit: 2}, []*mfagate.User{a, b}},
		{"role after", mfagate.UserFilter{Role: "user", AfterID: b.ID}, []*mfagate.User{d}},
		{"role admin", mfagate.UserFilter{Role: "admin"}, []*mfagate.User{b, e}},
		{"unknown role", mfagate.UserFilter{Role: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*mfagate.User
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				got, err = tx.Users(tt.filter)
				return err
			})
			if g, w := userIDs(got), userIDs(tt.want); !reflect.DeepEqual(g, w) {
				t.Fatalf("IDs: got %v, want %v", g, w)
			}
			for i := range got {
				checkUser(t, got[i], tt.want[i])
			}
		})
	}

	// Paging through everything two at a time visits each user once.
	var seen []int64
	for after := int64(0); ; {
		var page []*mfagate.User
		mustView(t, s, func(tx mfagate.Tx) (err error) {
			page, err = tx.Users(mfagate.UserFilter{AfterID: after, Limit: 2})
			return err
		})
		if len(page) == 0 {
			break
		}
		seen = append(seen, userIDs(page)...)
		after = page[len(page)-1].ID
	}
	if want := userIDs(all); !reflect.DeepEqual(seen, want) {
		t.Errorf("paged IDs: got %v, want %v", seen, want)
	}
}

func testRollback(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	err := update(s, func(tx mfagate.Tx) error {
		if err := tx.CreateUser(&mfagate.User{Username: "alice", CreatedAt: base}); err != nil {
			return err
		}
		if err := tx.AppendAudit(&mfagate.AuditEvent{At: base, Kind: mfagate.AuditUserCreate}); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("Update: got %v, want %v returned as is", err, errBoom)
	}
	err = view(s, func(tx mfagate.Tx) error { _, err := tx.UserByUsername("alice"); return err })
	wantCode(t, "user after rollback", err, mfagate.ENOTFOUND)
	var events []*mfagate.AuditEvent
	mustView(t, s, func(tx mfagate.Tx) (err error) { events, err = tx.AuditEvents(mfagate.AuditFilter{}); return err })
	if len(events) != 0 {
		t.Errorf("audit events after rollback: got %d, want 0", len(events))
	}
	// The name is free again.
	mustCreateUser(t, s, "alice")
}

func testCanceledContext(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Update(ctx, func(tx mfagate.Tx) error {
		return tx.CreateUser(&mfagate.User{Username: "bob", CreatedAt: base})
	})
	if err == nil {
		t.Errorf("Update with a canceled context: got nil error, want one")
	}
	err = s.View(ctx, func(tx mfagate.Tx) error { _, err := tx.UserByID(alice.ID); return err })
	wantCode(t, "View with a canceled context", err, mfagate.EINTERNAL)
	err = view(s, func(tx mfagate.Tx) error { _, err := tx.UserByUsername("bob"); return err })
	wantCode(t, "user of the canceled Update", err, mfagate.ENOTFOUND)
}

func mustGetUserByName(tb testing.TB, s mfagate.Store, username string) *mfagate.User {
	tb.Helper()
	var u *mfagate.User
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		u, err = tx.UserByUsername(username)
		return err
	})
	return u
}

// testBadText: text a database cannot hold (NUL, bytes that are not
// UTF-8) is never an internal error: PostgreSQL refuses it, which the
// store reports as EINVALID; SQLite stores or finds nothing. The web edge
// refuses such text first; this is the net under every other door.
func testBadText(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	mustCreateUser(t, s, "alice")
	for _, bad := range []string{"ali\x00ce", "\xff\xfe", "alice\xc0\x80"} {
		calls := []struct {
			name string
			fn   func(mfagate.Tx) error
		}{
			{"UserByUsername", func(tx mfagate.Tx) error { _, err := tx.UserByUsername(bad); return err }},
			{"SearchPeople", func(tx mfagate.Tx) error {
				_, err := tx.SearchPeople(mfagate.PeopleFilter{Query: bad, Now: base, Limit: 10})
				return err
			}},
			{"AuditEvents", func(tx mfagate.Tx) error { _, err := tx.AuditEvents(mfagate.AuditFilter{Subject: bad}); return err }},
			{"Throttle", func(tx mfagate.Tx) error { _, err := tx.Throttle("user:" + bad); return err }},
		}
		for _, c := range calls {
			err := view(s, c.fn)
			if code := mfagate.ErrorCode(err); code != "" && code != mfagate.ENOTFOUND && code != mfagate.EINVALID {
				t.Errorf("%s(%q): got %q (%v), want nothing found or EINVALID", c.name, bad, code, err)
			}
		}
		err := update(s, func(tx mfagate.Tx) error {
			return tx.AppendAudit(&mfagate.AuditEvent{At: base, Kind: "test", Subject: bad})
		})
		if code := mfagate.ErrorCode(err); code != "" && code != mfagate.EINVALID {
			t.Errorf("AppendAudit(%q): got %q (%v), want stored or EINVALID", bad, code, err)
		}
	}
}

// testRecordSignIn: a sign-in sets the time, and the hash only when it
// is upgraded, and nothing else: a change made meanwhile by someone else
// (disabling, a new name) stays. The first one counts the person as
// having signed in on the dashboard.
func testRecordSignIn(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, "alice", "user")
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		v, err := tx.UserByID(u.ID)
		if err != nil {
			return err
		}
		v.Disabled, v.Name, v.PasswordHash = true, "Alice Changed", "$argon2id$old"
		return tx.UpdateUser(v)
	})
	if got := MustProgress(t, s); len(got) != 0 {
		t.Fatalf("a disabled account counted: %+v", got)
	}
	at := base.Add(time.Hour + 1500*time.Microsecond)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSignIn(u.ID, at, "") })
	got := mustGetUser(t, s, u.ID)
	if !got.LastSignInAt.Equal(stored(at)) || got.PasswordHash != "$argon2id$old" || !got.Disabled || got.Name != "Alice Changed" {
		t.Fatalf("after RecordSignIn: got %+v, want only the time changed", *got)
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSignIn(u.ID, at.Add(time.Minute), "$argon2id$new") })
	if got := mustGetUser(t, s, u.ID); got.PasswordHash != "$argon2id$new" {
		t.Fatalf("a rehash: got hash %q", got.PasswordHash)
	}
	CheckProgress(t, s, "after RecordSignIn")
	// Enabled again, the person counts as one who has signed in.
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		v, err := tx.UserByID(u.ID)
		if err != nil {
			return err
		}
		v.Disabled = false
		return tx.UpdateUser(v)
	})
	bob := mustCreateUser(t, s, "bob", "user")
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSignIn(bob.ID, at, "") })
	rows := MustProgress(t, s)
	if len(rows) != 1 || rows[0].Total != 2 || rows[0].NeverSignedIn != 0 {
		t.Fatalf("progress: got %+v, want two who have signed in", rows)
	}
	CheckProgress(t, s, "after first sign-ins")
	wantCode(t, "RecordSignIn of nobody", update(s, func(tx mfagate.Tx) error { return tx.RecordSignIn(9999, at, "") }), mfagate.ENOTFOUND)
}

func testUsersByEmail(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	a := mustCreateUser(t, s, "a")
	b := mustCreateUser(t, s, "b", "admin")
	c := mustCreateUser(t, s, "c")
	mustCreateUser(t, s, "d")
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, u := range []*mfagate.User{a, b, c} {
			u.Email = "Shared.Box@Example.com"
		}
		c.Disabled = true
		for _, u := range []*mfagate.User{a, b, c} {
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	names := func(address string, limit int) []string {
		t.Helper()
		var out []string
		mustView(t, s, func(tx mfagate.Tx) error {
			us, err := tx.UsersByEmail(address, limit)
			for _, u := range us {
				out = append(out, u.Username)
				if u.Username == "b" && (len(u.Roles) != 1 || u.Roles[0] != "admin") {
					t.Errorf("UsersByEmail: b's roles: got %v, want [admin]", u.Roles)
				}
				if u.Username == "c" && !u.Disabled {
					t.Error("UsersByEmail: c is disabled, got it enabled")
				}
			}
			return err
		})
		return out
	}
	for _, tc := range []struct {
		name, address string
		limit         int
		want          []string
	}{
		{"any case, disabled included, in ID order", "shared.box@example.COM", 10, []string{"a", "b", "c"}},
		{"limited", "shared.box@example.com", 2, []string{"a", "b"}},
		{"one", "d@example.com", 10, []string{"d"}},
		{"nobody", "nobody@example.com", 10, nil},
		{"not a pattern", "%@example.com", 10, nil},
		{"no limit finds nobody", "d@example.com", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.address, tc.limit); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("UsersByEmail(%q, %d): got %v, want %v", tc.address, tc.limit, got, tc.want)
			}
		})
	}
}
