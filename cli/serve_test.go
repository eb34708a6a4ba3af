package cli_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/web"
)

// TestServeDeliversMailThroughSMTP runs the production server against a
// real SMTP server: the notice a password change causes arrives once.
// (Refusal and retry are tested in package worker with a manual clock.)
func TestServeDeliversMailThroughSMTP(t *testing.T) {
	smtp := mailtest.NewServer(t)
	cfg := install(t, fmt.Sprintf("  driver: smtp\n  smtp:\n    host: %q\n    port: %d\n    tls: none\n", smtp.Host(), smtp.Port()))
	if r := run(t, "plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out, _ := start(t, "serve", "--config", cfg)
	addr := out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	base := "http://" + addr

	c := browser(t)
	if code, _ := mustGet(t, c, base+"/readyz"); code != 200 {
		t.Fatalf("readyz: got %d", code)
	}
	signIn(t, c, base, "alice", "plum orchard lantern")
	res, err := c.PostForm(base+"/account/password", url.Values{
		"current_password": {"plum orchard lantern"}, "new_password": {"violet harbour compass"}, "confirm_password": {"violet harbour compass"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasSuffix(res.Request.URL.String(), "/account?password_changed") {
		t.Fatalf("changing the password ended on %s, want the account page", res.Request.URL)
	}
	msgs := smtp.WaitMessages(t, 1, 15*time.Second)
	if msgs[0].Subject != "Your password was changed" || len(msgs[0].To) != 1 || msgs[0].To[0] != "alice@example.com" {
		t.Fatalf("got %q to %v, want the password notice to alice", msgs[0].Subject, msgs[0].To)
	}
	if !strings.Contains(msgs[0].Text, "127.0.0.1") {
		t.Fatalf("the notice does not say where the change came from:\n%s", msgs[0].Text)
	}
	// Once the outbox records the notice as sent, no pass of the delivery
	// worker can send it again: the mail server must have had it once.
	db := openSQLite(t, dbPath(cfg))
	waitFor(t, 15*time.Second, "the outbox to record the notice as sent", func() bool {
		return queryInt(t, db, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'") == 1
	})
	if n := queryInt(t, db, "SELECT COUNT(*) FROM mail_outbox"); n != 1 {
		t.Fatalf("the outbox holds %d messages, want the one notice", n)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("got %d messages, want exactly 1", n)
	}
	// The security notice went out on the security sender, and is counted.
	code, body := mustGet(t, c, base+"/metrics")
	if want := `mfagate_mail_sent_total{priority="security"} 1`; code != 200 || !strings.Contains(body, want) {
		t.Errorf("metrics: got %d without %q:\n%s", code, want, grepLines(body, "mfagate_mail_"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeHeaderLimits pins the two limits on request headers
// (docs/security.md): over web.MaxHeaderBytes, mfagate's own 431 with
// the security headers; over the server's MaxHeaderBytes, net/http's
// bare 431, written before any handler runs, without them.
func TestServeHeaderLimits(t *testing.T) {
	cfg := install(t, "")
	out, _ := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	for _, tt := range []struct {
		name    string
		size    int
		headers bool
	}{
		{"over mfagate's limit", web.MaxHeaderBytes + 1024, true},
		{"over net/http's limit", 100 << 10, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+"/login", nil)
			req.Header.Set("X-Padding", strings.Repeat("p", tt.size))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("got %d, want 431", res.StatusCode)
			}
			if got := res.Header.Get("X-Frame-Options") == "DENY"; got != tt.headers {
				t.Fatalf("security headers on the 431: %v, want %v", got, tt.headers)
			}
		})
	}
}
