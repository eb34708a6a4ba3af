package e2e

import (
	"bufio"
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
	"github.com/mfagate/mfagate/mail/mailtest"
)

const (
	// startTimeout bounds how long the demo may take to print its
	// accounts and answer /healthz.
	startTimeout = 30 * time.Second
	// stopTimeout bounds how long cli.Run may take to return once its
	// context is cancelled.
	stopTimeout = 15 * time.Second
)

// server is a running demo: the real program started through cli.Run.
type server struct {
	// URL is the base URL, such as "http://127.0.0.1:41234", without a
	// trailing slash.
	URL string
	// OutboxURL is the page where the demo shows the emails it would send.
	OutboxURL string
	// Accounts are the demo accounts the program printed, by username.
	Accounts map[string]demoAccount
	// Dir is the data folder, Clock the --clock the demo runs at ("" for
	// the real time).
	Dir, Clock string

	out     *demoOutput
	stop    func(testing.TB)
	started time.Time // just before the demo read its --clock
}

// now returns the time the demo reads now: the real time, or at a
// rehearsal clock that clock run on since the demo started (to within
// the moment the demo took to read its flags).
func (s *server) now(tb testing.TB) time.Time {
	tb.Helper()
	if s.Clock == "" {
		return time.Now()
	}
	at, err := time.Parse(time.DateOnly, s.Clock)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, s.Clock); err != nil {
			tb.Fatalf("--clock %q is neither a date nor an RFC 3339 time", s.Clock)
		}
	}
	return at.Add(time.Since(s.started))
}

// demoAccount is one "account: NAME password: PASSWORD roles: ROLE,ROLE"
// line of the demo's output.
type demoAccount struct {
	Username string
	Password string
	Roles    []string
}

// account returns the demo account called name, or stops the test.
func (s *server) account(tb testing.TB, name string) demoAccount {
	tb.Helper()
	a, ok := s.Accounts[name]
	if !ok {
		tb.Fatalf("the demo printed no account %q; it printed %v", name, s.Accounts)
	}
	return a
}

// startServer runs "mfagate demo" in-process on 127.0.0.1:0 with a fresh
// data folder, waits until it has printed its URL and accounts and answers
// /healthz, and stops it when the test ends, checking that it exits with
// status 0. The program's log is shown only when the test fails.
func startServer(tb testing.TB) *server {
	tb.Helper()
	return startDemo(tb, demoOptions{})
}

// demoOptions are the ways a journey can start the demo differently.
type demoOptions struct {
	// Dir is the data folder; "" means a fresh one. The demo keeps its
	// database, key and passwords there, so a second demo started on the
	// same folder has the same accounts, factors and skips.
	Dir string
	// Clock, when set, starts the demo with "--clock Clock --rehearsal":
	// it then runs as if it were that time (a date, meaning midnight UTC,
	// or an RFC 3339 time), the clock running on from there.
	Clock string
}

// startDemo runs "mfagate demo" as startServer does, with the options o.
func startDemo(tb testing.TB, o demoOptions) *server {
	tb.Helper()
	dir := o.Dir
	if dir == "" {
		dir = tb.TempDir()
	}
	args := []string{"demo", "--addr", "127.0.0.1:0", "--data", dir}
	if o.Clock != "" {
		args = append(args, "--clock", o.Clock, "--rehearsal")
	}
	ctx, cancel := context.WithCancel(context.Background())

	out := newDemoOutput()
	var stderr mailtest.LogBuffer
	pr, pw := io.Pipe()
	go out.read(pr)

	done := make(chan int, 1)
	started := time.Now()
	go func() {
		// The environment is empty so that no MFAGATE_* variable of the
		// machine running the tests changes the demo.
		code := cli.Run(ctx, args, func(string) string { return "" }, strings.NewReader(""), pw, &stderr)
		pw.Close()
		done <- code
	}()

	// stop cancels the demo and waits for it to return, once; the test's
	// clean-up and a restart both call it.
	var once sync.Once
	stopped := false
	stop := func(tb testing.TB) {
		once.Do(func() {
			cancel()
			if stopped {
				return
			}
			select {
			case code := <-done:
				if code != 0 {
					tb.Errorf("mfagate demo %v exited with status %d after its context was cancelled, want 0", args[1:], code)
				}
			case <-time.After(stopTimeout):
				tb.Errorf("mfagate demo %v did not return within %v of its context being cancelled", args[1:], stopTimeout)
			}
		})
	}
	tb.Cleanup(func() {
		stop(tb)
		if tb.Failed() {
			tb.Logf("mfagate demo %v stdout:\n%s\nmfagate demo stderr:\n%s", args[1:], out.text(), stderr.String())
		}
	})

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	select {
	case <-out.ready:
	case code := <-done:
		stopped = true
		tb.Fatalf("mfagate demo %v exited with status %d before it was ready", args[1:], code)
	case <-deadline.C:
		tb.Fatalf("mfagate demo did not print its URL, accounts and outbox line within %v", startTimeout)
	}

	s := out.server()
	s.Dir, s.Clock, s.out, s.stop, s.started = dir, o.Clock, out, stop, started
	if len(s.Accounts) == 0 {
		tb.Fatalf("mfagate demo printed no account lines")
	}
	waitHealthy(tb, s.URL, deadline.C)
	return s
}

// restartServer stops srv and starts the demo again on the same data
// folder, at clock ("" for the real time). The browser's cookies are not
// touched: a journey signs out first, as a person would before the day
// changes.
func restartServer(tb testing.TB, srv *server, clock string) *server {
	tb.Helper()
	srv.stop(tb)
	return startDemo(tb, demoOptions{Dir: srv.Dir, Clock: clock})
}

// phaseStart returns when the demo's rollout phase called name starts,
// from the "The rollout: ..." line it printed, or stops the test.
func (s *server) phaseStart(tb testing.TB, name string) time.Time {
	tb.Helper()
	select {
	case <-s.out.rolloutReady:
	case <-time.After(5 * time.Second):
		tb.Fatalf("the demo printed no line starting %q; it printed:\n%s", rolloutPrefix, s.out.text())
	}
	s.out.mu.Lock()
	at, ok := s.out.rollout[name]
	s.out.mu.Unlock()
	if !ok {
		tb.Fatalf("the demo's rollout has no phase %q; it printed:\n%s", name, s.out.text())
	}
	return at
}

// waitHealthy polls base+"/healthz" until it answers 200.
func waitHealthy(tb testing.TB, base string, deadline <-chan time.Time) {
	tb.Helper()
	client := newHTTPClient()
	var last string
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-deadline:
			tb.Fatalf("GET %s/healthz did not answer 200 in time; last answer: %s", base, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newHTTPClient returns a client for the demo on loopback: no proxy, no
// redirects followed, a short timeout.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil},
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// demoOutput parses the demo's stdout as it comes.
type demoOutput struct {
	ready        chan struct{} // closed once the outbox line, the last of the start-up lines, arrives
	rolloutReady chan struct{} // closed once the rollout line arrives

	mu      sync.Mutex
	lines   []string
	srv     server
	rollout map[string]time.Time // phase name to start, from the rollout line
}

func newDemoOutput() *demoOutput {
	return &demoOutput{ready: make(chan struct{}), rolloutReady: make(chan struct{}),
		srv: server{Accounts: map[string]demoAccount{}}, rollout: map[string]time.Time{}}
}

// read consumes r to its end, so that the program never blocks writing
// to its stdout.
func (o *demoOutput) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		o.add(sc.Text())
	}
	io.Copy(io.Discard, r) // after a line too long for the scanner
}

const (
	urlPrefix     = "mfagate demo is running at "
	accountPrefix = "account: "
	outboxPrefix  = "Emails are not sent: read them at "
	rolloutPrefix = "The rollout: "
)

func (o *demoOutput) add(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, line)
	switch {
	case strings.HasPrefix(line, urlPrefix):
		o.srv.URL = strings.TrimRight(strings.TrimSpace(strings.TrimPrefix(line, urlPrefix)), "/")
	case strings.HasPrefix(line, accountPrefix):
		if a, ok := parseAccount(line); ok {
			o.srv.Accounts[a.Username] = a
		}
	case strings.HasPrefix(line, outboxPrefix):
		o.srv.OutboxURL = strings.TrimSpace(strings.TrimPrefix(line, outboxPrefix))
		if o.srv.URL != "" {
			select {
			case <-o.ready:
			default:
				close(o.ready)
			}
		}
	case strings.HasPrefix(line, rolloutPrefix):
		// "The rollout: Communication 2026-11-13, Optional enrollment 2026-11-25, ..."
		for part := range strings.SplitSeq(strings.TrimPrefix(line, rolloutPrefix), ", ") {
			i := strings.LastIndexByte(part, ' ')
			if i < 0 {
				continue
			}
			if at, err := time.Parse("2006-01-02", part[i+1:]); err == nil {
				o.rollout[part[:i]] = at
			} else if at, err := time.Parse(time.RFC3339, part[i+1:]); err == nil {
				o.rollout[part[:i]] = at
			}
		}
		select {
		case <-o.rolloutReady:
		default:
			close(o.rolloutReady)
		}
	}
}

// parseAccount parses "account: NAME password: PASSWORD roles: ROLE,ROLE".
func parseAccount(line string) (demoAccount, bool) {
	rest := strings.TrimPrefix(line, accountPrefix)
	name, rest, ok1 := strings.Cut(rest, " password: ")
	pw, roles, ok2 := strings.Cut(rest, " roles: ")
	if !ok1 || !ok2 || name == "" || pw == "" {
		return demoAccount{}, false
	}
	return demoAccount{Username: name, Password: pw, Roles: strings.Split(roles, ",")}, true
}

func (o *demoOutput) server() *server {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.srv
	s.Accounts = maps.Clone(o.srv.Accounts)
	return &s
}

func (o *demoOutput) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n")
}
