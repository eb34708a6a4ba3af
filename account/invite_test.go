package account_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

var atServer = account.Actor{Name: "test", AtServer: true}

var inviteLinkRE = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{43})\b`)

// invitationToken reads the token of the newest invitation emailed to
// address.
func (f *fixture) invitationToken(tb testing.TB, address string) string {
	tb.Helper()
	for _, m := range f.mail(tb) { // newest first
		if m.To != address || m.Subject != "Set up your account" {
			continue
		}
		if !m.Secret || m.ExpiresAt.IsZero() {
			tb.Errorf("the invitation to %s is not kept as a secret that expires: %+v", address, m)
		}
		match := inviteLinkRE.FindStringSubmatch(m.Text)
		if match == nil {
			tb.Fatalf("the invitation to %s has no link:\n%s", address, m.Text)
		}
		return match[1]
	}
	tb.Fatalf("no invitation was emailed to %s", address)
	return ""
}

func (f *fixture) mustInvite(tb testing.TB, name string, roles ...string) *mfagate.User {
	tb.Helper()
	if len(roles) == 0 {
		roles = []string{"user"}
	}
	u, err := f.svc.CreateUser(context.Background(), atServer, account.NewUser{
		Username: name, Email: name + "@example.com", Roles: roles, Invite: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestInvitationChoosesAPasswordAndSignsIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.mustInvite(t, "ivy", "admin")
	if u.PasswordHash != "" || !u.Invited() {
		t.Fatalf("invited account: password %q, invited %v; want none and invited", u.PasswordHash, u.InvitedAt)
	}
	token := f.invitationToken(t, "ivy@example.com")
	text := f.mail(t)[0].Text
	for _, want := range []string{"Your username is ivy", "/invite/" + token, "7 days", "help@example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("the invitation does not say %q:\n%s", want, text)
		}
	}
	if rows, _ := f.svc.Progress(ctx); len(rows) != 1 || rows[0].Invited != 1 {
		t.Errorf("progress before accepting: %+v, want admin with 1 invited", rows)
	}

	// Opening the link changes nothing; a weak password leaves it working.
	if l, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, token); err != nil || l.User.Username != "ivy" {
		t.Fatalf("OpenLink: %+v, %v", l, err)
	}
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkReset, token); err != account.ErrLinkDead {
		t.Errorf("an invitation opened as a reset link: %v, want ErrLinkDead", err)
	}
	_, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite, Token: token, Password: "ivy"})
	if mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Fatalf("a password the policy refuses: %v, want EINVALID", err)
	}
	in, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite, Token: token, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if in.User.Invited() || in.Token == "" {
		t.Errorf("after accepting: invited %v, token %q", in.User.InvitedAt, in.Token)
	}
	if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite, Token: token, Password: "another good passphrase"}); err != account.ErrLinkDead {
		t.Errorf("the link used twice: %v, want ErrLinkDead", err)
	}
	f.mustSignIn(t, "ivy", pw)
	if rows, _ := f.svc.Progress(ctx); rows[0].Invited != 0 {
		t.Errorf("progress after accepting: %+v, want no one invited", rows)
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditInviteAccept}); len(evs) != 1 || evs[0].Subject != "ivy" {
		t.Errorf("audit of the acceptance: %+v", evs)
	}
	// The invitation email keeps no link once delivered or given up
	// (Secret), and nothing of the token is in the audit log.
	for _, e := range f.audit(t, mfagate.AuditFilter{}) {
		if strings.Contains(e.Detail, token) || strings.Contains(e.Reason, token) {
			t.Errorf("the token is in the audit log: %+v", e)
		}
	}
}

// TestInvitationNeverSkipsTheSecondFactor: choosing a password by link
// starts a session where a sign-in with it would: required setup in a
// phase that requires it, the challenge for a person with a factor.
func TestInvitationNeverSkipsTheSecondFactor(t *testing.T) {
	f := rolloutFixture(t, sqltest.SQLite().New(t), emailDay.Add(time.Hour))
	ctx := context.Background()
	f.mustInvite(t, "ada", "admin")
	in, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite,
		Token: f.invitationToken(t, "ada@example.com"), Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if in.Next.Outcome != rollout.RequireEnrollment || in.Session.Stage != mfagate.StagePassword {
		t.Errorf("after accepting in the required phase: %v at stage %s; want setup required, password stage", in.Next.Outcome, in.Session.Stage)
	}
}

func TestInvitationRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "taken", pw)
	tests := []struct {
		name string
		in   account.NewUser
		code string
		msg  string
	}{
		{"with a password", account.NewUser{Username: "pat", Email: "pat@example.com", Roles: []string{"user"}, Password: pw, Invite: true},
			mfagate.EINVALID, "leave the password out"},
		{"an address in use", account.NewUser{Username: "pat", Email: "TAKEN@example.com", Roles: []string{"user"}, Invite: true},
			mfagate.ECONFLICT, "already used by the account taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.mail(t))
			_, err := f.svc.CreateUser(ctx, atServer, tt.in)
			if mfagate.ErrorCode(err) != tt.code || !strings.Contains(mfagate.ErrorMessage(err), tt.msg) {
				t.Errorf("got %v, want %s saying %q", err, tt.code, tt.msg)
			}
			if _, err := f.svc.User(ctx, "pat"); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
				t.Errorf("the account was made anyway: %v", err)
			}
			if n := len(f.mail(t)); n != before {
				t.Errorf("%d emails queued, want none", n-before)
			}
		})
	}

	// An import is all or nothing: one row at an address in use (or at
	// the same address as another row) stops it, naming the line, and no
	// invitation goes out.
	for _, tt := range []struct{ name, email, msg string }{
		{"an address in use", "taken@example.com", "line 4: The address taken@example.com is already used by the account taken"},
		{"one address twice", "one@example.com", "line 4: The address one@example.com is already used by the account one"},
	} {
		t.Run("import with "+tt.name, func(t *testing.T) {
			before := len(f.mail(t))
			rows := []account.ImportRow{
				{Line: 2, NewUser: account.NewUser{Username: "one", Email: "one@example.com", Roles: []string{"user"}, Invite: true}},
				{Line: 3, NewUser: account.NewUser{Username: "two", Email: "two@example.com", Roles: []string{"user"}, Invite: true}},
				{Line: 4, NewUser: account.NewUser{Username: "three", Email: tt.email, Roles: []string{"user"}, Invite: true}},
			}
			_, err := f.svc.ImportUsers(ctx, atServer, rows)
			if mfagate.ErrorCode(err) != mfagate.ECONFLICT || !strings.Contains(mfagate.ErrorMessage(err), tt.msg) {
				t.Errorf("got %v, want ECONFLICT saying %q", err, tt.msg)
			}
			if _, err := f.svc.User(ctx, "one"); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
				t.Errorf("line 2 was imported anyway: %v", err)
			}
			if n := len(f.mail(t)); n != before {
				t.Errorf("%d invitations queued, want none", n-before)
			}
		})
	}
}

func TestReinviteAndRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	support := account.Actor{Name: "sam"}
	f.mustInvite(t, "ivy")
	first := f.invitationToken(t, "ivy@example.com")
	f.clock.Advance(8 * 24 * time.Hour)
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, first); err != account.ErrLinkDead {
		t.Fatalf("an invitation after 8 days: %v, want ErrLinkDead", err)
	}
	u, _ := f.svc.User(ctx, "ivy")
	if inv, err := f.svc.PendingInvitation(ctx, u); err != nil || inv == nil || !inv.Expired(f.clock.Now()) {
		t.Errorf("PendingInvitation of an expired invitation: %+v, %v", inv, err)
	}
	if err := f.svc.Reinvite(ctx, support, "ivy", "her first email expired"); err != nil {
		t.Fatal(err)
	}
	second := f.invitationToken(t, "ivy@example.com")
	if second == first {
		t.Fatal("the invitation sent again has the same link")
	}
	f.clock.Advance(-7 * 24 * time.Hour) // back inside the first link's week: still void
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, first); err != account.ErrLinkDead {
		t.Errorf("the first link after a new invitation: %v, want ErrLinkDead", err)
	}
	if err := f.svc.RevokeInvite(ctx, support, "ivy", "she left before starting"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, second); err != account.ErrLinkDead {
		t.Errorf("a revoked invitation: %v, want ErrLinkDead", err)
	}
	if u, _ := f.svc.User(ctx, "ivy"); u.Invited() {
		t.Error("still counted as invited after revoking")
	}
	if err := f.svc.RevokeInvite(ctx, support, "ivy", ""); mfagate.ErrorCode(err) != mfagate.ECONFLICT {
		t.Errorf("revoking twice: %v, want ECONFLICT", err)
	}
	if evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditInvite}); len(evs) != 2 || evs[0].Actor != "sam" || evs[1].Reason == "" {
		t.Errorf("audit of sending again and revoking: %+v", evs)
	}

	// Nothing to accept for someone with a password; staff accounts only at
	// the server.
	f.mustUser(t, "pia", pw)
	if err := f.svc.Reinvite(ctx, support, "pia", ""); mfagate.ErrorCode(err) != mfagate.ECONFLICT ||
		!strings.Contains(mfagate.ErrorMessage(err), "Forgotten your password?") {
		t.Errorf("inviting someone with a password: %v", err)
	}
	f.mustUser(t, "stan", "", "support")
	if err := f.svc.Reinvite(ctx, support, "stan", ""); mfagate.ErrorCode(err) != mfagate.EFORBIDDEN {
		t.Errorf("support inviting a support account: %v, want EFORBIDDEN", err)
	}
	if err := f.svc.Reinvite(ctx, atServer, "stan", ""); err != nil {
		t.Errorf("the server inviting a support account: %v", err)
	}
}

// TestInvitationUsedOnceAcrossReplicas: one link followed from two
// replicas at once, many times: one password is set, one session made.
func TestInvitationUsedOnceAcrossReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		one, two := be.Replicas(t)
		f := &fixture{store: one, clock: mfagate.NewManualClock(start)}
		f.svc = mustService(t, one, f.clock, cheap)
		other := mustService(t, two, f.clock, cheap)
		f.mustInvite(t, "ivy")
		token := f.invitationToken(t, "ivy@example.com")
		const n = 20
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  []string
			errs []error
		)
		for i := range n {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			password := []string{"plum orchard lantern", "quiet harbour violin"}[i%2]
			wg.Go(func() {
				_, err := svc.ChoosePassword(context.Background(), account.ChoosePassword{
					Purpose: mfagate.LinkInvite, Token: token, Password: password})
				mu.Lock()
				defer mu.Unlock()
				switch err {
				case nil:
					won = append(won, password)
				case account.ErrLinkDead:
				default:
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 || len(won) != 1 {
			t.Fatalf("%d of %d uses won (%v), errors %v; want exactly one", len(won), n, won, errs)
		}
		var sessions []*mfagate.Session
		u, _ := f.svc.User(context.Background(), "ivy")
		if err := one.View(context.Background(), func(tx mfagate.Tx) (err error) {
			sessions, err = tx.UserSessions(u.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 1 {
			t.Errorf("%d sessions made, want 1", len(sessions))
		}
		f.mustSignIn(t, "ivy", won[0])
	})
}

func TestDeadLinksLookAlike(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustInvite(t, "ivy")
	token := f.invitationToken(t, "ivy@example.com")
	tampered := []byte(token)
	tampered[10] ^= 1
	for name, tok := range map[string]string{
		"tampered": string(tampered), "unknown": strings.Repeat("A", 43), "short": token[:20],
		"not base64": strings.Repeat("!", 43), "empty": "", "padded": token + "=",
	} {
		if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, tok); err != account.ErrLinkDead {
			t.Errorf("%s: OpenLink got %v, want ErrLinkDead", name, err)
		}
		if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite, Token: tok, Password: pw}); err != account.ErrLinkDead {
			t.Errorf("%s: ChoosePassword got %v, want ErrLinkDead", name, err)
		}
	}
	// Disabling the account kills its link.
	if err := f.svc.SetDisabled(ctx, atServer, "ivy", true, "left"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, token); err != account.ErrLinkDead {
		t.Errorf("the link of a disabled account: %v, want ErrLinkDead", err)
	}
}

// TestRolloutEmailsToTheInvited: the rollout's notice and reminders to
// someone who has not accepted their invitation tell them their account
// is waiting, not to "sign in as usual"; once they accept, the next
// emails are the usual ones.
func TestRolloutEmailsToTheInvited(t *testing.T) {
	f := rolloutFixture(t, nil, notifyDay.Add(time.Hour))
	ctx := context.Background()
	f.mustInvite(t, "ivy", "admin")
	f.mustUser(t, "ada", pw, "admin")
	if _, err := f.svc.RunCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(emailDay.Add(-7 * 24 * time.Hour))
	if _, err := f.svc.RunCampaigns(ctx); err != nil {
		t.Fatal(err)
	}
	texts := map[string][]string{}
	for _, m := range f.mail(t) {
		if m.Campaign != "" {
			texts[m.To] = append(texts[m.To], m.Text)
		}
	}
	if len(texts["ivy@example.com"]) != 2 || len(texts["ada@example.com"]) != 2 {
		t.Fatalf("campaign emails: %d to ivy, %d to ada; want the notice and a reminder each", len(texts["ivy@example.com"]), len(texts["ada@example.com"]))
	}
	for _, text := range texts["ivy@example.com"] {
		if !strings.Contains(text, "Your account is waiting for you: use the link in your invitation email") || strings.Contains(text, "sign in as usual") {
			t.Errorf("an email to the invited ivy:\n%s", text)
		}
	}
	for _, text := range texts["ada@example.com"] {
		if strings.Contains(text, "invitation") {
			t.Errorf("an email to ada, who has a password, mentions an invitation:\n%s", text)
		}
	}
	if !strings.Contains(texts["ada@example.com"][0], "sign in as usual") && !strings.Contains(texts["ada@example.com"][1], "sign in as usual") {
		t.Error("ada's reminder does not tell her to sign in as usual")
	}
}

// TestResetLiftsThePasswordLockNotTheCodeLock: wrong passwords were
// guesses at the old password; after a reset they no longer keep the
// owner out. Wrong codes are another matter: their lock stays.
func TestResetLiftsThePasswordLockNotTheCodeLock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "alice", pw)
	for range 10 {
		f.wrongPassword(t, f.svc, "alice")
	}
	if locked, _, _ := f.svc.Locked(ctx, "alice"); !locked {
		t.Fatal("ten wrong passwords did not lock alice")
	}
	if err := f.svc.ForgotPassword(ctx, "alice", client); err != nil {
		t.Fatal(err)
	}
	const fresh = "quiet harbour violin"
	if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: f.resetToken(t), Password: fresh}); err != nil {
		t.Fatal(err)
	}
	if locked, _, _ := f.svc.Locked(ctx, "alice"); locked {
		t.Error("alice is still locked after choosing a new password")
	}
	f.mustSignIn(t, "alice", fresh)

	// A lock from wrong codes holds through a reset.
	err := f.store.Update(ctx, func(tx mfagate.Tx) error {
		th, err := tx.HoldThrottle(mfagate.FactorThrottleKey("alice"))
		if err != nil {
			return err
		}
		th.Failures, th.LockedUntil = 10, f.clock.Now().Add(time.Hour)
		return tx.SaveThrottle(th)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(3 * time.Minute) // past the reset cooldown
	if err := f.svc.ForgotPassword(ctx, "alice", client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: f.resetToken(t), Password: "amber meadow falcon"}); err != nil {
		t.Fatal(err)
	}
	if locked, _, _ := f.svc.Locked(ctx, "alice"); !locked {
		t.Error("a reset lifted the lock set by wrong codes")
	}
}

// TestAddressChangesAndLinks: a link sent to an address stops working
// when support replaces the address; while the new one waits to be
// confirmed, a reset link goes to the address before (an address given to
// support is no way in by itself); an invited person's address is simply
// corrected, and the new invitation goes there.
func TestAddressChangesAndLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sam := account.Actor{Name: "sam"}
	f.mustUser(t, "alice", pw)
	if err := f.svc.ForgotPassword(ctx, "alice", client); err != nil {
		t.Fatal(err)
	}
	old := f.resetToken(t)
	if err := f.svc.ChangeEmail(ctx, sam, "alice", "alice@new.example.com", "left her old mailbox"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkReset, old); err != account.ErrLinkDead {
		t.Errorf("a reset link to the replaced address: %v, want ErrLinkDead", err)
	}
	f.clock.Advance(3 * time.Minute)
	if err := f.svc.ForgotPassword(ctx, "alice@new.example.com", client); err != nil {
		t.Fatal(err)
	}
	if ms := f.resetMails(t); len(ms) != 2 || ms[0].To != "alice@example.com" {
		t.Errorf("the reset asked for by the unconfirmed address went to %q, want the address before", ms[0].To)
	}

	f.mustInvite(t, "ivy")
	first := f.invitationToken(t, "ivy@example.com")
	if err := f.svc.ChangeEmail(ctx, sam, "ivy", "ivy.lee@example.com", "typo in the import"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenLink(ctx, mfagate.LinkInvite, first); err != account.ErrLinkDead {
		t.Errorf("the invitation to the mistyped address: %v, want ErrLinkDead", err)
	}
	u, _ := f.svc.User(ctx, "ivy")
	if u.Email != "ivy.lee@example.com" || u.EmailUnconfirmed() || !u.Invited() {
		t.Errorf("ivy after the correction: %q, unconfirmed %v, invited %v", u.Email, u.EmailUnconfirmed(), u.Invited())
	}
	if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite,
		Token: f.invitationToken(t, "ivy.lee@example.com"), Password: pw}); err != nil {
		t.Errorf("the invitation to the corrected address: %v", err)
	}
}

// TestResetSaysWhatHappensNext: the email after a support reset says what
// the rollout, not the reset, will ask at the next sign-in: the password
// alone with no phase, an offer in an optional phase (with the date it
// becomes required), setup in a required one.
func TestResetSaysWhatHappensNext(t *testing.T) {
	sam := account.Actor{Name: "sam"}
	for _, tt := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"before any phase", notifyDay.Add(-time.Hour), "For now your password alone signs you in."},
		{"optional", optionalDay.Add(time.Hour), "you will be offered to set up a way to get security codes again. You can skip it for now. From 13 July 2027 it will be required."},
		{"required", emailDay.Add(time.Hour), "you will be asked to set up a way to get security codes again before you can carry on."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := rolloutFixture(t, nil, tt.at)
			f.mustUser(t, "ada", pw, "admin")
			if err := f.svc.ResetMFA(context.Background(), sam, "ada", "lost phone"); err != nil {
				t.Fatal(err)
			}
			m := f.mail(t)[0]
			if m.Subject != "Your sign-in security was reset" || !strings.Contains(m.Text, tt.want) {
				t.Errorf("the reset email (%q) does not say %q:\n%s", m.Subject, tt.want, m.Text)
			}
		})
	}
}

// TestOneAddressOneAccountAcrossReplicas: twenty people invited at once
// to one address, half on each replica: one account is made and one
// invitation sent; the rest are refused as taken.
func TestOneAddressOneAccountAcrossReplicas(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, be sqltest.Backend) {
		one, two := be.Replicas(t)
		f := &fixture{store: one, clock: mfagate.NewManualClock(start)}
		f.svc = mustService(t, one, f.clock, cheap)
		other := mustService(t, two, f.clock, cheap)
		const n = 20
		var (
			wg          sync.WaitGroup
			mu          sync.Mutex
			made, taken int
			errs        []error
		)
		for i := range n {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Go(func() {
				_, err := svc.CreateUser(context.Background(), atServer, account.NewUser{Username: fmt.Sprintf("p%02d", i),
					Email: "Shared@Example.com", Roles: []string{"user"}, Invite: true})
				mu.Lock()
				defer mu.Unlock()
				switch mfagate.ErrorCode(err) {
				case "":
					made++
				case mfagate.ECONFLICT:
					taken++
				default:
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if made != 1 || taken != n-1 || len(errs) > 0 {
			t.Fatalf("%d made, %d refused as taken, errors %v; want 1 and %d", made, taken, errs, n-1)
		}
		invites := 0
		for _, m := range f.mail(t) {
			if m.Subject == "Set up your account" {
				invites++
			}
		}
		if invites != 1 {
			t.Errorf("%d invitations queued, want 1", invites)
		}
	})
}
