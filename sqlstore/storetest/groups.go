package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// GroupsUnderRandomChanges makes thousands of changes chosen at random
// (seeded, so a failure can be replayed) to a few dozen people from many
// goroutines at once, half through a and half through b (two replicas on
// one database, or one store twice): new accounts, alone and in batches
// as an import makes them, factors set up and removed, resets, skips,
// first sign-ins, extensions, disabling and enabling, role changes,
// addresses refused and fixed, invitations sent and accepted, and
// transactions rolled back half-way.
// Then the rollout groups' kept counts must agree with a recount, by the
// store and one by one (CheckGroups), and with Progress (CheckProgress).
func GroupsUnderRandomChanges(t *testing.T, a, b mfagate.Store, changes int) {
	const workers = 8
	var (
		mu    sync.Mutex
		users []*mfagate.User
	)
	pick := func(r *rand.Rand) *mfagate.User {
		mu.Lock()
		defer mu.Unlock()
		return users[r.IntN(len(users))]
	}
	added := func(us ...*mfagate.User) {
		mu.Lock()
		defer mu.Unlock()
		users = append(users, us...)
	}
	roleSets := [][]string{{mfagate.RoleUser}, {mfagate.RoleAdmin, mfagate.RoleUser}, {mfagate.RoleAdmin}, {mfagate.RoleSupport, mfagate.RoleUser}, nil}
	var next int
	var nextMu sync.Mutex
	newUser := func(r *rand.Rand) *mfagate.User {
		nextMu.Lock()
		next++
		n := next
		nextMu.Unlock()
		u := &mfagate.User{Username: fmt.Sprintf("g%05d", n), Email: fmt.Sprintf("g%05d@example.com", n),
			Roles: roleSets[r.IntN(len(roleSets))], CreatedAt: base, Disabled: r.IntN(10) == 0}
		if r.IntN(3) == 0 {
			u.LastSignInAt = base
		} else if r.IntN(2) == 0 {
			u.InvitedAt = base
		}
		return u
	}
	for i := range 20 {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		u := newUser(r)
		mustUpdate(t, a, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
		added(u)
	}
	ops := []struct {
		name string
		// fn adds to created the accounts it made, known once it commits.
		fn func(tx mfagate.Tx, r *rand.Rand, u *mfagate.User, created *[]*mfagate.User) error
	}{
		{"import", func(tx mfagate.Tx, r *rand.Rand, _ *mfagate.User, created *[]*mfagate.User) error {
			for range 1 + r.IntN(4) {
				u := newUser(r)
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				*created = append(*created, u)
			}
			return nil
		}},
		{"set up email", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			return ignoreConflict(tx.CreateFactor(newEmailFactor(u.ID, base)))
		}},
		{"set up TOTP", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			return ignoreConflict(tx.CreateFactor(newTOTP(u.ID, base)))
		}},
		{"remove a factor", func(tx mfagate.Tx, r *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			fs, err := tx.UserFactors(u.ID)
			if err != nil || len(fs) == 0 {
				return err
			}
			return ignoreNotFound(tx.DeleteFactor(u.ID, fs[r.IntN(len(fs))].ID))
		}},
		{"reset", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			_, err := tx.DeleteUserFactors(u.ID)
			return err
		}},
		{"skip", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			return ignoreNotFound(tx.RecordSkip(u.ID, base))
		}},
		{"sign in", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			return ignoreNotFound(tx.RecordSignIn(u.ID, base.Add(time.Hour), ""))
		}},
		{"extend, disable, change roles", func(tx mfagate.Tx, r *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			cur, err := tx.UserByID(u.ID)
			if err != nil {
				return ignoreNotFound(err)
			}
			switch r.IntN(4) {
			case 0:
				cur.ExtendedUntil = base.Add(time.Duration(r.IntN(48)) * time.Hour)
			case 1:
				cur.Disabled = !cur.Disabled
			case 2:
				// Invited again, or the invitation accepted or revoked.
				if cur.Invited() {
					cur.InvitedAt = time.Time{}
				} else {
					cur.InvitedAt = base
				}
			default:
				cur.Roles = roleSets[r.IntN(len(roleSets))]
			}
			return tx.UpdateUser(cur)
		}},
		{"address refused", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			_, err := tx.MarkUnreached(u.ID, u.Email, "550 no such user", base)
			return ignoreNotFound(err)
		}},
		{"address fixed", func(tx mfagate.Tx, _ *rand.Rand, u *mfagate.User, _ *[]*mfagate.User) error {
			return ignoreNotFound(tx.ClearUnreached(u.ID))
		}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, changes)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for range changes / workers {
				op := ops[r.IntN(len(ops))]
				u := pick(r)
				rollback := r.IntN(10) == 0
				var mine []*mfagate.User
				err := s.Update(context.Background(), func(tx mfagate.Tx) error {
					mine = nil
					if err := op.fn(tx, r, u, &mine); err != nil {
						return err
					}
					if rollback {
						return errBoom
					}
					return nil
				})
				if err != nil && err != errBoom {
					errs <- fmt.Errorf("%s of %s: %w", op.name, u.Username, err)
				}
				if err == nil {
					added(mine...)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("change: %v", err)
	}
	CheckProgress(t, a, fmt.Sprintf("after %d random changes", changes))
}

// ignoreNotFound treats ENOTFOUND as success: the person may have been
// created in a transaction that was rolled back.
func ignoreNotFound(err error) error {
	if mfagate.ErrorCode(err) == mfagate.ENOTFOUND {
		return nil
	}
	return err
}
