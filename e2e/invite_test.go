package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/totp"
)

// Invitations (issue 14, point 1), through the production server, the
// command line beside it and a real SMTP server in the test process.

const (
	inviteSubject    = "Set up your account"
	welcomeHeading   = "Welcome to mfagate"
	setPasswordBtn   = `//main//form//button[normalize-space()="Set password and continue"]`
	requiredEveryone = `
rollout:
  timezone: UTC
  phases:
    - name: "Required for everyone"
      starts: 2026-01-01
      audience: [all]
      requirement: required
      methods: [email, totp]
`
)

var inviteURLRE = regexp.MustCompile(`https?://\S+/invite/[A-Za-z0-9_-]{43}`)

// TestImportedPeopleAcceptTheirInvitations is the journey: an
// operator imports three people with --invite beside the running server;
// each invitation reaches the SMTP server; one person follows the link,
// chooses a password, is taken straight through the setup their phase
// requires, and signs in again with both.
func TestImportedPeopleAcceptTheirInvitations(t *testing.T) {
	const pass = "violet harbour compass"
	smtp := mailtest.NewServer(t)
	site := startServeWith(t, smtp, requiredEveryone, nil)

	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("username,email,name,roles\n"+
		"j.smith,jane.smith@example.com,Jane Smith,user\n"+
		"a.khan,amir.khan@example.com,Amir Khan,\"admin,user\"\n"+
		"l.okafor,lola.okafor@example.com,Lola Okafor,user\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := site.run(t, "", "user", "import", "--invite", csv); !strings.Contains(out, "Imported 3 accounts. Their invitations are on their way") {
		t.Fatalf("import --invite printed %q", out)
	}
	isInvite := func(m mailtest.Message) bool { return m.Subject == inviteSubject }
	deadline := time.Now().Add(15 * time.Second)
	for len(received(smtp, isInvite)) < 3 && time.Now().Before(deadline) {
		smtp.WaitMatch(t, time.Until(deadline), isInvite)
		time.Sleep(50 * time.Millisecond)
	}
	links := map[string]string{}
	for _, m := range received(smtp, isInvite) {
		if len(m.To) != 1 {
			t.Fatalf("an invitation went to %v", m.To)
		}
		links[m.To[0]] = inviteURLRE.FindString(m.Text)
	}
	for _, to := range []string{"jane.smith@example.com", "amir.khan@example.com", "lola.okafor@example.com"} {
		if !strings.HasPrefix(links[to], site.URL+"/invite/") {
			t.Fatalf("the invitation to %s carries the link %q; invitations: %v", to, links[to], links)
		}
	}
	if show := site.run(t, "", "user", "show", "a.khan"); !strings.Contains(show, "not yet accepted") {
		t.Errorf("user show does not say the invitation waits:\n%s", show)
	}

	// Jane follows hers.
	b := newBrowser(t)
	link := links["jane.smith@example.com"]
	path := strings.TrimPrefix(link, site.URL)
	mustDo(t, b, "follow the invitation", chromedp.Navigate(link))
	expectPage(t, b, path, welcomeHeading)
	if main := text(t, b, "main"); !strings.Contains(main, "j.smith") || !strings.Contains(main, "at least 8 characters") {
		t.Errorf("the invitation page does not name the account and the rules:\n%s", main)
	}
	saveScreenshots(t, b, "invite-welcome")
	mustDo(t, b, "type a password twice",
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.SendKeys(chromedp.ID("confirm"), pass))
	clickAndWait(t, b, "click Set password and continue", setPasswordBtn)
	// Straight into the setup the phase requires: no skip.
	expectPage(t, b, "/mfa/setup", setupHeading)
	if n := mustRun(t, b, "look for a skip button", chromedp.Evaluate[int](`document.querySelectorAll('form[action="/mfa/setup/skip"]').length`)); n != 0 {
		t.Error("the required setup offers to skip it")
	}
	secret, step := setUpApp(t, b, false)
	saveRecoveryCodes(t, b, false)
	expectSignedIn(t, b)

	// The link worked once.
	mustDo(t, b, "follow the invitation again", chromedp.Navigate(link))
	expectPage(t, b, path, deadLinkHeading)

	// She signs in again: her password, then her app.
	mustDo(t, b, "open the home page", chromedp.Navigate(site.URL+"/"))
	expectSignedIn(t, b)
	signOut(t, b)
	srv := &server{URL: site.URL}
	submitSignIn(t, b, srv, "j.smith", pass)
	expectPage(t, b, "/mfa/challenge", totpChallengeHeading)
	enterCode(t, b, totp.Code(secret, freshStep(t, step, 5*time.Second)), continueButton)
	expectSignedIn(t, b)

	if show := site.run(t, "", "user", "show", "j.smith"); strings.Contains(show, "Invitation:") || !strings.Contains(show, "authenticator app") {
		t.Errorf("user show after accepting:\n%s", show)
	}
}
