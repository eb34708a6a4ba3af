package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// stallProxy forwards TCP connections to a database until told to stall:
// then it keeps every connection open, old and new, and passes no byte
// either way, as a database that hangs (or a network that drops packets)
// does. Resuming lets bytes through again.
type stallProxy struct {
	ln              net.Listener
	network, target string

	mu      sync.Mutex
	flowing chan struct{} // closed while bytes may pass
	conns   []net.Conn
}

func newStallProxy(tb testing.TB, network, target string) *stallProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &stallProxy{ln: ln, network: network, target: target, flowing: make(chan struct{})}
	close(p.flowing)
	go p.serve()
	tb.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

// stall stops every byte from now on.
func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flowing = make(chan struct{})
}

// resume lets bytes pass again.
func (p *stallProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}

// gate waits while the proxy is stalled.
func (p *stallProxy) gate() {
	p.mu.Lock()
	ch := p.flowing
	p.mu.Unlock()
	<-ch
}

func (p *stallProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *stallProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(client)
		go func() {
			p.gate() // a stalled database does not even answer the start-up
			server, err := net.Dial(p.network, p.target)
			if err != nil {
				client.Close()
				return
			}
			p.track(server)
			go p.pipe(server, client)
			p.pipe(client, server)
		}()
	}
}

// pipe copies from src to dst, holding what it read while stalled.
func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.resume()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// database returns the network and address of the database dsn names.
func database(tb testing.TB, dsn string) (network, addr string) {
	tb.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", sqltest.PostgresEnv, err)
	}
	if strings.HasPrefix(cfg.Host, "/") { // a Unix socket folder
		return "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	return "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// viaProxy returns dsn pointed at addr instead of the database.
func viaProxy(dsn, addr string) string {
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		u.Host = addr
		q := u.Query()
		q.Del("host") // a host in the query would win over the URL's
		q.Del("port")
		u.RawQuery = q.Encode()
		return u.String()
	}
	host, port, _ := net.SplitHostPort(addr)
	return dsn + " host=" + host + " port=" + port // later keys win
}

// TestStalledDatabaseAnswers503 runs the server on PostgreSQL through a
// proxy, then stalls the proxy: sign-in, a page, the API and /readyz must
// each answer 503 with the normal error page or JSON within the deadline
// plus a second (readyz's is 2 s, the others the configured 1 s), never
// hang and never 500. After the database answers again, the server works
// without a restart, and the sign-in cut short counted nothing.
func TestStalledDatabaseAnswers503(t *testing.T) {
	b := sqltest.Postgres(t) // skips, naming MFAGATE_TEST_POSTGRES_DSN, when it is unset
	direct := b.DSN(t)
	network, addr := database(t, direct)
	proxy := newStallProxy(t, network, addr)
	dsn := viaProxy(direct, proxy.addr())

	cfg := install(t, "")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = time.Second
	section := fmt.Sprintf("database:\n  driver: postgres\n  dsn: %q\n  request_timeout: 1s\n  connect_timeout: 1s\n", dsn)
	text = regexp.MustCompile(`(?s)database:\n.*?\nsecrets:`).ReplaceAll(text, []byte(section+"secrets:"))
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	token := mustToken(t, cfg, "ops", "operator")
	out, logs := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	c := browser(t)
	signIn(t, c, base, "alice", "plum orchard lantern")
	if code, _ := mustGet(t, c, base+"/account"); code != 200 {
		t.Fatalf("account page before the stall: got %d, want 200", code)
	}

	proxy.stall()
	// answer sends req and checks a 503 comes within limit, with
	// Retry-After, and returns the body.
	answer := func(t *testing.T, c *http.Client, req *http.Request, limit time.Duration, contentType string) string {
		t.Helper()
		start := time.Now()
		res, err := c.Do(req)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("got %v after %s, want a 503 within %s", err, took.Round(time.Millisecond), limit)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status: got %d, want 503; body:\n%s", res.StatusCode, body)
		}
		if took > limit {
			t.Errorf("answered after %s, want within %s", took.Round(time.Millisecond), limit)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, contentType) {
			t.Errorf("Content-Type: got %q, want %s", got, contentType)
		}
		if got := res.Header.Get("Retry-After"); got != "60" && req.URL.Path != "/readyz" {
			t.Errorf("Retry-After: got %q, want 60", got)
		}
		return string(body)
	}
	wantPage := func(t *testing.T, body string) {
		t.Helper()
		for _, want := range []string{"<h1>The service is unavailable just now</h1>", "The service cannot reach its database just now. Try again in a minute."} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
	}
	fresh := &http.Client{Timeout: 15 * time.Second} // long enough to see a hang as a hang

	t.Run("sign-in", func(t *testing.T) {
		form := url.Values{"username": {"alice"}, "password": {"not her password"}}
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		wantPage(t, answer(t, fresh, req, timeout+time.Second, "text/html"))
	})
	t.Run("page", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/account", nil)
		wantPage(t, answer(t, c, req, timeout+time.Second, "text/html"))
	})
	t.Run("api", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/api/v1/people", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		body := answer(t, fresh, req, timeout+time.Second, "application/json")
		var reply map[string]any
		if err := json.Unmarshal([]byte(body), &reply); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		want := map[string]any{"error": "The service cannot reach its database just now. Try again in a minute", "code": "unavailable"}
		if fmt.Sprint(reply) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", reply, want)
		}
	})
	t.Run("readyz", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/readyz", nil)
		answer(t, fresh, req, 2*time.Second+time.Second, "text/plain")
	})

	proxy.resume()
	// Connections the deadlines broke are dropped; new ones come.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := mustGet(t, fresh, base+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the database came back: got %d for 15s, want 200", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := mustGet(t, c, base+"/account"); code != 200 {
		t.Errorf("account page after the stall: got %d, want 200", code)
	}
	if m := regexp.MustCompile(`.*status=5\d\d.*`).FindAllString(logs.String(), -1); len(m) < 4 || strings.Contains(logs.String(), "status=500") {
		t.Errorf("request log: got %q, want the 503s and no 500", m)
	}
	store, err := sqlstore.Open(context.Background(), sqlstore.DriverPostgres, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var th *mfagate.Throttle
	if err := store.View(context.Background(), func(tx mfagate.Tx) (err error) { th, err = tx.Throttle("user:alice"); return err }); err != nil {
		t.Fatal(err)
	}
	if th.Failures != 0 {
		t.Errorf("failures of alice: got %d, want 0: a sign-in the database never answered is no attempt", th.Failures)
	}
	if !strings.Contains(signIn(t, browser(t), base, "alice", "plum orchard lantern"), "Sign out") {
		// The home page has a sign-out button; a failed sign-in does not.
		t.Errorf("signing in after the stall did not reach the signed-in home page")
	}
}
