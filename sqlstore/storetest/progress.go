package storetest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// Recount counts what Progress should report the slow way, from every
// account's roles and factor methods as People streams them.
func Recount(tb testing.TB, s mfagate.Store) []*mfagate.ProgressRow {
	tb.Helper()
	byRole := make(map[string]*mfagate.ProgressRow)
	mustView(tb, s, func(tx mfagate.Tx) error {
		return tx.People(func(p *mfagate.Person) error {
			if p.Disabled {
				return nil
			}
			email := slices.Contains(p.Methods, mfagate.MethodEmail)
			totp := slices.Contains(p.Methods, mfagate.MethodTOTP)
			for _, role := range p.Roles {
				r := byRole[role]
				if r == nil {
					r = &mfagate.ProgressRow{Role: role}
					byRole[role] = r
				}
				r.Total++
				if p.Invited {
					r.Invited++
				}
				switch {
				case email && totp:
					r.Both++
				case email:
					r.Email++
				case totp:
					r.TOTP++
				default:
					r.None++
					if p.Skips > 0 {
						r.Skipped++
					}
					if !p.SignedIn {
						r.NeverSignedIn++
					}
				}
			}
			return nil
		})
	})
	rows := make([]*mfagate.ProgressRow, 0, len(byRole))
	for _, r := range byRole {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *mfagate.ProgressRow) int { return cmp.Compare(a.Role, b.Role) })
	return rows
}

// MustProgress returns what Progress reports, in View.
func MustProgress(tb testing.TB, s mfagate.Store) []*mfagate.ProgressRow {
	tb.Helper()
	var rows []*mfagate.ProgressRow
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		rows, err = tx.Progress()
		return err
	})
	return rows
}

// CheckProgress fails unless Progress agrees with Recount, and the
// rollout groups with CheckGroups.
func CheckProgress(tb testing.TB, s mfagate.Store, when string) {
	tb.Helper()
	got, want := MustProgress(tb, s), Recount(tb, s)
	if !reflect.DeepEqual(dumpProgress(got), dumpProgress(want)) {
		tb.Errorf("%s: Progress got %v, recount %v", when, dumpProgress(got), dumpProgress(want))
	}
	CheckGroups(tb, s, when)
}

// CheckGroups fails unless the rollout groups' kept counts (Groups) agree
// with a count of every account as People streams them, in Go, and
// unless the store's own recount (RecountGroups) finds nothing wrong.
func CheckGroups(tb testing.TB, s mfagate.Store, when string) {
	tb.Helper()
	want := map[string]int{}
	mustView(tb, s, func(tx mfagate.Tx) error {
		return tx.People(func(p *mfagate.Person) error {
			want[groupName(mfagate.Group{Roles: p.Roles, Methods: p.Methods, Skipped: p.Skips > 0,
				NeverSignedIn: !p.SignedIn, Unreached: p.Unreached, Disabled: p.Disabled, Invited: p.Invited})]++
			return nil
		})
	})
	got := map[string]int{}
	var mismatches []*mfagate.GroupMismatch
	mustView(tb, s, func(tx mfagate.Tx) error {
		groups, _, err := tx.Groups(time.Time{})
		for _, g := range groups {
			got[groupName(*g)] += g.People
		}
		if err == nil {
			mismatches, err = tx.RecountGroups(false)
		}
		return err
	})
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: groups got %v, people counted one by one %v", when, got, want)
	}
	for _, m := range mismatches {
		tb.Errorf("%s: RecountGroups: group %s kept %d, recounted %d, %d people with a wrong copy",
			when, groupName(m.Group), m.Group.People, m.Recounted, m.WrongPeople)
	}
}

// groupName is what makes a group, as a string.
func groupName(g mfagate.Group) string {
	return fmt.Sprintf("roles=%v methods=%v skipped=%t never=%t unreached=%t disabled=%t invited=%t",
		g.Roles, g.Methods, g.Skipped, g.NeverSignedIn, g.Unreached, g.Disabled, g.Invited)
}

func dumpProgress(rows []*mfagate.ProgressRow) []mfagate.ProgressRow {
	out := []mfagate.ProgressRow{}
	for _, r := range rows {
		out = append(out, *r)
	}
	return out
}

func testProgress(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	if got := MustProgress(t, s); len(got) != 0 {
		t.Errorf("empty store: got %v, want no rows", dumpProgress(got))
	}
	signIn := func(u *mfagate.User) {
		u.LastSignInAt = base.Add(time.Hour)
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.UpdateUser(u) })
	}
	// ann and ben are admins and users; the rest only users.
	ann := mustCreateUser(t, s, "ann", mfagate.RoleAdmin, mfagate.RoleUser)
	ben := mustCreateUser(t, s, "ben", mfagate.RoleAdmin, mfagate.RoleUser)
	cat := mustCreateUser(t, s, "cat", mfagate.RoleUser)
	dan := mustCreateUser(t, s, "dan", mfagate.RoleUser)
	eve := mustCreateUser(t, s, "eve", mfagate.RoleUser)
	mustCreateUser(t, s, "fay") // no roles: counted nowhere
	mustCreateFactor(t, s, newEmailFactor(ann.ID, base))
	mustCreateFactor(t, s, newTOTP(ann.ID, base))
	mustCreateFactor(t, s, newTOTP(ben.ID, base))
	mustCreateFactor(t, s, newEmailFactor(cat.ID, base))
	signIn(ann)
	signIn(dan)
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSkip(dan.ID, base) })
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RecordSkip(eve.ID, base) })
	want := []mfagate.ProgressRow{
		{Role: mfagate.RoleAdmin, Total: 2, TOTP: 1, Both: 1},
		{Role: mfagate.RoleUser, Total: 5, Email: 1, TOTP: 1, Both: 1, None: 2, Skipped: 2, NeverSignedIn: 1},
	}
	if got := dumpProgress(MustProgress(t, s)); !reflect.DeepEqual(got, want) {
		t.Errorf("mixed population: got %v, want %v", got, want)
	}
	CheckProgress(t, s, "mixed population")

	steps := []struct {
		name string
		fn   func(tx mfagate.Tx) error
	}{
		{"disable ben", func(tx mfagate.Tx) error { ben.Disabled = true; return tx.UpdateUser(ben) }},
		{"eve sets up email", func(tx mfagate.Tx) error { return tx.CreateFactor(newEmailFactor(eve.ID, base)) }},
		{"cat adds TOTP", func(tx mfagate.Tx) error { return tx.CreateFactor(newTOTP(cat.ID, base)) }},
		{"ann removes TOTP", func(tx mfagate.Tx) error {
			fs, err := tx.UserFactors(ann.ID)
			for _, f := range fs {
				if err == nil && f.Method == mfagate.MethodTOTP {
					err = tx.DeleteFactor(ann.ID, f.ID)
				}
			}
			return err
		}},
		{"cat is reset", func(tx mfagate.Tx) error { _, err := tx.DeleteUserFactors(cat.ID); return err }},
		{"dan becomes support", func(tx mfagate.Tx) error {
			dan.Roles = []string{mfagate.RoleSupport, mfagate.RoleUser}
			return tx.UpdateUser(dan)
		}},
		{"cat signs in and skips", func(tx mfagate.Tx) error {
			cat.LastSignInAt = base
			if err := tx.UpdateUser(cat); err != nil {
				return err
			}
			return tx.RecordSkip(cat.ID, base)
		}},
		{"a failed factor changes nothing", func(tx mfagate.Tx) error {
			err := tx.CreateFactor(newEmailFactor(eve.ID, base))
			if mfagate.ErrorCode(err) != mfagate.ECONFLICT {
				return fmt.Errorf("second email factor: got %v, want a conflict", err)
			}
			return nil
		}},
		{"enable ben again", func(tx mfagate.Tx) error { ben.Disabled = false; return tx.UpdateUser(ben) }},
	}
	for _, st := range steps {
		mustUpdate(t, s, st.fn)
		CheckProgress(t, s, st.name)
	}
	want = []mfagate.ProgressRow{
		{Role: mfagate.RoleAdmin, Total: 2, Email: 1, TOTP: 1},
		{Role: mfagate.RoleSupport, Total: 1, None: 1, Skipped: 1},
		{Role: mfagate.RoleUser, Total: 5, Email: 2, TOTP: 1, None: 2, Skipped: 2},
	}
	if got := dumpProgress(MustProgress(t, s)); !reflect.DeepEqual(got, want) {
		t.Errorf("after the changes: got %v, want %v", got, want)
	}

	// A rolled-back change leaves the counts as they were.
	err := update(s, func(tx mfagate.Tx) error {
		if err := tx.CreateFactor(newTOTP(dan.ID, base)); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("rolled-back Update: got %v, want %v", err, errBoom)
	}
	if got := dumpProgress(MustProgress(t, s)); !reflect.DeepEqual(got, want) {
		t.Errorf("after a rollback: got %v, want %v", got, want)
	}
}

// ProgressConcurrently changes the factors, roles, skips and sign-ins of a
// few people from many goroutines at once, half through a and half
// through b (two replicas on one database, or one store twice), and then
// checks that Progress agrees with a recount.
func ProgressConcurrently(t *testing.T, a, b mfagate.Store) {
	const people, workers, rounds = 4, 8, 15
	var users []*mfagate.User
	for i := range people {
		users = append(users, mustCreateUser(t, a, fmt.Sprintf("p%d", i), mfagate.RoleUser))
	}
	ops := []func(tx mfagate.Tx, u *mfagate.User, w int) error{
		func(tx mfagate.Tx, u *mfagate.User, _ int) error {
			return ignoreConflict(tx.CreateFactor(newEmailFactor(u.ID, base)))
		},
		func(tx mfagate.Tx, u *mfagate.User, _ int) error {
			return ignoreConflict(tx.CreateFactor(newTOTP(u.ID, base)))
		},
		func(tx mfagate.Tx, u *mfagate.User, _ int) error {
			fs, err := tx.UserFactors(u.ID)
			if err != nil || len(fs) == 0 {
				return err
			}
			err = tx.DeleteFactor(u.ID, fs[0].ID)
			if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
				return nil
			}
			return err
		},
		func(tx mfagate.Tx, u *mfagate.User, _ int) error { _, err := tx.DeleteUserFactors(u.ID); return err },
		func(tx mfagate.Tx, u *mfagate.User, _ int) error { return tx.RecordSkip(u.ID, base) },
		func(tx mfagate.Tx, u *mfagate.User, w int) error {
			// Reads the person first, as a use case would, then changes
			// roles, sign-in and whether the account is disabled.
			cur, err := tx.UserByID(u.ID)
			if err != nil {
				return err
			}
			cur.Roles = [][]string{{mfagate.RoleUser}, {mfagate.RoleAdmin, mfagate.RoleUser}, {mfagate.RoleAdmin}}[w%3]
			cur.LastSignInAt = base.Add(time.Duration(w) * time.Minute)
			cur.Disabled = w%4 == 0
			return tx.UpdateUser(cur)
		},
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for r := range rounds {
				u := users[(w+r)%people]
				op := ops[(w*7+r*3)%len(ops)]
				if err := s.Update(context.Background(), func(tx mfagate.Tx) error { return op(tx, u, w+r) }); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent change: %v", err)
	}
	CheckProgress(t, a, "after concurrent changes")
}

// ignoreConflict treats ECONFLICT as success: a concurrent change may
// already have set up the same method.
func ignoreConflict(err error) error {
	if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
		return nil
	}
	return err
}
