package account

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/password"
)

// Accounts: creating one or many, finding them, disabling them and
// setting a password at the server. Staff accounts are made and changed
// only at the server's command line (guardNewStaff, guardStaff).

// NewUser is what it takes to create an account. Password may be empty:
// the account then cannot sign in until a password is set, which Invite
// asks the person to do (invite.go).
type NewUser struct {
	Username string
	Email    string
	Name     string
	Roles    []string
	Password string
	// Invite emails the person a link to choose their own password; the
	// account then has none until they do.
	Invite bool
}

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)
	roleRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
)

// reservedNames are the actors of the audit log that are not people: an
// account with one of these names would be mistaken for them.
var reservedNames = []string{mfagate.ActorCLI, mfagate.ActorSystem, ActorAnonymous}

// validate checks and tidies in, returning an EINVALID error that names
// the field at fault.
func (in *NewUser) validate() error {
	in.Username = strings.TrimSpace(in.Username)
	in.Email = strings.TrimSpace(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Username == "":
		return mfagate.Errorf(mfagate.EINVALID, "Enter a username")
	case !utf8.ValidString(in.Username) || !usernameRE.MatchString(in.Username):
		return mfagate.Errorf(mfagate.EINVALID,
			"Username %q can only use letters, numbers and the characters . _ @ + - (up to 64, starting with a letter or number)", clip(in.Username))
	case slices.Contains(reservedNames, mfagate.UsernameKey(in.Username)):
		return mfagate.Errorf(mfagate.EINVALID,
			"Username %q is kept for mfagate itself: the audit log uses it for the server and its command line. Choose another", in.Username)
	}
	if err := checkEmail(in.Email); err != nil {
		return err
	}
	if in.Name == "" {
		in.Name = in.Username
	}
	if !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 100 ||
		strings.ContainsFunc(in.Name, unicode.IsControl) {
		return mfagate.Errorf(mfagate.EINVALID, "Name must be 100 characters or fewer, without control characters")
	}
	roles, err := NormalizeRoles(in.Roles)
	if err != nil {
		return err
	}
	in.Roles = roles
	return nil
}

func checkEmail(email string) error {
	if email == "" {
		return mfagate.Errorf(mfagate.EINVALID, "Enter an email address")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 || !strings.Contains(email, ".") {
		return mfagate.Errorf(mfagate.EINVALID, "Enter an email address in the correct format, like name@example.com (got %q)", clip(email))
	}
	return nil
}

// clip keeps quoted input in messages short.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// CreateUser creates one account. EINVALID for bad input; ECONFLICT when
// the username is taken; EFORBIDDEN for a staff account made by anyone
// but the server's command line (see guardStaff).
func (s *Service) CreateUser(ctx context.Context, by Actor, in NewUser) (*mfagate.User, error) {
	us, err := s.prepare(ctx, []NewUser{in})
	if err != nil {
		return nil, err
	}
	if err := s.guardNewStaff(ctx, by, us); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx *txn) error { return s.insert(tx, by, us[0]) })
	if err != nil {
		return nil, err
	}
	return us[0], nil
}

// prepare validates every row and hashes passwords before any write, so a
// bad row changes nothing.
func (s *Service) prepare(ctx context.Context, ins []NewUser) ([]*mfagate.User, error) {
	us := make([]*mfagate.User, 0, len(ins))
	seen := map[string]struct{}{}
	for i := range ins {
		in := ins[i]
		if err := in.validate(); err != nil {
			return nil, rowError(i, err)
		}
		if err := s.knownRoles(in.Roles); err != nil {
			return nil, rowError(i, err)
		}
		if _, dup := seen[mfagate.UsernameKey(in.Username)]; dup {
			return nil, rowError(i, mfagate.Errorf(mfagate.EINVALID,
				"Username %q appears more than once", in.Username))
		}
		seen[mfagate.UsernameKey(in.Username)] = struct{}{}
		u := &mfagate.User{Username: in.Username, Email: in.Email, Name: in.Name, Roles: in.Roles}
		if in.Invite {
			if in.Password != "" {
				return nil, rowError(i, mfagate.Errorf(mfagate.EINVALID,
					"%s is to be invited, so they choose their own password: leave the password out", in.Username))
			}
			// Marks the invitation; insert stamps it with its transaction's now.
			u.InvitedAt = s.now()
		}
		if in.Password != "" {
			if err := password.Check(in.Password, in.Username, in.Email); err != nil {
				return nil, rowError(i, err)
			}
			h, err := s.hash(ctx, in.Password)
			if err != nil {
				return nil, err
			}
			u.PasswordHash = h
		}
		us = append(us, u)
	}
	return us, nil
}

// guardNewStaff refuses, and audits, staff accounts made by anyone but
// the server: a leaked token must not be able to make an account that can
// reset everyone else's.
func (s *Service) guardNewStaff(ctx context.Context, by Actor, us []*mfagate.User) error {
	if by.AtServer {
		return nil
	}
	for _, u := range us {
		if !IsStaff(u) {
			continue
		}
		if err := s.update(ctx, func(tx *txn) error {
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditUserCreate, Outcome: mfagate.OutcomeDenied, Actor: by.Name,
				Subject: u.Username, ClientAddr: by.ClientAddr, Detail: "refused: a staff account is made only at the server's command line"})
		}); err != nil {
			return err
		}
		return mfagate.Errorf(mfagate.EFORBIDDEN,
			"Operator and support accounts can only be created at the server's command line (mfagate user add), not from the console or the API")
	}
	return nil
}

// badRow is a problem with the i-th of several accounts; callers name it
// by what the person knows: a row number or a line of their file.
type badRow struct {
	i   int
	err error
}

func (e *badRow) Error() string { return e.err.Error() }
func (e *badRow) Unwrap() error { return e.err }

func rowError(i int, err error) error { return &badRow{i: i, err: err} }

func (s *Service) insert(tx *txn, by Actor, u *mfagate.User) error {
	u.CreatedAt = tx.now
	invited := u.Invited()
	if invited {
		u.InvitedAt = tx.now
		if err := addressFree(tx, u); err != nil {
			return err
		}
	}
	if err := tx.CreateUser(u); err != nil {
		return err
	}
	detail := "roles " + strings.Join(u.Roles, ",")
	if invited {
		if err := s.invite(tx, u); err != nil {
			return err
		}
		detail += "; invited by email to " + u.Email
	}
	return tx.audit(mfagate.AuditEvent{
		Kind: mfagate.AuditUserCreate, Outcome: mfagate.OutcomeSuccess,
		Actor: by.Name, Subject: u.Username, ClientAddr: by.ClientAddr, Detail: detail,
	})
}

// ImportUsers creates every account in rows, or none: the first bad row
// or taken username stops the import and nothing is written.
func (s *Service) ImportUsers(ctx context.Context, by Actor, rows []ImportRow) (int, error) {
	ins := make([]NewUser, len(rows))
	for i, r := range rows {
		ins[i] = r.NewUser
	}
	us, err := s.prepare(ctx, ins)
	if err != nil {
		return 0, lineError(rows, err)
	}
	if err := s.guardNewStaff(ctx, by, us); err != nil {
		return 0, err
	}
	err = s.update(ctx, func(tx *txn) error {
		for i, u := range us {
			if err := s.insert(tx, by, u); err != nil {
				if mfagate.ErrorCode(err) == mfagate.EINTERNAL {
					// Not about the row (the database failed, or did not
					// answer in time): kept whole, so the store can tell.
					return err
				}
				return mfagate.Errorf(mfagate.ErrorCode(err), "line %d: %s", rows[i].Line, mfagate.ErrorMessage(err))
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(us), nil
}

// User returns the account with that username. ENOTFOUND.
func (s *Service) User(ctx context.Context, username string) (*mfagate.User, error) {
	var u *mfagate.User
	err := s.view(ctx, func(tx *txn) (err error) {
		u, err = tx.UserByUsername(username)
		return err
	})
	return u, err
}

// Users lists accounts in the order they were created.
func (s *Service) Users(ctx context.Context, f mfagate.UserFilter) ([]*mfagate.User, error) {
	var us []*mfagate.User
	err := s.view(ctx, func(tx *txn) (err error) {
		us, err = tx.Users(f)
		return err
	})
	return us, err
}

// SetDisabled disables or re-enables an account. Disabling ends every
// session of the account at once. Staff accounts are disabled and enabled
// only at the server (see guardStaff).
func (s *Service) SetDisabled(ctx context.Context, by Actor, username string, disabled bool, reason string) error {
	what, kind := "enabled", mfagate.AuditUserEnable
	if disabled {
		what, kind = "disabled", mfagate.AuditUserDisable
	}
	if err := s.guardStaff(ctx, by, username, kind, what); err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		if u.Disabled == disabled {
			return nil
		}
		u.Disabled = disabled
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		kind := mfagate.AuditUserEnable
		if disabled {
			kind = mfagate.AuditUserDisable
			if _, err := tx.end.userSessions(tx, u.ID, nil); err != nil {
				return err
			}
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: kind, Outcome: mfagate.OutcomeSuccess, Actor: by.Name,
			Subject: u.Username, ClientAddr: by.ClientAddr, Reason: strings.TrimSpace(reason),
		})
	})
}

// SetPassword gives an account a new password chosen by staff or at the
// command line, and ends its sessions. Staff accounts get one only at the
// server (see guardStaff).
func (s *Service) SetPassword(ctx context.Context, by Actor, username, pw string) error {
	if err := s.guardStaff(ctx, by, username, mfagate.AuditPasswordChange, "given a new password"); err != nil {
		return err
	}
	u, err := s.User(ctx, username)
	if err != nil {
		return err
	}
	if err := password.Check(pw, u.Username, u.Email); err != nil {
		return err
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *txn) error {
		u, err := tx.UserByUsername(username)
		if err != nil {
			return err
		}
		u.PasswordHash = h
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if _, err := tx.end.userSessions(tx, u.ID, nil); err != nil {
			return err
		}
		if err := s.notify(tx, tx.now, u, passwordSetByStaff, by); err != nil {
			return err
		}
		return tx.audit(mfagate.AuditEvent{
			Kind: mfagate.AuditPasswordChange, Outcome: mfagate.OutcomeSuccess, Actor: by.Name,
			Subject: u.Username, ClientAddr: by.ClientAddr, Detail: "set by " + by.Name,
		})
	})
}

// EnsureUser creates the account in unless one with its username exists,
// and reports whether it did. It is how bootstrap and demo accounts come
// into being without ever overwriting a changed password.
func (s *Service) EnsureUser(ctx context.Context, by Actor, in NewUser) (bool, error) {
	_, err := s.User(ctx, in.Username)
	if err == nil {
		return false, nil
	}
	if mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		return false, err
	}
	if _, err := s.CreateUser(ctx, by, in); err != nil {
		if mfagate.ErrorCode(err) == mfagate.ECONFLICT { // another replica won the race
			return false, nil
		}
		return false, err
	}
	return true, nil
}
