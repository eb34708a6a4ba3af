package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// staff creates an account with roles and signs it in fully with an
// authenticator app, as staff must.
func (h *harness) staff(tb testing.TB, name string, roles ...string) *http.Client {
	tb.Helper()
	h.mustUser(tb, name, pw, roles...)
	c := h.client(tb)
	if res := h.login(tb, c, name); !strings.HasPrefix(res.Header.Get("Location"), "/mfa/setup") {
		tb.Fatalf("staff %s after the password: got %q, want setup", name, res.Header.Get("Location"))
	}
	if _, res := h.setUpTOTP(tb, c); res.StatusCode != http.StatusSeeOther {
		tb.Fatalf("staff %s setting up the app: got %d", name, res.StatusCode)
	}
	h.post(tb, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	if res := h.get(tb, c, "/account"); res.StatusCode != http.StatusOK {
		tb.Fatalf("staff %s not signed in: got %d", name, res.StatusCode)
	}
	return c
}

// setRoles changes an account's roles behind the web's back.
func (h *harness) setRoles(tb testing.TB, name string, roles ...string) {
	tb.Helper()
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		u.Roles = roles
		return tx.UpdateUser(u)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// addFactor gives an account a confirmed factor directly in the store.
func (h *harness) addFactor(tb testing.TB, name, method string) {
	tb.Helper()
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(name)
		if err != nil {
			return err
		}
		f := &mfagate.Factor{UserID: u.ID, Method: method, CreatedAt: h.clock.Now()}
		if method == mfagate.MethodTOTP {
			f.Secret = []byte("sealed elsewhere; never opened in these tests")
		}
		return tx.CreateFactor(f)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

var adminRouteRE = regexp.MustCompile(`"((?:GET|POST) /admin[^"]*)"`)

// TestConsoleAccess checks every console route against every kind of
// visitor. The list of routes is checked against routes.go, so a new
// route cannot be added without a line here.
func TestConsoleAccess(t *testing.T) {
	h := newHarness(t)
	operator := h.staff(t, "olga", "operator")
	support := h.staff(t, "sam", "support")
	both := h.staff(t, "bea", "operator", "support")

	// Someone with a factor, past the password only.
	h.staff(t, "hal", "support")
	half := h.client(t)
	if loc := h.login(t, half, "hal").Header.Get("Location"); !strings.HasPrefix(loc, "/mfa/challenge") {
		t.Fatalf("hal after the password: got %q, want the challenge", loc)
	}
	plain := h.client(t)
	h.signIn(t, plain, "alice", pw)
	h.mustUser(t, "adam", pw, "admin")
	admin := h.client(t)
	h.signIn(t, admin, "adam", pw)
	// Fully signed in without a factor, then made support staff.
	h.mustUser(t, "nora", pw, "user")
	noFactor := h.client(t)
	h.signIn(t, noFactor, "nora", pw)
	h.setRoles(t, "nora", "support")

	// The people acted on: bob waits for an email code, carol is plain.
	h.mustUser(t, "bob", pw, "user")
	h.addFactor(t, "bob", mfagate.MethodEmail)
	if loc := h.login(t, h.client(t), "bob").Header.Get("Location"); loc != "/mfa/challenge?method=email" {
		t.Fatalf("bob after the password: got %q", loc)
	}
	h.mustUser(t, "carol", pw, "user")
	// dave's address is refused.
	h.mustUser(t, "dave", pw, "user")
	h.markUnreached(t, "dave", "550 no such user")
	// ivy is invited and has not accepted.
	if _, err := h.accounts.CreateUser(context.Background(), account.Actor{Name: "test", AtServer: true},
		account.NewUser{Username: "ivy", Email: "ivy@example.com", Roles: []string{"user"}, Invite: true}); err != nil {
		t.Fatal(err)
	}

	const (
		toSignIn = "sign in"
		toStep   = "next step"
		refused  = "403"
		allowed  = "allowed"
	)
	form := url.Values{"reason": {"Asked by phone, identity checked"}, "until": {"2027-12-31"}, "roles": {"admin", "user"}, "email": {"carol@new.example.com"}, "confirm": {"yes"}}
	routes := []struct {
		method, path string
		operator     bool // operators may use it
		support      bool // support staff may use it
		okStatus     int
	}{
		{"GET", "/admin", true, true, 200},
		{"GET", "/admin/forecast", true, true, 200},
		{"GET", "/admin/people", false, true, 200},
		{"GET", "/admin/people.csv", false, true, 200},
		{"GET", "/admin/people/{username}", false, true, 200},
		{"POST", "/admin/people/{username}/resend-code", false, true, 303},
		{"POST", "/admin/people/{username}/unlock", false, true, 303},
		{"POST", "/admin/people/{username}/end-sessions", false, true, 303},
		{"POST", "/admin/people/{username}/extend", false, true, 303},
		{"POST", "/admin/people/{username}/reset-mfa", false, true, 303},
		{"POST", "/admin/people/{username}/address-fixed", false, true, 303},
		{"POST", "/admin/people/{username}/roles", false, true, 303},
		{"POST", "/admin/people/{username}/invite", false, true, 303},
		{"POST", "/admin/people/{username}/revoke-invite", false, true, 303},
		{"GET", "/admin/add-person", false, true, 200},
		{"POST", "/admin/add-person", false, true, 400}, // the form has no username: checked, so let in
		{"POST", "/admin/people/{username}/email", false, true, 303},
		{"GET", "/admin/audit", true, false, 200},
	}

	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var inRoutes, inTest []string
	for _, m := range adminRouteRE.FindAllStringSubmatch(string(src), -1) {
		inRoutes = append(inRoutes, m[1])
	}
	for _, r := range routes {
		inTest = append(inTest, r.method+" "+r.path)
	}
	slices.Sort(inRoutes)
	slices.Sort(inTest)
	if !slices.Equal(inRoutes, inTest) {
		t.Fatalf("console routes in routes.go:\n%v\nin this test:\n%v", inRoutes, inTest)
	}

	for _, rt := range routes {
		target := "carol"
		if strings.HasSuffix(rt.path, "/resend-code") {
			target = "bob"
			h.clock.Advance(31 * time.Second) // past the resend cooldown
		}
		if strings.HasSuffix(rt.path, "/address-fixed") {
			target = "dave"
		}
		if strings.HasSuffix(rt.path, "-invite") || strings.HasSuffix(rt.path, "/invite") {
			target = "ivy"
		}
		path := strings.Replace(rt.path, "{username}", target, 1)
		who := []struct {
			name   string
			client *http.Client
			want   string
		}{
			{"anonymous", h.client(t), toSignIn},
			{"half signed in", half, toStep},
			{"plain user", plain, refused},
			{"client administrator", admin, refused},
			{"staff without a factor", noFactor, refused},
			{"operator", operator, map[bool]string{true: allowed, false: refused}[rt.operator]},
			{"support", support, map[bool]string{true: allowed, false: refused}[rt.support]},
			{"operator and support", both, allowed},
		}
		for _, w := range who {
			t.Run(rt.method+" "+path+" as "+w.name, func(t *testing.T) {
				var res response
				if rt.method == "GET" {
					res = h.get(t, w.client, path)
				} else {
					res = h.post(t, w.client, path, form)
				}
				loc := res.Header.Get("Location")
				switch w.want {
				case toSignIn:
					if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
						t.Fatalf("got %d to %q, want a redirect to sign in", res.StatusCode, loc)
					}
				case toStep:
					if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa/challenge") {
						t.Fatalf("got %d to %q, want a redirect to the challenge", res.StatusCode, loc)
					}
				case refused:
					if res.StatusCode != http.StatusForbidden || !strings.Contains(res.body, "You cannot do that") {
						t.Fatalf("got %d to %q, want the 403 page", res.StatusCode, loc)
					}
				case allowed:
					if w.name == "operator and support" && rt.method == "POST" {
						return // the actions ran once already, as support
					}
					if res.StatusCode != rt.okStatus {
						t.Fatalf("got %d to %q, want %d:\n%.3000s", res.StatusCode, loc, rt.okStatus, res.body)
					}
				}
			})
		}
	}
	// The refusal says which roles may enter, and whom to ask.
	if res := h.get(t, plain, "/admin/people"); !strings.Contains(res.body, "This part of the console is for people with the support role") ||
		!strings.Contains(res.body, "ask whoever runs mfagate for your organisation") {
		t.Errorf("the console's 403 page does not say who may enter and whom to ask:\n%s", between(res.body, "<main", "</main>"))
	}
	if res := h.get(t, noFactor, "/admin"); !strings.Contains(res.body, "Staff must sign in with a security code") {
		t.Error("the refusal of staff without a factor does not say why")
	}
}

func TestConsoleNavFollowsRole(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, user string
		roles      []string
		links      []string
		absent     []string
	}{
		{"operator", "olga", []string{"operator"}, []string{`href="/admin"`, `href="/admin/audit"`}, []string{`href="/admin/people"`}},
		{"support", "sam", []string{"support"}, []string{`href="/admin"`, `href="/admin/people"`}, []string{`href="/admin/audit"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.staff(t, tt.user, tt.roles...)
			page := h.get(t, c, "/admin").body
			nav := between(page, `aria-label="Console"`, "</nav>")
			for _, l := range tt.links {
				if !strings.Contains(nav, l) {
					t.Errorf("the console navigation lacks %s", l)
				}
			}
			for _, l := range tt.absent {
				if strings.Contains(nav, l) {
					t.Errorf("the console navigation has %s", l)
				}
			}
			if home := h.get(t, c, "/").body; !strings.Contains(home, `>Console</a>`) {
				t.Error("the header has no Console link for staff")
			}
		})
	}
	plain := h.client(t)
	h.signIn(t, plain, "alice", pw)
	if home := h.get(t, plain, "/").body; strings.Contains(home, `>Console</a>`) {
		t.Error("the header shows a Console link to someone who is not staff")
	}
}

// TestConsolePagesFollowTheHouseRules checks what every page must do:
// one <h1>, no inline script or style (the CSP forbids them), the help
// link, and the console navigation.
func TestConsolePagesFollowTheHouseRules(t *testing.T) {
	h := newHarness(t)
	c := h.staff(t, "bea", "operator", "support")
	h.markUnreached(t, "alice", "550 no such user") // her page shows the panel about it
	for _, p := range []string{"/admin", "/admin/people", "/admin/people?q=nobody", "/admin/people?unreached=yes", "/admin/people/alice", "/admin/audit", "/admin/audit?since=bad", "/admin/forecast?at=2027-07-31"} {
		res := h.get(t, c, p)
		body := res.body
		if strings.Count(body, "<h1") != 1 {
			t.Errorf("%s: want exactly one <h1>", p)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, " onclick=") {
			t.Errorf("%s has inline script or style", p)
		}
		if !strings.Contains(body, `href="/help"`) || !strings.Contains(body, `aria-label="Console"`) {
			t.Errorf("%s lacks the help link or the console navigation", p)
		}
		if res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "style-src 'self'") {
			t.Errorf("%s: want no-store and the CSP", p)
		}
	}
}
