package cli_test

import (
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
	"github.com/mfagate/mfagate/web/webtest"
)

// withMetricsAddr gives the installation at cfg a metrics listener.
func withMetricsAddr(tb testing.TB, cfg, addr string) {
	tb.Helper()
	data, err := os.ReadFile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	line := "  addr: \"127.0.0.1:0\"\n"
	if !strings.Contains(string(data), line) {
		tb.Fatalf("%s has no line %q to add metrics_addr after", cfg, line)
	}
	text := strings.Replace(string(data), line, line+"  metrics_addr: \""+addr+"\"\n", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
}

var (
	listeningLine = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	metricsLine   = regexp.MustCompile(`serves its metrics on http://(127\.0\.0\.1:\d+)/metrics only`)
)

// TestServeMetricsOnTheMainListener: without server.metrics_addr the
// metrics are at /metrics on the main listener, as before, the database's
// and the account service's series among them.
func TestServeMetricsOnTheMainListener(t *testing.T) {
	cfg := install(t, "")
	out, _ := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, listeningLine)[1]
	if strings.Contains(out.String(), "metrics on") {
		t.Errorf("without metrics_addr, serve announced a metrics listener:\n%s", out)
	}
	c := browser(t)
	code, body := mustGet(t, c, base+"/metrics")
	s := webtest.Samples(t, body)
	for _, k := range []string{"mfagate_ready", `mfagate_signins_total{method="password",outcome="success"}`, `mfagate_db_request_duration_seconds_count{kind="ping"}`} {
		if _, ok := s[k]; code != 200 || !ok {
			t.Errorf("main listener's /metrics: got %d without %s", code, k)
		}
	}
	if s["mfagate_ready"] != 1 || s[`mfagate_db_request_duration_seconds_count{kind="ping"}`] < 1 {
		t.Errorf("ready %g, pings timed %g: want 1 and at least 1 (the scrape's own)",
			s["mfagate_ready"], s[`mfagate_db_request_duration_seconds_count{kind="ping"}`])
	}
}

// TestServeMetricsAddr: with server.metrics_addr the metrics are served
// there and only there: the main listener answers 404 for /metrics, the
// metrics listener nothing but /metrics; both close when serve stops.
func TestServeMetricsAddr(t *testing.T) {
	cfg := install(t, "")
	withMetricsAddr(t, cfg, "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := newLines(), newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--config", cfg}, func(string) string { return "" }, strings.NewReader(""), out, errOut)
	}()
	main := out.await(t, listeningLine)[1]
	metrics := out.await(t, metricsLine)[1]

	c := browser(t)
	if code, body := mustGet(t, c, "http://"+main+"/metrics"); code != 404 || strings.Contains(body, "mfagate_") {
		t.Errorf("/metrics on the main listener: got %d, want 404 without metrics:\n%.300s", code, body)
	}
	for path, want := range map[string]int{"/login": 404, "/healthz": 404, "/readyz": 404} {
		if code, _ := mustGet(t, c, "http://"+metrics+path); code != want {
			t.Errorf("%s on the metrics listener: got %d, want %d", path, code, want)
		}
	}
	code, body := mustGet(t, c, "http://"+metrics+"/metrics")
	s := webtest.Samples(t, body)
	if code != 200 || s["mfagate_ready"] != 1 || s[`mfagate_http_requests_total{route="/",status="404"}`] != 1 {
		t.Errorf("the metrics listener: got %d, ready %g, the main listener's 404 counted %g times; want 200, 1, 1",
			code, s["mfagate_ready"], s[`mfagate_http_requests_total{route="/",status="404"}`])
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d: %s", code, errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s")
	}
	for _, addr := range []string{main, metrics} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after serve stopped", addr)
		}
	}
}

// TestServeMetricsAddrTaken: a metrics address another program holds
// stops start-up with one sentence naming the key, and leaves the main
// port free.
func TestServeMetricsAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := install(t, "")
	withMetricsAddr(t, cfg, taken.Addr().String())
	port := freePort(t)
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(text), `  addr: "127.0.0.1:0"`, `  addr: "127.0.0.1:`+strconv.Itoa(port)+`"`, 1)), 0o600)
	r := run(t, "", "serve", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "(server.metrics_addr)") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Fatalf("got %d %q, want 1 with one line naming server.metrics_addr", r.code, r.stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("the main port is still held after the refused start: %v", err)
	}
	ln.Close()
}
