package sqlstore

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mfagate/mfagate"
)

// Progress counts enabled accounts by role and MFA state; see
// mfagate.People. It adds up the kept counts of the rollout groups
// (groups.go), a few dozen rows however many accounts there are: a
// group's count goes to each of its roles.
func (t *tx) Progress() ([]*mfagate.ProgressRow, error) {
	groups, err := t.groupRows()
	if err != nil {
		return nil, fmt.Errorf("count progress: %w", err)
	}
	byRole := make(map[string]*mfagate.ProgressRow)
	for _, g := range groups {
		if g.state&stateDisabled != 0 {
			continue
		}
		for _, role := range splitRoles(g.roles) {
			r := byRole[role]
			if r == nil {
				r = &mfagate.ProgressRow{Role: role}
				byRole[role] = r
			}
			addCount(r, g.state, g.people)
		}
	}
	out := make([]*mfagate.ProgressRow, 0, len(byRole))
	for _, r := range byRole {
		out = append(out, r)
	}
	// Sorted here, not by ORDER BY: PostgreSQL collations do not sort by byte.
	slices.SortFunc(out, func(a, b *mfagate.ProgressRow) int { return cmp.Compare(a.Role, b.Role) })
	return out, nil
}

// addCount adds n enabled accounts in state to r.
func addCount(r *mfagate.ProgressRow, state, n int) {
	r.Total += n
	if state&stateInvited != 0 {
		r.Invited += n
	}
	switch state & (stateEmail | stateTOTP) {
	case stateEmail:
		r.Email += n
	case stateTOTP:
		r.TOTP += n
	case stateEmail | stateTOTP:
		r.Both += n
	default:
		r.None += n
		if state&stateSkipped != 0 {
			r.Skipped += n
		}
		if state&stateNever != 0 {
			r.NeverSignedIn += n
		}

	}
}
