package account

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/mfagate/mfagate"
)

// Roles: their names, the list this installation gives (Options.Roles),
// the accounts holding one off it, and changing an account's roles.

// NormalizeRoles checks role names and returns them sorted without
// duplicates. At least one role is required: rollout phases pick people
// by role, and an account with none would silently fall outside them.
func NormalizeRoles(roles []string) ([]string, error) {
	var out []string
	for _, r := range roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		if !roleRE.MatchString(r) {
			return nil, mfagate.Errorf(mfagate.EINVALID,
				"Role %q must start with a letter and use only lowercase letters, numbers, _ and - (up to 32)", clip(r))
		}
		if r == "all" {
			return nil, mfagate.Errorf(mfagate.EINVALID, `"all" is reserved for rollout audiences and cannot be given as a role`)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, mfagate.Errorf(mfagate.EINVALID, "Give at least one role, such as user or admin")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// knownRoles refuses a role this installation does not use (Options.Roles),
// naming the one closest to it: a mistyped role would otherwise be given,
// and then counted in forecasts as a role nobody meant.
func (s *Service) knownRoles(roles []string) error {
	if s.roles == nil {
		return nil
	}
	for _, r := range roles {
		if slices.Contains(s.roles, r) {
			continue
		}
		if near := mfagate.Suggest(r, s.roles); near != "" {
			return mfagate.Errorf(mfagate.EINVALID, "Role %q is not one of the roles this installation uses (%s). Did you mean %q?",
				clip(r), strings.Join(s.roles, ", "), near)
		}
		return mfagate.Errorf(mfagate.EINVALID, "Role %q is not one of the roles this installation uses (%s). An operator can add it to roles in the configuration",
			clip(r), strings.Join(s.roles, ", "))
	}
	return nil
}

// Role is a role this installation gives, with what the console says of
// it.
type Role struct {
	Name, Description string
	Staff             bool // operator or support: given only at the server
}

// KnownRoles lists the roles people can be given here (Options.Roles,
// in its order), or, when any role is accepted, the four with a meaning
// of their own.
func (s *Service) KnownRoles() []Role {
	names := s.roles
	if names == nil {
		names = []string{mfagate.RoleAdmin, mfagate.RoleUser, mfagate.RoleOperator, mfagate.RoleSupport}
	}
	out := make([]Role, len(names))
	for i, n := range names {
		out[i] = Role{Name: n, Description: s.roleHelp[n], Staff: n == mfagate.RoleOperator || n == mfagate.RoleSupport}
	}
	return out
}

// UnknownRoles counts, for each role that accounts hold and this
// installation no longer lists (Options.Roles), how many hold it: roles
// taken off the list, or given before there was one. It reads the rollout
// groups' counts, so it is cheap at any size. Empty when any role is
// accepted.
func (s *Service) UnknownRoles(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	if s.roles == nil {
		return out, nil
	}
	var groups []*mfagate.Group
	err := s.view(ctx, func(tx *txn) (err error) {
		groups, _, err = tx.Groups(tx.now) // the people extended now come too, unused: they are few
		return err
	})
	for _, g := range groups {
		for _, r := range g.Roles {
			if !slices.Contains(s.roles, r) {
				out[r] += g.People
			}
		}
	}
	return out, err
}

// SplitRoles splits a list written as "admin,user", "admin;user" or
// "admin user".
func SplitRoles(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// SetRoles gives an account new roles, from the installation's list
// (Options.Roles). Staff give a reason; it is audited and the person is
// emailed. The console and the API (by not at the server) change roles
// among the others only: operator and support are granted and taken away
// only at the server's command line, and a staff account's roles change
// only there (see guardStaff). Every replica forgets what it remembers of
// the person's sessions, so that forward-auth answers with the new roles
// at the next request (within the documented bound when an announcement
// is missed); the sessions themselves go on.
func (s *Service) SetRoles(ctx context.Context, by Actor, username string, roles []string, reason string) error {
	reason, err := staffReason(by, username, reason, "the role change")
	if err != nil {
		return err
	}
	if roles, err = NormalizeRoles(roles); err != nil {
		return err
	}
	if err := s.knownRoles(roles); err != nil {
		return err
	}
	if !by.AtServer && staffRoles(roles) {
		// As a refused staff account is: a leaked token trying it shows.
		if err := s.update(ctx, func(tx *txn) error {
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditRolesChange, Outcome: mfagate.OutcomeDenied, Actor: by.Name,
				Subject: username, ClientAddr: by.ClientAddr, Detail: "refused: operator and support are given only at the server's command line"})
		}); err != nil {
			return err
		}
		return mfagate.Errorf(mfagate.EFORBIDDEN,
			"The operator and support roles are given only at the server's command line (mfagate user set-roles), not from the console or the API")
	}
	if err := s.guardStaff(ctx, by, username, mfagate.AuditRolesChange, "given other roles"); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if slices.Equal(u.Roles, roles) {
			return nil
		}
		if !by.AtServer && IsStaff(u) { // made staff meanwhile
			return staffAccountError(u.Username, "given other roles")
		}
		was := strings.Join(u.Roles, ", ")
		u.Roles = roles
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		tx.end.refresh(u.ID)
		if err := s.notify(tx, tx.now, u, rolesChanged, by, strings.Join(roles, ", ")); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditRolesChange, Outcome: mfagate.OutcomeSuccess, Actor: by.Name,
			Subject: u.Username, ClientAddr: by.ClientAddr, Reason: reason,
			Detail: "roles " + was + " → " + strings.Join(roles, ", "),
		})
	})
}
