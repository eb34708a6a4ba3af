package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
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
	dir := tb.TempDir()
	ctx, cancel := context.WithCancel(context.Background())

	out := newDemoOutput()
	var stderr syncBuffer
	pr, pw := io.Pipe()
	go out.read(pr)

	done := make(chan int, 1)
	go func() {
		// The environment is empty so that no MFAGATE_* variable of the
		// machine running the tests changes the demo.
		code := cli.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", dir},
			func(string) string { return "" }, strings.NewReader(""), pw, &stderr)
		pw.Close()
		done <- code
	}()

	stopped := false
	tb.Cleanup(func() {
		cancel()
		if !stopped {
			select {
			case code := <-done:
				if code != 0 {
					tb.Errorf("mfagate demo exited with status %d after its context was cancelled, want 0", code)
				}
			case <-time.After(stopTimeout):
				tb.Errorf("mfagate demo did not return within %v of its context being cancelled", stopTimeout)
			}
		}
		if tb.Failed() {
			tb.Logf("mfagate demo stdout:\n%s\nmfagate demo stderr:\n%s", out.text(), stderr.String())
		}
	})

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	select {
	case <-out.ready:
	case code := <-done:
		stopped = true
		tb.Fatalf("mfagate demo exited with status %d before it was ready", code)
	case <-deadline.C:
		tb.Fatalf("mfagate demo did not print its URL, accounts and outbox line within %v", startTimeout)
	}

	s := out.server()
	if len(s.Accounts) == 0 {
		tb.Fatalf("mfagate demo printed no account lines")
	}
	waitHealthy(tb, s.URL, deadline.C)
	return s
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
	ready chan struct{} // closed once the outbox line, the last of the start-up lines, arrives

	mu    sync.Mutex
	lines []string
	srv   server
}

func newDemoOutput() *demoOutput {
	return &demoOutput{ready: make(chan struct{}), srv: server{Accounts: map[string]demoAccount{}}}
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

// syncBuffer is a bytes.Buffer safe for one writer and other readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Printf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(&b.buf, format+"\n", args...)
}
