package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/cli"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/totp"
)

// Forgotten passwords (issue 14, point 2), through the production server
// and a real SMTP server in the test process: the reset link comes from
// the email as delivered.

const (
	forgotHeading     = "Reset your password"
	forgotSentHeading = "Check your email"
	chooseHeading     = "Choose a new password"
	deadLinkHeading   = "This link has expired or was already used"
	resetMailSubject  = "Choose a new password for mfagate"
	changedSubject    = "Your password was changed"
	forgotLink        = `//main//a[normalize-space()="Forgotten your password?"]`
	sendLinkButton    = `//main//form//button[normalize-space()="Send me a link"]`
	changeButton      = `//main//form//button[normalize-space()="Change password and continue"]`
	askAgainButton    = `//main//a[normalize-space()="Ask for a new link"]`
)

var resetURLRE = regexp.MustCompile(`https?://\S+/reset/[A-Za-z0-9_-]{43}`)

// startServe runs "mfagate serve" in-process with a fresh SQLite database,
// its mail going to smtp, and the account alice (password pass) added
// with the command line. It returns the base URL; the server stops when
// the test ends.
func startServe(t *testing.T, smtp *mailtest.Server, pass string) string {
	t.Helper()
	return startServeWith(t, smtp, "", func(s *serveSite) {
		s.run(t, pass+"\n", "user", "add", "alice", "--email", "alice@example.com", "--name", "Alice Example",
			"--roles", "user", "--password-stdin")
	}).URL
}

// serveSite is a production server under test: where it is reached, and
// its configuration, for commands run beside it.
type serveSite struct {
	URL, Config string
}

// run runs an mfagate command against the site's configuration (added as
// --config) and returns what it printed; a failure stops the test.
func (s *serveSite) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--config", s.Config)
	if code := cli.Run(context.Background(), args, func(string) string { return "" },
		strings.NewReader(stdin), &stdout, &stderr); code != 0 {
		t.Fatalf("mfagate %v: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

// startServeWith runs "mfagate serve" as startServe does, with extra
// appended to its configuration and before run once the configuration is
// written, before the server starts.
func startServeWith(t *testing.T, smtp *mailtest.Server, extra string, before func(*serveSite)) *serveSite {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "secret.key")
	var stdout, stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"keygen", key}, func(string) string { return "" },
		strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("mfagate keygen: exit %d: %s", code, stderr.String())
	}
	// A free port, so that the links in emails (built from base_url) lead
	// to this server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	site := &serveSite{URL: "http://" + addr, Config: filepath.Join(dir, "mfagate.yaml")}
	if err := os.WriteFile(site.Config, []byte(fmt.Sprintf(`server:
  addr: %q
  base_url: %q
  dev_insecure_cookies: true
  shutdown_delay: 0s
database:
  driver: sqlite
  dsn: %q
secrets:
  key_file: %q
mail:
  from: "Sign-in <signin@example.com>"
  driver: smtp
  smtp:
    host: %q
    port: %d
    tls: none
support:
  email: "support@example.com"
`, addr, site.URL, filepath.Join(dir, "db", "mfagate.db"), key, smtp.Host(), smtp.Port())+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(site)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut mailtest.LogBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--config", site.Config}, func(string) string { return "" },
			strings.NewReader(""), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("mfagate serve exited with status %d, want 0", code)
			}
		case <-time.After(stopTimeout):
			t.Errorf("mfagate serve did not stop within %v", stopTimeout)
		}
		if t.Failed() {
			t.Logf("mfagate serve stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	})
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	waitHealthy(t, site.URL, deadline.C)
	return site
}

// resetMail waits for the n-th reset email to alice at the SMTP server
// and returns the link it carries.
func resetMail(t *testing.T, smtp *mailtest.Server, n int) string {
	t.Helper()
	isReset := func(m mailtest.Message) bool {
		return m.Subject == resetMailSubject && len(m.To) == 1 && m.To[0] == "alice@example.com"
	}
	smtp.WaitMatch(t, 15*time.Second, isReset)
	ms := received(smtp, isReset)
	if len(ms) < n {
		t.Fatalf("got %d reset emails, want %d", len(ms), n)
	}
	link := resetURLRE.FindString(ms[n-1].Text)
	if link == "" {
		t.Fatalf("the reset email carries no link:\n%s", ms[n-1].Text)
	}
	return link
}

// TestForgotPasswordKeepsTOTP is the journey: Alice, who has an
// authenticator app, is signed in in browser A; in browser B she asks for
// a reset, follows the emailed link and chooses a new password, and the
// next page is still her app's challenge. Browser A's session is dead,
// and the old password no longer signs in.
func TestForgotPasswordKeepsTOTP(t *testing.T) {
	const oldPass, newPass = "plum orchard lantern", "violet harbour compass"
	smtp := mailtest.NewServer(t)
	base := startServe(t, smtp, oldPass)
	srv := &server{URL: base}

	a := newBrowser(t)
	submitSignIn(t, a, srv, "alice", oldPass)
	expectSignedIn(t, a) // no rollout: signed in with the password alone
	mustDo(t, a, "open the setup page", chromedp.Navigate(base+"/mfa/setup"))
	secret, setupStep := setUpApp(t, a, false)
	saveRecoveryCodes(t, a, false)
	expectSignedIn(t, a)

	b := newBrowser(t)
	mustDo(t, b, "open the sign-in page", chromedp.Navigate(base+"/login"))
	saveScreenshots(t, b, "login")
	clickAndWait(t, b, "click Forgotten your password?", forgotLink)
	expectPage(t, b, "/login/forgot", forgotHeading)
	if label := text(t, b, `label[for="username"]`); label != "Username or email address" {
		t.Errorf("the field's label is %q", label)
	}
	saveScreenshots(t, b, "forgot")
	mustDo(t, b, "type the address", chromedp.SendKeys(chromedp.ID("username"), "alice@example.com"))
	clickAndWait(t, b, "click Send me a link", sendLinkButton)
	expectPage(t, b, "/login/forgot", forgotSentHeading)
	if main := text(t, b, "main"); !strings.Contains(main, "30 minutes") || !strings.Contains(main, "If no email arrives") {
		t.Errorf("the page does not say how long the link works and what to do if nothing comes:\n%s", main)
	}
	saveScreenshots(t, b, "forgot-sent")

	link := resetMail(t, smtp, 1)
	if !strings.HasPrefix(link, base+"/reset/") {
		t.Fatalf("the link %q is not on this server", link)
	}
	path := strings.TrimPrefix(link, base)
	mustDo(t, b, "follow the link", chromedp.Navigate(link))
	expectPage(t, b, path, chooseHeading)
	if main := text(t, b, "main"); !strings.Contains(main, "alice") || !strings.Contains(main, "at least 8 characters") {
		t.Errorf("the page does not name the account and the rules:\n%s", main)
	}
	saveScreenshots(t, b, "choose-password")

	// A password the policy refuses: the error by the field, the link
	// still works.
	mustDo(t, b, "type a common password twice",
		chromedp.SendKeys(chromedp.ID("password"), "password123"),
		chromedp.SendKeys(chromedp.ID("confirm"), "password123"))
	clickAndWait(t, b, "click Change password and continue", changeButton)
	expectPage(t, b, "/reset", chooseHeading)
	if got := text(t, b, "#password-error"); !strings.Contains(got, "too common") {
		t.Errorf("the error by the field says %q", got)
	}
	saveScreenshots(t, b, "choose-password-error")

	mustDo(t, b, "type the new password twice",
		chromedp.SendKeys(chromedp.ID("password"), newPass),
		chromedp.SendKeys(chromedp.ID("confirm"), newPass))
	clickAndWait(t, b, "click Change password and continue", changeButton)
	// The new password is only the first step: the app's code is next.
	expectPage(t, b, "/mfa/challenge", totpChallengeHeading)
	step := freshStep(t, setupStep, 5*time.Second)
	enterCode(t, b, totp.Code(secret, step), continueButton)
	expectSignedIn(t, b)

	// Browser A was signed out by the reset.
	mustDo(t, a, "open the home page in browser A", chromedp.Navigate(base+"/"))
	if got := pagePath(t, a); got != "/login" {
		t.Errorf("browser A is at %s after the reset, want the sign-in page", got)
	}
	// The old password no longer works; the new one leads to the app's
	// challenge.
	submitSignIn(t, a, srv, "alice", oldPass)
	expectPage(t, a, "/login", signInHeading)
	submitSignIn(t, a, srv, "alice", newPass)
	expectPage(t, a, "/mfa/challenge", totpChallengeHeading)

	// The link works once.
	mustDo(t, b, "follow the link again", chromedp.Navigate(link))
	expectPage(t, b, path, deadLinkHeading)
	saveScreenshots(t, b, "link-dead")
	clickAndWait(t, b, "click Ask for a new link", askAgainButton)
	expectPage(t, b, "/login/forgot", forgotHeading)

	isChanged := func(m mailtest.Message) bool { return m.Subject == changedSubject }
	smtp.WaitMatch(t, 15*time.Second, isChanged)
	if ms := received(smtp, isChanged); len(ms) != 1 || ms[0].To[0] != "alice@example.com" {
		t.Fatalf("got %d %q emails, want one to alice", len(ms), changedSubject)
	}
}

// received lists the messages the SMTP server accepted that match.
func received(smtp *mailtest.Server, match func(mailtest.Message) bool) []mailtest.Message {
	var out []mailtest.Message
	for _, m := range smtp.Messages() {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}
