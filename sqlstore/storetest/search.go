package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// searchPopulation is six accounts with every property SearchPeople
// filters by, in ID order.
type searchPopulation struct {
	users   []*mfagate.User
	methods [][]string
	locked  []bool // at base
}

func newSearchPopulation(tb testing.TB, s mfagate.Store) searchPopulation {
	tb.Helper()
	type lock struct {
		until  time.Time
		hard   bool
		factor bool // the second-factor key, not the password key
	}
	people := []struct {
		username, name, email string
		roles                 []string
		methods               []string // created in this order
		lock                  *lock
		locked                bool
	}{
		{"Alice", "Alice Smith", "alice@example.com", []string{mfagate.RoleUser, mfagate.RoleAdmin},
			[]string{mfagate.MethodTOTP, mfagate.MethodEmail}, nil, false},
		{"bob", "Bob 100% Real", "bob@corp.test", []string{mfagate.RoleUser},
			[]string{mfagate.MethodTOTP}, &lock{until: base.Add(time.Hour)}, true},
		{"carol_x", "Carol", "c@example.com", []string{mfagate.RoleSupport},
			nil, &lock{hard: true, factor: true}, true},
		{"Dave", "Dave", "dave@example.com", []string{mfagate.RoleUser},
			[]string{mfagate.MethodEmail}, &lock{until: base.Add(-time.Hour)}, false},
		{"erin", "Érin Ünal", "erin@example.com", nil, nil, nil, false},
		{"frank", `Frank \ Slash`, "frank@example.com", []string{mfagate.RoleUser}, nil, nil, false},
	}
	var p searchPopulation
	for i, pp := range people {
		u := &mfagate.User{Username: pp.username, Name: pp.name, Email: pp.email, Roles: pp.roles,
			CreatedAt: base, LastSignInAt: base.Add(time.Duration(i) * time.Minute), Skips: i}
		mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
		for _, m := range pp.methods {
			mustCreateFactor(tb, s, &mfagate.Factor{UserID: u.ID, Method: m, CreatedAt: base})
		}
		if pp.lock != nil {
			key := mfagate.PasswordThrottleKey(u.Username)
			if pp.lock.factor {
				key = mfagate.FactorThrottleKey(u.Username)
			}
			mustUpdate(tb, s, func(tx mfagate.Tx) error {
				return tx.SaveThrottle(&mfagate.Throttle{Key: key, Failures: 10, LockedUntil: pp.lock.until, HardLocked: pp.lock.hard})
			})
		}
		p.users = append(p.users, mustGetUser(tb, s, u.ID))
		var sorted []string
		for _, m := range []string{mfagate.MethodEmail, mfagate.MethodTOTP} {
			for _, have := range pp.methods {
				if have == m {
					sorted = append(sorted, m)
				}
			}
		}
		p.methods = append(p.methods, sorted)
		p.locked = append(p.locked, pp.locked)
	}
	// Throttles of other kinds do not lock anyone.
	mustUpdate(tb, s, func(tx mfagate.Tx) error {
		return tx.SaveThrottle(&mfagate.Throttle{Key: mfagate.AddressThrottleKey("erin"), Failures: 60, HardLocked: true})
	})
	return p
}

// ids returns the IDs of the population's people at the given indexes.
func (p searchPopulation) ids(idx ...int) []int64 {
	ids := []int64{}
	for _, i := range idx {
		ids = append(ids, p.users[i].ID)
	}
	return ids
}

func mustSearch(tb testing.TB, s mfagate.Store, f mfagate.PeopleFilter) []*mfagate.PersonSummary {
	tb.Helper()
	var found []*mfagate.PersonSummary
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		found, err = tx.SearchPeople(f)
		return err
	})
	return found
}

func summaryIDs(found []*mfagate.PersonSummary) []int64 {
	ids := []int64{}
	for _, p := range found {
		ids = append(ids, p.User.ID)
	}
	return ids
}

func testSearchPeople(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	p := newSearchPopulation(t, s)

	// Everyone, with every field.
	found := mustSearch(t, s, mfagate.PeopleFilter{Now: base})
	if len(found) != len(p.users) {
		t.Fatalf("everyone: got %d people, want %d", len(found), len(p.users))
	}
	for i, got := range found {
		checkUser(t, got.User, p.users[i])
		if !reflect.DeepEqual(got.Methods, p.methods[i]) || got.Locked != p.locked[i] {
			t.Errorf("%s: got methods %v, locked %v; want %v, %v",
				p.users[i].Username, got.Methods, got.Locked, p.methods[i], p.locked[i])
		}
	}

	tests := []struct {
		name string
		f    mfagate.PeopleFilter
		want []int64
	}{
		{"username", mfagate.PeopleFilter{Query: "alice"}, p.ids(0)},
		{"username in another case", mfagate.PeopleFilter{Query: "ALICE"}, p.ids(0)},
		{"stored in another case", mfagate.PeopleFilter{Query: "dav"}, p.ids(3)},
		{"name", mfagate.PeopleFilter{Query: "sMiTh"}, p.ids(0)},
		{"email", mfagate.PeopleFilter{Query: "CORP.test"}, p.ids(1)},
		{"any of the three", mfagate.PeopleFilter{Query: "example"}, p.ids(0, 2, 3, 4, 5)},
		{"percent is literal", mfagate.PeopleFilter{Query: "%"}, p.ids(1)},
		{"percent after text", mfagate.PeopleFilter{Query: "0%"}, p.ids(1)},
		{"underscore is literal", mfagate.PeopleFilter{Query: "_"}, p.ids(2)},
		{"underscore is not any character", mfagate.PeopleFilter{Query: "1_0"}, nil},
		{"backslash is literal", mfagate.PeopleFilter{Query: `\`}, p.ids(5)},
		{"backslash before a letter", mfagate.PeopleFilter{Query: `\ s`}, p.ids(5)},
		// Only ASCII letters are folded, alike on both databases.
		{"non-ASCII as stored", mfagate.PeopleFilter{Query: "ÉRIN ü"}, nil},
		{"non-ASCII, ASCII folded", mfagate.PeopleFilter{Query: "ÉRIN Ün"}, p.ids(4)},
		{"no match", mfagate.PeopleFilter{Query: "zzz"}, nil},
		{"role", mfagate.PeopleFilter{Role: mfagate.RoleUser}, p.ids(0, 1, 3, 5)},
		{"second role", mfagate.PeopleFilter{Role: mfagate.RoleAdmin}, p.ids(0)},
		{"unknown role", mfagate.PeopleFilter{Role: "nobody"}, nil},
		{"no factor", mfagate.PeopleFilter{MFA: mfagate.MFANone}, p.ids(2, 4, 5)},
		{"set up", mfagate.PeopleFilter{MFA: mfagate.MFASetUp}, p.ids(0, 1, 3)},
		{"email", mfagate.PeopleFilter{MFA: mfagate.MFAEmail}, p.ids(0, 3)},
		{"totp", mfagate.PeopleFilter{MFA: mfagate.MFATOTP}, p.ids(0, 1)},
		{"locked", mfagate.PeopleFilter{Locked: true, Now: base}, p.ids(1, 2)},
		{"locked, after a lock ran out", mfagate.PeopleFilter{Locked: true, Now: base.Add(time.Hour)}, p.ids(2)},
		{"locked, before", mfagate.PeopleFilter{Locked: true, Now: base.Add(-2 * time.Hour)}, p.ids(1, 2, 3)},
		{"role, MFA and locked", mfagate.PeopleFilter{Role: mfagate.RoleUser, MFA: mfagate.MFASetUp, Locked: true, Now: base}, p.ids(1)},
		{"text and MFA", mfagate.PeopleFilter{Query: "EXAMPLE", MFA: mfagate.MFANone}, p.ids(2, 4, 5)},
		{"text and role", mfagate.PeopleFilter{Query: "a", Role: mfagate.RoleUser}, p.ids(0, 1, 3, 5)},
		{"first page", mfagate.PeopleFilter{Limit: 2}, p.ids(0, 1)},
		{"next page", mfagate.PeopleFilter{AfterID: p.users[1].ID, Limit: 2}, p.ids(2, 3)},
		{"last page", mfagate.PeopleFilter{AfterID: p.users[3].ID, Limit: 2}, p.ids(4, 5)},
		{"past the end", mfagate.PeopleFilter{AfterID: p.users[5].ID, Limit: 2}, nil},
		{"rest, no limit", mfagate.PeopleFilter{AfterID: p.users[2].ID}, p.ids(3, 4, 5)},
		{"page of a filter", mfagate.PeopleFilter{MFA: mfagate.MFANone, Limit: 2}, p.ids(2, 4)},
		{"next page of a filter", mfagate.PeopleFilter{MFA: mfagate.MFANone, AfterID: p.users[4].ID, Limit: 2}, p.ids(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := mustSearch(t, s, tt.f)
			want := tt.want
			if want == nil {
				want = []int64{}
			}
			if got := summaryIDs(found); !reflect.DeepEqual(got, want) {
				t.Errorf("SearchPeople(%+v): got %v, want %v", tt.f, got, want)
			}
			// Each result is complete whatever the filter.
			for _, got := range found {
				for i, u := range p.users {
					if u.ID != got.User.ID {
						continue
					}
					checkUser(t, got.User, u)
					if !reflect.DeepEqual(got.Methods, p.methods[i]) {
						t.Errorf("%s: got methods %v, want %v", u.Username, got.Methods, p.methods[i])
					}
				}
			}
		})
	}

	wantCode(t, "SearchPeople with an unknown MFA state", view(s, func(tx mfagate.Tx) error {
		_, err := tx.SearchPeople(mfagate.PeopleFilter{MFA: "bogus"})
		return err
	}), mfagate.EINVALID)
}

// testSearchPeopleLargePage reads a page of more accounts than one query
// looks up roles and factors for.
func testSearchPeopleLargePage(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	const n = 1100
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for i := range n {
			u := &mfagate.User{Username: fmt.Sprintf("u%d", i), Roles: []string{mfagate.RoleUser}, CreatedAt: base}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			if i%2 == 0 {
				if err := tx.CreateFactor(newEmailFactor(u.ID, base)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	found := mustSearch(t, s, mfagate.PeopleFilter{})
	if len(found) != n {
		t.Fatalf("got %d people, want %d", len(found), n)
	}
	for i, p := range found {
		if len(p.User.Roles) != 1 || len(p.Methods) != (i+1)%2 {
			t.Fatalf("person %d: got roles %v, methods %v", i, p.User.Roles, p.Methods)
		}
	}
}
