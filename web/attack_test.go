package web_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
	"github.com/mfagate/mfagate/web"
)

// The adversarial suite of the hardening issue: an attacker with many
// addresses sends bursts of requests to two replicas of the whole service
// on one database, SQLite and PostgreSQL. What the throttle let through is
// counted on the real path, by the replicas' own Prometheus counters
// (mfagate_password_checks_total, mfagate_code_checks_total), never by
// timing. The clock is a manual one shared by both replicas: a burst
// happens at one instant, so exactly what the rules allow at that instant
// may be checked.

// cluster is two replicas: each its own account.Service (caches, hash
// slots), handler and TLS listener, as two "mfagate serve" would be.
type cluster struct {
	urls    []string
	svcs    []*account.Service
	store   *sqlstore.DB
	clock   *mfagate.ManualClock
	secret  []byte // alice's authenticator app
	rescues []string
}

func newCluster(tb testing.TB, b sqltest.Backend) *cluster {
	tb.Helper()
	one, two := b.Replicas(tb)
	c := &cluster{store: one, clock: mfagate.NewManualClock(time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC))}
	for _, store := range []*sqlstore.DB{one, two} {
		svc, err := account.New(account.Options{Store: store, Clock: c.clock, Password: cheap,
			Key: []byte("0123456789abcdef0123456789abcdef")})
		if err != nil {
			tb.Fatal(err)
		}
		ts := httptest.NewUnstartedServer(nil)
		ts.StartTLS()
		tb.Cleanup(ts.Close)
		base, _ := url.Parse(ts.URL)
		h, err := web.NewServer(web.Options{Accounts: svc, Store: store, BaseURL: base,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		if err != nil {
			tb.Fatal(err)
		}
		ts.Config.Handler = h
		c.urls, c.svcs = append(c.urls, ts.URL), append(c.svcs, svc)
	}
	ctx := context.Background()
	if _, err := c.svcs[0].CreateUser(ctx, account.Actor{Name: "test", AtServer: true}, account.NewUser{
		Username: "alice", Email: "alice@example.com", Roles: []string{"user"}, Password: pw}); err != nil {
		tb.Fatal(err)
	}
	// Alice sets up an authenticator app; her recovery codes are kept.
	in, err := c.svcs[0].SignIn(ctx, account.SignIn{Username: "alice", Password: pw})
	if err != nil {
		tb.Fatal(err)
	}
	cur := &account.Current{Session: in.Session, User: in.User}
	setup, err := c.svcs[0].StartTOTPSetup(ctx, cur)
	if err != nil {
		tb.Fatal(err)
	}
	if c.secret, err = totp.DecodeSecret(setup.Secret); err != nil {
		tb.Fatal(err)
	}
	out, err := c.svcs[0].ConfirmTOTPSetup(ctx, cur, totp.Code(c.secret, totp.Step(c.clock.Now())), account.Actor{})
	if err != nil {
		tb.Fatal(err)
	}
	full, err := c.svcs[0].Authenticate(ctx, out.Token)
	if err != nil {
		tb.Fatal(err)
	}
	if c.rescues, err = c.svcs[0].PendingRecoveryCodes(full); err != nil {
		tb.Fatal(err)
	}
	c.clock.Advance(time.Minute) // the setup code's step is spent
	return c
}

// addEmailFactor gives alice email codes besides her app.
func (c *cluster) addEmailFactor(tb testing.TB) {
	tb.Helper()
	if err := c.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername("alice")
		if err != nil {
			return err
		}
		return tx.CreateFactor(&mfagate.Factor{UserID: u.ID, Method: mfagate.MethodEmail, CreatedAt: c.clock.Now()})
	}); err != nil {
		tb.Fatal(err)
	}
}

// browser is a client with its own cookies, trusting both replicas'
// test certificates, that does not follow redirects. The replicas share
// a host name (127.0.0.1), as behind one load balancer, so a session
// cookie set by one is sent to the other.
func (c *cluster) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 100},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends a form to replica r as if from address addr (the replicas
// trust 127.0.0.1 as their proxy) and returns the status and Location.
func (c *cluster) post(tb testing.TB, b *http.Client, r int, addr, path string, form url.Values) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("POST", c.urls[r%len(c.urls)]+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := b.Do(req)
	if err != nil {
		tb.Error(err)
		return 0, ""
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 {
		tb.Errorf("POST %s on replica %d: got %d", path, r%len(c.urls), res.StatusCode)
	}
	return res.StatusCode, res.Header.Get("Location")
}

var counterRE = regexp.MustCompile(`(?m)^(mfagate_password_checks_total|mfagate_code_checks_total\{method="(\w+)"\}) (\S+)$`)

// checks sums, over the replicas' /metrics, the guesses compared with a
// secret: "password", "email", "totp" and "recovery".
func (c *cluster) checks(tb testing.TB) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for _, u := range c.urls {
		res, err := c.browser().Get(u + "/metrics")
		if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ms := counterRE.FindAllStringSubmatch(string(body), -1)
		if len(ms) != 4 {
			tb.Fatalf("/metrics of %s: got %d check counters, want 4", u, len(ms))
		}
		for _, m := range ms {
			n, _ := strconv.ParseFloat(m[3], 64)
			key := "password"
			if m[2] != "" {
				key = m[2]
			}
			out[key] += int(n)
		}
	}
	return out
}

// burst sends n requests at once, spread over the replicas, each from its
// own address, and returns their statuses.
func (c *cluster) burst(tb testing.TB, n int, send func(i int, b *http.Client) int) []int {
	tb.Helper()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		b := c.browser()
		wg.Go(func() {
			<-start
			statuses[i] = send(i, b)
		})
	}
	close(start)
	wg.Wait()
	return statuses
}

func addr(i int) string { return fmt.Sprintf("203.0.%d.%d", i/250, i%250+1) }

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// TestAttackPasswordBursts: 100 wrong passwords at once over two replicas
// get exactly delay_after (3) checked; each later burst, once the delay is
// over, exactly one more; the 10th locks and nothing is checked after it,
// not even the right password, which is refused like a wrong one.
func TestAttackPasswordBursts(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		c := newCluster(t, b)
		base := c.checks(t)["password"]
		wrong := func(i int, br *http.Client) int {
			s, _ := c.post(t, br, i, addr(i), "/login", url.Values{"username": {"alice"}, "password": {fmt.Sprintf("guess %d", i)}})
			return s
		}
		statuses := c.burst(t, 100, wrong)
		if got := c.checks(t)["password"] - base; got != 3 {
			t.Fatalf("first burst: %d passwords checked, want 3", got)
		}
		if n := count(statuses, http.StatusUnauthorized); n != 3 {
			t.Errorf("first burst: %d answered as wrong passwords, want 3 (the rest wait)", n)
		}
		for burst := 2; burst <= 8; burst++ {
			c.clock.Advance(31 * time.Second) // past the growing delay, whatever it is
			c.burst(t, 100, wrong)
			if got, want := c.checks(t)["password"]-base, 2+burst; got != want {
				t.Fatalf("burst %d: %d passwords checked in all, want %d", burst, got, want)
			}
		}
		locked, _, _ := c.svcs[0].Locked(context.Background(), "alice")
		if !locked {
			t.Fatal("not locked after 10 wrong passwords")
		}
		for burst := 0; burst < 3; burst++ {
			c.clock.Advance(31 * time.Second)
			statuses := c.burst(t, 100, func(i int, br *http.Client) int {
				p := fmt.Sprintf("guess %d", i)
				if i == 99 {
					p = pw
				}
				s, _ := c.post(t, br, i, addr(i), "/login", url.Values{"username": {"alice"}, "password": {p}})
				return s
			})
			if n := count(statuses, http.StatusSeeOther); n != 0 {
				t.Fatalf("locked: %d sign-ins got through", n)
			}
		}
		if got := c.checks(t)["password"] - base; got != 10 {
			t.Fatalf("after the lock: %d passwords checked in all, want still 10", got)
		}
		c.clock.Advance(15 * time.Minute)
		if s, loc := c.post(t, c.browser(), 1, addr(7), "/login", url.Values{"username": {"alice"}, "password": {pw}}); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa/challenge") {
			t.Fatalf("after the lock ended: got %d to %q, want the challenge", s, loc)
		}
	})
}

// TestAttackCodesAfterTheRightPassword is the first finding over
// HTTP: the right password, then wrong codes, again and again from new
// addresses and both replicas. The codes lock at 10 and nothing is
// checked after; a session that got in before the lock cannot use the
// right code either.
func TestAttackCodesAfterTheRightPassword(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		c := newCluster(t, b)
		base := c.checks(t)["totp"]
		early := c.browser()
		if s, _ := c.post(t, early, 0, addr(500), "/login", url.Values{"username": {"alice"}, "password": {pw}}); s != http.StatusSeeOther {
			t.Fatalf("sign-in before the attack: got %d", s)
		}
		signedIn, lockPage := 0, 0
		for round := range 30 {
			c.clock.Advance(31 * time.Second) // only the lock may stop it
			br := c.browser()
			s, loc := c.post(t, br, round, addr(round), "/login", url.Values{"username": {"alice"}, "password": {pw}})
			if s != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa/challenge") {
				continue // refused: locked
			}
			signedIn++
			wrong := wrongTOTP(c.secret, c.clock.Now())
			if s, _ := c.post(t, br, round+1, addr(round), "/mfa/challenge", url.Values{"method": {"totp"}, "code": {wrong}}); s == http.StatusTooManyRequests {
				lockPage++
			}
		}
		if got := c.checks(t)["totp"] - base; got != 10 {
			t.Fatalf("30 rounds of right password and wrong code: %d codes checked, want 10", got)
		}
		if signedIn != 10 || lockPage != 1 {
			t.Errorf("got %d rounds past the password and %d lock pages, want 10 and 1 (the 10th)", signedIn, lockPage)
		}
		right := totp.Code(c.secret, totp.Step(c.clock.Now()))
		if s, _ := c.post(t, early, 1, addr(500), "/mfa/challenge", url.Values{"method": {"totp"}, "code": {right}}); s != http.StatusTooManyRequests {
			t.Fatalf("the right code while locked: got %d, want 429 (the lock page)", s)
		}
		if got := c.checks(t)["totp"] - base; got != 10 {
			t.Fatalf("the right code while locked was checked: %d in all, want 10", got)
		}
		var warnings int
		for _, m := range mustMail(t, c.store) {
			if m.Subject == "Someone entered wrong security codes for your account" {
				warnings++
			}
		}
		if warnings != 1 {
			t.Errorf("got %d warnings about wrong codes, want 1 (per account, not per session)", warnings)
		}
	})
}

// TestAttackOneCodeTwenty: twenty requests at once with one code, over
// both replicas, sign in once: an authenticator code, a recovery code,
// and an email code.
func TestAttackOneCodeTwenty(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		c := newCluster(t, b)
		signIn := func(r int) *http.Client {
			br := c.browser()
			if s, _ := c.post(t, br, r, addr(r), "/login", url.Values{"username": {"alice"}, "password": {pw}}); s != http.StatusSeeOther {
				t.Fatalf("sign-in: got %d", s)
			}
			return br
		}
		for _, tt := range []struct {
			method string
			code   func() string
		}{
			{mfagate.MethodTOTP, func() string { return totp.Code(c.secret, totp.Step(c.clock.Now())) }},
			{mfagate.MethodRecovery, func() string { return c.rescues[0] }},
		} {
			c.clock.Advance(time.Minute)
			browsers := make([]*http.Client, 20)
			for i := range browsers {
				browsers[i] = signIn(i)
			}
			code := tt.code()
			statuses := c.burst(t, 20, func(i int, _ *http.Client) int {
				s, loc := c.post(t, browsers[i], i, addr(i), "/mfa/challenge", url.Values{"method": {tt.method}, "code": {code}})
				if s == http.StatusSeeOther && loc == "/" {
					return 1 // signed in (a dead session is sent to /login)
				}
				return s
			})
			if n := count(statuses, 1); n != 1 {
				t.Errorf("one %s code used by 20 at once: %d signed in, want 1", tt.method, n)
			}
			if err := c.svcs[0].Unlock(context.Background(), account.Actor{Name: "cli", AtServer: true}, "alice", "next part of the test"); err != nil {
				t.Fatal(err)
			}
		}
		// An email code is bound to its sign-in: twenty at once on one.
		c.addEmailFactor(t)
		c.clock.Advance(time.Minute)
		br := signIn(0)
		if s, _ := c.post(t, br, 1, addr(0), "/mfa/challenge/send", url.Values{}); s != http.StatusSeeOther {
			t.Fatalf("send a code: got %d", s)
		}
		code := latestCode(t, c.store)
		statuses := c.burst(t, 20, func(i int, _ *http.Client) int {
			s, loc := c.post(t, br, i, addr(0), "/mfa/challenge", url.Values{"method": {"email"}, "code": {code}})
			if s == http.StatusSeeOther && loc == "/" {
				return 1
			}
			return s
		})
		if n := count(statuses, 1); n != 1 {
			t.Errorf("one email code sent 20 times at once: %d signed in, want 1", n)
		}
	})
}

// TestAttackSendFlood: twenty "send me a code" at once over both replicas
// send one email: the cooldown holds for a burst.
func TestAttackSendFlood(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		c := newCluster(t, b)
		c.addEmailFactor(t)
		br := c.browser()
		if s, _ := c.post(t, br, 0, addr(0), "/login", url.Values{"username": {"alice"}, "password": {pw}}); s != http.StatusSeeOther {
			t.Fatalf("sign-in: got %d", s)
		}
		before := len(mustMail(t, c.store))
		c.burst(t, 20, func(i int, _ *http.Client) int {
			s, _ := c.post(t, br, i, addr(i), "/mfa/challenge/send", url.Values{})
			return s
		})
		if got := len(mustMail(t, c.store)) - before; got != 1 {
			t.Fatalf("20 sends at once: %d emails, want 1", got)
		}
	})
}

func mustMail(tb testing.TB, s mfagate.Store) []*mfagate.Message {
	tb.Helper()
	var ms []*mfagate.Message
	if err := s.View(context.Background(), func(tx mfagate.Tx) (err error) {
		ms, err = tx.Mail(0)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return ms
}

func latestCode(tb testing.TB, s mfagate.Store) string {
	tb.Helper()
	for _, m := range mustMail(tb, s) {
		if c := mailRE.FindStringSubmatch(m.Text); c != nil {
			return c[1]
		}
	}
	tb.Fatal("no code in the outbox")
	return ""
}

// wrongTOTP is a code that is wrong at now (outside the steps accepted).
func wrongTOTP(secret []byte, now time.Time) string {
	s := totp.Step(now)
	for _, code := range []string{"000000", "111111", "222222", "333333"} {
		if code != totp.Code(secret, s-1) && code != totp.Code(secret, s) && code != totp.Code(secret, s+1) {
			return code
		}
	}
	panic("no wrong code")
}
