package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

var resetLinkRE = regexp.MustCompile(`/reset/([A-Za-z0-9_-]{43})\b`)

const deadHeading = "This link has expired or was already used"

// resetToken asks for a reset for who and returns the token of the email
// it queued.
func (h *harness) resetToken(tb testing.TB, c *http.Client, who string) string {
	tb.Helper()
	before := len(outboxMail(tb, h))
	if res := h.post(tb, c, "/login/forgot", url.Values{"username": {who}}); res.StatusCode != http.StatusOK {
		tb.Fatalf("POST /login/forgot: got %d\n%s", res.StatusCode, res.body)
	}
	ms := outboxMail(tb, h)
	if len(ms) != before+1 {
		tb.Fatalf("got %d new emails, want 1", len(ms)-before)
	}
	m := resetLinkRE.FindStringSubmatch(ms[0].Text)
	if m == nil {
		tb.Fatalf("no reset link in:\n%s", ms[0].Text)
	}
	return m[1]
}

// passwordHash is the stored hash of a user's password.
func (h *harness) passwordHash(tb testing.TB, name string) string {
	tb.Helper()
	var u *mfagate.User
	if err := h.store.View(context.Background(), func(tx mfagate.Tx) (err error) {
		u, err = tx.UserByUsername(name)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return u.PasswordHash
}

// TestForgotPasswordPages: the sign-in page leads to the form, and the
// answer is the same page for a known and an unknown name, on both
// databases; only the known one queues an email.
func TestForgotPasswordPages(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		c := h.client(t)
		if login := h.get(t, c, "/login"); !strings.Contains(login.body, `href="/login/forgot"`) ||
			!strings.Contains(login.body, "Forgotten your password?") {
			t.Fatal("the sign-in page has no link to reset a password")
		}
		form := h.get(t, c, "/login/forgot")
		if form.StatusCode != http.StatusOK || !strings.Contains(form.body, `<label for="username">Username or email address</label>`) ||
			!strings.Contains(form.body, `name="username"`) {
			t.Fatalf("GET /login/forgot: %d\n%s", form.StatusCode, form.body)
		}
		known := h.post(t, c, "/login/forgot", url.Values{"username": {"alice"}})
		unknown := h.post(t, c, "/login/forgot", url.Values{"username": {"nobody"}})
		address := h.post(t, c, "/login/forgot", url.Values{"username": {"nobody@example.com"}})
		for _, res := range []response{known, unknown, address} {
			if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "<h1>Check your email</h1>") ||
				!strings.Contains(res.body, "30 minutes") || !strings.Contains(res.body, "If no email arrives") {
				t.Fatalf("got %d\n%s", res.StatusCode, res.body)
			}
		}
		if known.body != unknown.body || known.body != address.body {
			t.Error("the page after asking differs between a known and an unknown name")
		}
		ms := outboxMail(t, h)
		if len(ms) != 1 || ms[0].To != "alice@example.com" {
			t.Fatalf("got %d emails, want one to alice", len(ms))
		}
		// Empty and unreadable input: the form again, with the error.
		for _, who := range []string{"", "  ", strings.Repeat("x", 400)} {
			res := h.post(t, c, "/login/forgot", url.Values{"username": {who}})
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "<title>Error: ") ||
				!strings.Contains(res.body, `id="username-error"`) {
				t.Errorf("username %q: got %d\n%s", who, res.StatusCode, res.body)
			}
		}
		// Text no field takes is refused at the edge, before any handler.
		if res := h.post(t, c, "/login/forgot", url.Values{"username": {"\xff\x00"}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("a username that is not text: got %d", res.StatusCode)
		}
	})
}

// TestResetLinkPage: the link's page names the account, states the rules
// and posts the token in the form; a refused password keeps the link
// alive; the right one starts a session as a sign-in would.
func TestResetLinkPage(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		h := newBackendHarness(t, b)
		c := h.client(t)
		token := h.resetToken(t, c, "alice@example.com")
		page := h.get(t, c, "/reset/"+token)
		for _, want := range []string{"<h1>Choose a new password</h1>", "<strong>alice</strong>", `action="/reset"`,
			`<input type="hidden" name="token" value="` + token + `">`, `autocomplete="new-password"`, `name="confirm"`,
			"at least 8 characters"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if page.StatusCode != http.StatusOK || page.Header.Get("Referrer-Policy") != "no-referrer" ||
			page.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("got %d, headers %v", page.StatusCode, page.Header)
		}
		before := h.passwordHash(t, "alice")
		for _, tc := range []struct{ name, pw, confirm, field, message string }{
			{"empty", "", "", "password", "Enter a password"},
			{"too short", "short", "short", "password", "at least 8 characters"},
			{"too common", "password123", "password123", "password", "too common"},
			{"the address", "Alice@Example.com", "Alice@Example.com", "password", "must not be your username or email address"},
			{"not the same twice", "a brand new passphrase", "a brand new passphrasf", "confirm", "do not match"},
			{"a megabyte", strings.Repeat("x", 1<<20), strings.Repeat("x", 1<<20), "password", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := h.post(t, c, "/reset", url.Values{"token": {token}, "password": {tc.pw}, "confirm": {tc.confirm}})
				if tc.name == "a megabyte" {
					if res.StatusCode >= 500 || res.StatusCode < 400 {
						t.Fatalf("got %d, want a 4xx", res.StatusCode)
					}
					return
				}
				if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, `id="`+tc.field+`-error"`) ||
					!strings.Contains(res.body, tc.message) || !strings.Contains(res.body, `value="`+token+`"`) {
					t.Fatalf("got %d\n%s", res.StatusCode, res.body)
				}
			})
		}
		if h.passwordHash(t, "alice") != before {
			t.Fatal("a refused password changed the password")
		}
		if res := h.get(t, c, "/reset/"+token); res.StatusCode != http.StatusOK {
			t.Fatalf("the link after refused passwords: got %d, want it still working", res.StatusCode)
		}
		other := h.client(t)
		h.signIn(t, other, "alice", pw)
		res := h.post(t, c, "/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/mfa/setup" || h.sessionCookie(c) == nil {
			t.Fatalf("got %d to %q, want a session and setup offered next", res.StatusCode, res.Header.Get("Location"))
		}
		if got := h.get(t, other, "/account"); !strings.HasPrefix(got.Header.Get("Location"), "/login") {
			t.Errorf("the other browser's session after the reset: got %d, want sent to sign in", got.StatusCode)
		}
		if res := h.get(t, c, "/reset/"+token); res.StatusCode != http.StatusNotFound || !strings.Contains(res.body, deadHeading) {
			t.Errorf("the link once used: got %d", res.StatusCode)
		}
	})
}

// TestDeadLinks: every kind of dead link, opened or posted, gets the one
// page, asking for a new link, and changes nothing; junk never a 500.
func TestDeadLinks(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	ctx := context.Background()
	h.mustUser(t, "bob", pw)
	expired := h.resetToken(t, c, "bob")
	used := h.resetToken(t, c, "alice")
	h.post(t, c, "/reset", url.Values{"token": {used}, "password": {"first new passphrase"}, "confirm": {"first new passphrase"}})
	h.clock.Advance(31 * time.Minute) // bob's link is past its 30 minutes
	replaced := h.resetToken(t, c, "alice")
	h.clock.Advance(3 * time.Minute)
	live := h.resetToken(t, c, "alice") // replaces the one before
	tampered := []byte(live)
	tampered[10] ^= 1
	var unknown [32]byte
	rand.Read(unknown[:])
	before := h.passwordHash(t, "alice")
	for _, tc := range []struct{ name, token string }{
		{"used", used},
		{"replaced", replaced},
		{"expired", expired},
		{"tampered", string(tampered)},
		{"unknown", base64.RawURLEncoding.EncodeToString(unknown[:])},
		{"empty", ""},
		{"short", "abc"},
		{"long", strings.Repeat("A", 5000)},
		{"not base64", strings.Repeat("*", 43)},
		{"padded", live[:42] + "="},
		{"a NUL", "\x00"}, // refused at the edge, before the handler
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, res := range []response{
				h.get(t, c, "/reset/"+url.PathEscape(tc.token)),
				h.get(t, c, "/invite/"+url.PathEscape(tc.token)),
				h.post(t, c, "/reset", url.Values{"token": {tc.token}, "password": {"another passphrase"}, "confirm": {"another passphrase"}}),
				h.post(t, c, "/invite", url.Values{"token": {tc.token}, "password": {"another passphrase"}, "confirm": {"another passphrase"}}),
			} {
				if tc.token == "" && res.Request.Method == "GET" {
					continue // /reset/ is not the link's route
				}
				if strings.Contains(tc.token, "\x00") {
					if res.StatusCode != http.StatusBadRequest {
						t.Fatalf("%s with a NUL: got %d, want 400", res.Request.Method, res.StatusCode)
					}
					continue
				}
				if res.StatusCode != http.StatusNotFound || !strings.Contains(res.body, "<h1>"+deadHeading+"</h1>") ||
					!strings.Contains(res.body, `href="/login/forgot"`) {
					t.Fatalf("%s %s: got %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, res.body)
				}
			}
		})
	}
	// A reset link is no invitation.
	if res := h.get(t, c, "/invite/"+live); res.StatusCode != http.StatusNotFound {
		t.Errorf("a reset link at /invite/: got %d", res.StatusCode)
	}
	if h.passwordHash(t, "alice") != before {
		t.Fatal("a dead link changed the password")
	}
	// Junk bodies: a 4xx, never a 500.
	for _, body := range []string{"%zz", "token=%", strings.Repeat("a", 2<<20)} {
		req, _ := http.NewRequest("POST", h.ts.URL+"/reset", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := do(t, c, req); res.StatusCode >= 500 || res.StatusCode < 400 {
			t.Errorf("POST /reset with %.10q: got %d", body, res.StatusCode)
		}
	}
	// And the live link still works after all of it.
	if _, err := h.accounts.OpenLink(ctx, mfagate.LinkReset, live); err != nil {
		t.Fatalf("the live link: %v", err)
	}
}

// TestInviteLinkPage: the same page and handler serve invitations, which
// accepting ends.
func TestInviteLinkPage(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "ivan", "")
	var raw [32]byte
	rand.Read(raw[:])
	token, sum := base64.RawURLEncoding.EncodeToString(raw[:]), sha256.Sum256(raw[:])
	if err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername("ivan")
		if err != nil {
			return err
		}
		u.InvitedAt = h.clock.Now()
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		now := h.clock.Now().UTC()
		return tx.CreateLink(&mfagate.Link{UserID: u.ID, Purpose: mfagate.LinkInvite, Hash: sum[:], CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	c := h.client(t)
	page := h.get(t, c, "/invite/"+token)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "<h1>Welcome to mfagate</h1>") ||
		!strings.Contains(page.body, "Choose a password for your account <strong>ivan</strong>") || !strings.Contains(page.body, `action="/invite"`) {
		t.Fatalf("got %d\n%s", page.StatusCode, page.body)
	}
	if res := h.get(t, c, "/reset/"+token); res.StatusCode != http.StatusNotFound {
		t.Errorf("an invitation at /reset/: got %d", res.StatusCode)
	}
	res := h.post(t, c, "/invite", url.Values{"token": {token}, "password": {"ivan's first passphrase"}, "confirm": {"ivan's first passphrase"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := h.get(t, c, "/invite/"+token); got.StatusCode != http.StatusNotFound {
		t.Errorf("the invitation once accepted: got %d", got.StatusCode)
	}
}

// TestLinkTokenNotLogged: the request log and error log never carry a
// link's token.
func TestLinkTokenNotLogged(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(o *harnessConfig) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c := h.client(t)
	token := h.resetToken(t, c, "alice")
	h.get(t, c, "/reset/"+token)
	h.get(t, c, "//reset/"+token)
	h.get(t, c, "/reset/"+token+"x")
	h.post(t, c, "/reset/"+token, url.Values{}) // no such route: 405
	h.post(t, c, "/reset", url.Values{"token": {token}, "password": {"x"}, "confirm": {"x"}})
	h.get(t, c, "/invite/"+token)
	if !strings.Contains(logs.String(), "/reset/REDACTED") {
		t.Fatalf("no request logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), token[:20]) {
		t.Fatalf("the token is in the logs:\n%s", logs.String())
	}
}

// TestForgotPasswordAddressLimit: one client address may ask 20 times an
// hour, whatever the names; then a page says so, the same for everyone.
func TestForgotPasswordAddressLimit(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	for i := range 20 {
		if res := h.post(t, c, "/login/forgot", url.Values{"username": {"name" + string(rune('a'+i))}}); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: got %d", i+1, res.StatusCode)
		}
	}
	known := h.post(t, c, "/login/forgot", url.Values{"username": {"alice"}})
	unknown := h.post(t, c, "/login/forgot", url.Values{"username": {"nobody"}})
	if known.StatusCode != http.StatusTooManyRequests || known.body != unknown.body ||
		!strings.Contains(known.body, "too many requests to reset a password from your network") {
		t.Fatalf("got %d and %d\n%s", known.StatusCode, unknown.StatusCode, known.body)
	}
	if n := len(outboxMail(t, h)); n != 0 {
		t.Fatalf("got %d emails, want none", n)
	}
	h.clock.Advance(time.Hour)
	if res := h.post(t, c, "/login/forgot", url.Values{"username": {"alice"}}); res.StatusCode != http.StatusOK || len(outboxMail(t, h)) != 1 {
		t.Fatalf("an hour later: got %d", res.StatusCode)
	}
}
