package cli_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
)

// TestServeDrainsBeforeStopping stops a server the way SIGTERM does and
// watches what a load balancer would see: during server.shutdown_delay,
// /readyz answers 503 while requests are still served, each with
// "Connection: close"; then new connections are refused, an idle
// keep-alive connection is closed, and the request that was in flight
// all along (a sign-in still sending its form) is answered in full, with
// its session, before the command returns 0.
func TestServeDrainsBeforeStopping(t *testing.T) {
	cfg := install(t, "")
	text, _ := os.ReadFile(cfg)
	text = []byte(strings.Replace(string(text), "shutdown_delay: 0s", "shutdown_delay: 3s", 1))
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out, logs := newLines(), newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--config", cfg}, func(string) string { return "" }, strings.NewReader(""), out, logs)
	}()
	addr := out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	base := "http://" + addr
	if code, body := mustGet(t, http.DefaultClient, base+"/readyz"); code != 200 {
		t.Fatalf("readyz before stopping: got %d %q, want 200", code, body)
	}
	if code, body := mustGet(t, http.DefaultClient, base+"/metrics"); code != 200 || !strings.Contains(body, "\nmfagate_ready 1\n") {
		t.Fatalf("metrics before stopping: got %d, want 200 with mfagate_ready 1", code)
	}

	// In flight when the signal comes: a sign-in whose form is still
	// being sent. (A request whose headers are not all in when the server
	// stops taking connections is closed unanswered: net/http counts it
	// as not yet begun. That is what the delay is for: by then the
	// balancer sends nothing more.)
	form := url.Values{"username": {"alice"}, "password": {"plum orchard lantern"}}.Encode()
	signIn := dialTB(t, addr)
	sendPart(t, signIn, "POST /login HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: "+strconv.Itoa(len(form))+"\r\n\r\n"+form[:5])
	// Idle: a keep-alive connection that has had its answer.
	idle := dialTB(t, addr)
	sendPart(t, idle, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	idleReader := bufio.NewReader(idle)
	if res := readResponse(t, idle, idleReader, "GET"); res.StatusCode != 200 || res.Close {
		t.Fatalf("healthz before stopping: got %d, close %v; want 200 on a connection kept open", res.StatusCode, res.Close)
	}

	stop() // SIGTERM

	// The delay: not ready, but serving, and closing each connection.
	fresh := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := fresh.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("readyz while stopping: %v (did the delay pass before the test looked?)", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			if string(body) != "shutting down\n" {
				t.Errorf("readyz while stopping: got %q, want %q", body, "shutting down\n")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still answers %d 10 s after the signal, want 503", res.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, err := fresh.Get(base + "/login")
	if err != nil {
		t.Fatalf("a page during the delay: %v, want it served", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !res.Close {
		t.Errorf("a page during the delay: got %d, close %v; want 200 with Connection: close", res.StatusCode, res.Close)
	}
	// The readiness gauge says the same as /readyz, so an alert on it
	// sees a stopping server as out of the pool.
	if code, body := mustGet(t, fresh, base+"/metrics"); code != 200 || !strings.Contains(body, "\nmfagate_ready 0\n") {
		t.Errorf("metrics during the delay: got %d, want 200 with mfagate_ready 0", code)
	}

	// Then no new connections...
	deadline = time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections are still taken 20 s after the signal, want them refused once the 3 s delay is over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ...the idle connection is closed...
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idleReader.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("the idle keep-alive connection: got %v, want it closed by the server (EOF)", err)
	}
	// ...and the request in flight is answered in full.
	sendPart(t, signIn, form[5:])
	res2 := readResponse(t, signIn, bufio.NewReader(signIn), "POST")
	if res2.StatusCode != http.StatusSeeOther || !strings.Contains(res2.Header.Get("Set-Cookie"), "mfagate_session=") {
		t.Errorf("the sign-in in flight: got %d with cookie %q, want 303 and a session", res2.StatusCode, res2.Header.Get("Set-Cookie"))
	}

	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d: %s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return within 20 s of its last request")
	}
	for _, want := range []string{"/readyz answers 503", "no new connections"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
}

func dialTB(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func sendPart(tb testing.TB, c net.Conn, s string) {
	tb.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, s); err != nil {
		tb.Fatalf("write %q: %v", s, err)
	}
}

// response is an answer read whole.
type response struct {
	*http.Response
	body string
}

func readResponse(tb testing.TB, c net.Conn, r *bufio.Reader, method string) response {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		tb.Fatalf("read the answer: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read the answer's body: %v", err)
	}
	return response{res, string(b)}
}
