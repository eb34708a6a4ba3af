package account_test

import (
	"context"
	"crypto/rand"
	"fmt"

	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

var resetLinkRE = regexp.MustCompile(`/reset/([A-Za-z0-9_-]{43})\b`)

const resetSubject = "Choose a new password for mfagate"

// resetMails are the reset emails in the outbox, newest first.
func (f *fixture) resetMails(tb testing.TB) []*mfagate.Message {
	tb.Helper()
	var out []*mfagate.Message
	for _, m := range f.mail(tb) {
		if m.Subject == resetSubject {
			out = append(out, m)
		}
	}
	return out
}

// resetToken is the token of the newest reset email.
func (f *fixture) resetToken(tb testing.TB) string {
	tb.Helper()
	ms := f.resetMails(tb)
	if len(ms) == 0 {
		tb.Fatal("no reset email in the outbox")
	}
	m := resetLinkRE.FindStringSubmatch(ms[0].Text)
	if m == nil {
		tb.Fatalf("no link in the reset email:\n%s", ms[0].Text)
	}
	return m[1]
}

func (f *fixture) changeUser(tb testing.TB, name string, change func(u *mfagate.User)) {
	tb.Helper()
	if err := f.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		change(u)
		return tx.UpdateUser(u)
	}); err != nil {
		tb.Fatal(err)
	}
}

func backendFixture(tb testing.TB, b sqltest.Backend) *fixture {
	tb.Helper()
	f := &fixture{store: b.New(tb), clock: mfagate.NewManualClock(start)}
	f.svc = mustService(tb, f.store, f.clock, cheap)
	return f
}

// TestForgotPassword: who gets a link, and that the answer is nil for
// everyone, on both databases.
func TestForgotPassword(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		f := backendFixture(t, b)
		ctx := context.Background()
		f.mustUser(t, "alice", pw)
		f.mustUser(t, "dora", pw)
		f.changeUser(t, "dora", func(u *mfagate.User) { u.Disabled = true })
		f.mustUser(t, "ivan", "")
		f.changeUser(t, "ivan", func(u *mfagate.User) { u.InvitedAt = start.Add(-time.Hour) })
		f.mustUser(t, "sam1", pw)
		f.mustUser(t, "sam2", pw)
		for _, n := range []string{"sam1", "sam2"} {
			f.changeUser(t, n, func(u *mfagate.User) { u.Email = "Sam@Example.com" })
		}

		for _, tc := range []struct {
			name, who, to string
			link          bool // a reset link goes out
		}{
			{"known username", "alice", "alice@example.com", true},
			{"username in another case", " ALICE ", "alice@example.com", true},
			{"email address", "Alice@Example.COM", "alice@example.com", true},
			{"unknown username", "nobody", "", false},
			{"unknown address", "nobody@example.com", "", false},
			{"disabled account", "dora", "", false},
			{"disabled account's address", "dora@example.com", "", false},
			{"invited, not yet accepted", "ivan", "ivan@example.com", true},
			{"an address two accounts share", "sam@example.com", "Sam@Example.com", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.clock.Advance(time.Hour) // past every limit
				before := len(f.mail(t))
				if err := f.svc.ForgotPassword(ctx, tc.who, client); err != nil {
					t.Fatalf("ForgotPassword(%q): %v", tc.who, err)
				}
				ms := f.mail(t)[:len(f.mail(t))-before]
				if tc.to == "" {
					if len(ms) != 0 {
						t.Fatalf("got %d emails (%q), want none", len(ms), ms[0].Subject)
					}
					return
				}
				if len(ms) != 1 || ms[0].To != tc.to {
					t.Fatalf("got %d emails, want one to %s", len(ms), tc.to)
				}
				m := ms[0]
				if !tc.link {
					// The shared address: the accounts named, no link.
					if resetLinkRE.MatchString(m.Text) || !strings.Contains(m.Text, "sam1") || !strings.Contains(m.Text, "sam2") ||
						!strings.Contains(m.Text, "ask again with its username") {
						t.Fatalf("shared address email:\n%s", m.Text)
					}
					return
				}
				now := f.clock.Now().UTC().Truncate(time.Millisecond)
				if m.Subject != resetSubject || !m.Secret || m.Priority != mfagate.MailSecurity ||
					!m.ExpiresAt.Equal(now.Add(account.DefaultResetTTL)) || m.UserID == 0 {
					t.Fatalf("got %+v, want a secret security email expiring with the link", m)
				}
				for _, want := range []string{"works once, until", "30 minutes", "If you did not ask for this, ignore this email: your password has not changed",
					"you will still be asked for it", "help@example.com"} {
					if !strings.Contains(m.Text, want) {
						t.Errorf("the email lacks %q:\n%s", want, m.Text)
					}
				}
				linked, err := f.svc.OpenLink(ctx, mfagate.LinkReset, f.resetToken(t))
				if err != nil || !strings.EqualFold(tc.to, linked.User.Email) {
					t.Fatalf("OpenLink: got %+v, %v", linked, err)
				}
			})
		}

		// The invited person chooses a password with the reset link: that
		// accepts the invitation.
		f.clock.Advance(time.Hour)
		if err := f.svc.ForgotPassword(ctx, "ivan", client); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset,
			Token: f.resetToken(t), Password: "a brand new passphrase", Client: client}); err != nil {
			t.Fatalf("ChoosePassword: %v", err)
		}
		var ivan *mfagate.User
		f.store.View(ctx, func(tx mfagate.Tx) (err error) { ivan, err = tx.UserByUsername("ivan"); return err })
		if ivan.Invited() {
			t.Error("the invitation is still open after a password was chosen by a reset link")
		}

		// Audited for real accounts, never with the token or what was typed.
		evs := f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditResetAsk})
		sent, unknown := 0, 0
		for _, e := range evs {
			if e.Outcome == mfagate.OutcomeSuccess && e.Subject != "" {
				sent++
			}
			if e.Subject == "" && strings.Contains(e.Detail, "no account") {
				unknown++
			}
			if strings.Contains(e.Detail, "nobody") || resetLinkRE.MatchString(e.Detail) {
				t.Errorf("audit event tells too much: %+v", e)
			}
		}
		if sent != 5 || unknown != 2 {
			t.Errorf("got %d links and %d unknown names audited, want 5 and 2", sent, unknown)
		}
	})
}

func TestForgotPasswordBadInput(t *testing.T) {
	f := newFixture(t)
	for _, who := range []string{"", "   ", strings.Repeat("a", 300), "bad\xffutf8"} {
		err := f.svc.ForgotPassword(context.Background(), who, client)
		if mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Errorf("ForgotPassword(%q): got %v, want EINVALID", who, err)
		}
	}
	if n := len(f.mail(t)); n != 0 {
		t.Errorf("got %d emails, want none", n)
	}
}

// countingReader counts the bytes of randomness read.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return rand.Read(p)
}

// TestForgotPasswordSameWork: a known and an unknown username cost the
// same work, as the issue asks (a test of the code path, not a
// stopwatch): the same store calls in the same order, apart from writing
// the link and its email, and the same randomness read.
func TestForgotPasswordSameWork(t *testing.T) {
	for _, tc := range []struct{ name, known, unknown string }{
		{"usernames", "alice", "nobody"},
		{"addresses", "alice@example.com", "nobody@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
				store := b.New(t)
				rec := &recordingStore{Store: store}
				rnd := &countingReader{}
				clock := mfagate.NewManualClock(start)
				f := &fixture{store: store, clock: clock}
				f.svc = mustServiceWith(t, rec, clock, account.Options{Rand: rnd})
				f.mustUser(t, "alice", pw)
				ctx := context.Background()
				// Each name from an address of its own, so that both find
				// the same throttles.
				work := func(who, addr string) ([]string, int64) {
					rec.take()
					before := rnd.n.Load()
					if err := f.svc.ForgotPassword(ctx, who, account.Actor{ClientAddr: addr}); err != nil {
						t.Fatal(err)
					}
					return rec.take(), rnd.n.Load() - before
				}
				known, knownRand := work(tc.known, "192.0.2.1")
				unknown, unknownRand := work(tc.unknown, "192.0.2.2")
				if len(f.resetMails(t)) != 1 {
					t.Fatalf("got %d reset emails, want 1", len(f.resetMails(t)))
				}
				writes := func(c string) bool { return c == "CreateLink" || c == "EnqueueMail" }
				if !slices.Contains(known, "CreateLink") || !slices.Contains(known, "EnqueueMail") {
					t.Fatalf("the known name wrote no link: %v", known)
				}
				if k, u := slices.DeleteFunc(slices.Clone(known), writes), slices.DeleteFunc(slices.Clone(unknown), writes); !slices.Equal(k, u) {
					t.Errorf("store calls differ:\nknown   %v\nunknown %v", known, unknown)
				}
				if knownRand != unknownRand || knownRand == 0 {
					t.Errorf("randomness read: known %d bytes, unknown %d, want equal", knownRand, unknownRand)
				}
				// Asked again at once, both are refused by the cooldown
				// with the same work.
				again, _ := work(tc.known, "192.0.2.1")
				againUnknown, _ := work(tc.unknown, "192.0.2.2")
				if !slices.Equal(again, againUnknown) || slices.Contains(again, "EnqueueMail") {
					t.Errorf("within the cooldown:\nknown   %v\nunknown %v", again, againUnknown)
				}
			})
		})
	}
}

// TestForgotPasswordThrottle: 100 requests at once for one account, over
// two replicas, queue one email; the hourly cap holds; an unknown name is
// limited exactly alike; the client address has its own cap.
func TestForgotPasswordThrottle(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		one, two := b.Replicas(t)
		f := &fixture{store: one, clock: mfagate.NewManualClock(start)}
		f.svc = mustService(t, one, f.clock, cheap)
		other := mustService(t, two, f.clock, cheap)
		ctx := context.Background()
		f.mustUser(t, "alice", pw)
		burst := func(who string) {
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := range 100 {
				svc := f.svc
				if i%2 == 1 {
					svc = other
				}
				wg.Go(func() {
					if err := svc.ForgotPassword(ctx, who, from(i)); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("ForgotPassword: %v", err)
			}
		}
		burst("alice")
		if n := len(f.resetMails(t)); n != 1 {
			t.Fatalf("100 requests at once queued %d emails, want 1", n)
		}
		// The cooldown, then the cap: five in the hour at most.
		for i := 0; i < 8; i++ {
			f.clock.Advance(account.ResetCooldown)
			burst("Alice@example.com")
		}
		if n := len(f.resetMails(t)); n != account.ResetsPerHour {
			t.Fatalf("got %d emails within the hour, want %d", n, account.ResetsPerHour)
		}
		// The latest link still works: refused requests did not void it.
		if _, err := f.svc.OpenLink(ctx, mfagate.LinkReset, f.resetToken(t)); err != nil {
			t.Fatalf("the last link sent: %v", err)
		}
		f.clock.Advance(time.Hour)
		burst("alice")
		if n := len(f.resetMails(t)); n != account.ResetsPerHour+1 {
			t.Fatalf("an hour later: got %d emails, want %d", n, account.ResetsPerHour+1)
		}

		// An unknown name is counted exactly as alice was.
		known := f.outcomes(t, "alice")
		burst("nobody")
		for i := 0; i < 8; i++ {
			f.clock.Advance(account.ResetCooldown)
			burst("nobody")
		}
		f.clock.Advance(time.Hour)
		burst("nobody")
		if got, want := f.outcomes(t, ""), known; !slices.Equal(got, want) {
			t.Errorf("the unknown name's refusals differ from the account's:\nunknown %v\nknown   %v", got, want)
		}

		// One client address: ResetsPerAddress requests an hour, for any
		// names, then a refusal that says so, the same for everyone.
		f.clock.Advance(time.Hour)
		ip := account.Actor{ClientAddr: "203.0.113.9"}
		for i := range account.ResetsPerAddress {
			if err := other.ForgotPassword(ctx, fmt.Sprintf("name%d", i), ip); err != nil {
				t.Fatalf("request %d from one address: %v", i+1, err)
			}
		}
		before := len(f.resetMails(t))
		for _, who := range []string{"alice", "somebody"} {
			if err := f.svc.ForgotPassword(ctx, who, ip); err != account.ErrResetsFromAddress {
				t.Fatalf("%s past the address's cap: got %v, want ErrResetsFromAddress", who, err)
			}
		}
		if n := len(f.resetMails(t)); n != before {
			t.Fatal("a refused request queued an email")
		}
		if err := f.svc.ForgotPassword(ctx, "alice", account.Actor{ClientAddr: "203.0.113.10"}); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}

// outcomes lists the details of the password.forgot events of subject,
// oldest first, without the reason's names (sent or not, and why).
func (f *fixture) outcomes(tb testing.TB, subject string) []string {
	tb.Helper()
	var out []string
	for _, e := range f.audit(tb, mfagate.AuditFilter{Kind: mfagate.AuditResetAsk}) {
		if e.Subject != subject {
			continue
		}
		d := e.Detail
		if e.Outcome == mfagate.OutcomeSuccess || strings.Contains(d, "no account has") {
			d = "sent"
		}
		out = append(out, d)
	}
	slices.Reverse(out)
	return out
}

// TestResetLinkWorksOnce: many uses of one link at once, on two replicas,
// and one wins.
func TestResetLinkWorksOnce(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		one, two := b.Replicas(t)
		f := &fixture{store: one, clock: mfagate.NewManualClock(start)}
		f.svc = mustService(t, one, f.clock, cheap)
		other := mustService(t, two, f.clock, cheap)
		ctx := context.Background()
		f.mustUser(t, "alice", pw)
		if err := f.svc.ForgotPassword(ctx, "alice", client); err != nil {
			t.Fatal(err)
		}
		token := f.resetToken(t)
		var ok, dead atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			wg.Go(func() {
				_, err := svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: token,
					Password: fmt.Sprintf("new passphrase number %d", i), Client: client})
				switch {
				case err == nil:
					ok.Add(1)
				case err == account.ErrLinkDead:
					dead.Add(1)
				default:
					t.Errorf("use %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || dead.Load() != 9 {
			t.Fatalf("got %d uses and %d dead, want 1 and 9", ok.Load(), dead.Load())
		}
		if n := len(f.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditPasswordReset})); n != 1 {
			t.Fatalf("got %d password.reset events, want 1", n)
		}
	})
}

// TestResetNeverBypassesMFA: after a reset, a person with an
// authenticator app is at the password step and must still pass it; the
// old password and every other session are dead; they are emailed.
func TestResetNeverBypassesMFA(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		f := backendFixture(t, b)
		ctx := context.Background()
		f.mustUser(t, "alice", pw)
		secret, _ := f.mustTOTPFactor(t, "alice")
		elsewhere := f.mustSignIn(t, "alice", pw)
		if _, err := f.svc.Authenticate(ctx, elsewhere.Token); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ForgotPassword(ctx, "alice", client); err != nil {
			t.Fatal(err)
		}
		token := f.resetToken(t)

		// A password the policy refuses leaves the link working.
		if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: token,
			Password: "short", Client: client}); mfagate.ErrorCode(err) != mfagate.EINVALID {
			t.Fatalf("a short password: got %v, want EINVALID", err)
		}
		// A reset link is no invitation.
		if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkInvite, Token: token,
			Password: "a brand new passphrase", Client: client}); err != account.ErrLinkDead {
			t.Fatalf("the reset link as an invitation: got %v, want ErrLinkDead", err)
		}
		in, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: token,
			Password: "a brand new passphrase", Client: client})
		if err != nil {
			t.Fatalf("ChoosePassword: %v", err)
		}
		if in.Session.Stage != mfagate.StagePassword || in.Next.Outcome != rollout.Challenge {
			t.Fatalf("after the reset: stage %v, next %v; want the password stage and a challenge", in.Session.Stage, in.Next.Outcome)
		}
		cur := f.current(t, in.Token)
		if cur.Session.Stage == mfagate.StageFull {
			t.Fatal("the new session is fully signed in without the second factor")
		}
		f.clock.Advance(31 * time.Second)
		if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), client); err != nil {
			t.Fatalf("the app's code after the reset: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, elsewhere.Token); err == nil {
			t.Error("the session signed in elsewhere is still alive after the reset")
		}
		if _, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client}); err != account.ErrBadCredentials {
			t.Errorf("the old password: got %v, want ErrBadCredentials", err)
		}
		if _, err := f.svc.ChoosePassword(ctx, account.ChoosePassword{Purpose: mfagate.LinkReset, Token: token,
			Password: "another new passphrase", Client: client}); err != account.ErrLinkDead {
			t.Errorf("the link a second time: got %v, want ErrLinkDead", err)
		}
		changed := 0
		for _, m := range f.mail(t) {
			if m.Subject == "Your password was changed" && m.To == "alice@example.com" {
				changed++
				if !strings.Contains(m.Text, "signed out everywhere else") {
					t.Errorf("the notice:\n%s", m.Text)
				}
			}
		}
		if changed != 1 {
			t.Errorf("got %d password-changed emails, want 1", changed)
		}
	})
}

// FuzzLinkToken: whatever a link's path carries, the one real token opens
// its page and anything else is the one dead link, never another error.
func FuzzLinkToken(f *testing.F) {
	fx := newFixture(f)
	fx.mustUser(f, "alice", pw)
	if err := fx.svc.ForgotPassword(context.Background(), "alice", client); err != nil {
		f.Fatal(err)
	}
	live := fx.resetToken(f)
	for _, s := range []string{live, live[:42], live + "A", strings.ToUpper(live), "", "%00", "====", strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		linked, err := fx.svc.OpenLink(context.Background(), mfagate.LinkReset, token)
		switch {
		case token == live:
			if err != nil || linked.User.Username != "alice" {
				t.Fatalf("the live token: %v", err)
			}
		case err != account.ErrLinkDead:
			t.Fatalf("OpenLink(%q): got %v, want ErrLinkDead", token, err)
		}
		if _, err := fx.svc.OpenLink(context.Background(), mfagate.LinkInvite, token); err != account.ErrLinkDead {
			t.Fatalf("OpenLink(invite, %q): got %v, want ErrLinkDead", token, err)
		}
	})
}
