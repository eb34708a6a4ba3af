package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/cli"
)

// The person we cannot reach by email (issue 10). Pat's mailbox is gone:
// the demo's outbox refuses every address under .invalid, as a real mail
// server refuses an unknown mailbox. Sam, from support, gives Pat more
// time to set up; the email that says so is refused, and Pat's page in the
// console then says their emails are being refused, with the server's
// answer. Sam marks the address as fixed: the refused email is queued
// again (and, the address still being refused, the panel comes back).

const (
	unreachedHeading = "Emails to them are being refused"
	extendBtn        = `//form[substring(@action, string-length(@action) - string-length("/extend") + 1) = "/extend"]//button`
	fixAddressBtn    = `//form[substring(@action, string-length(@action) - string-length("/address-fixed") + 1) = "/address-fixed"]//button`
)

func TestSupportSeesAPersonWeCannotReach(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	addPerson(t, srv, "pat", "pat@example.invalid", "Pat Gone")
	ctx := newBrowser(t)
	sam := srv.account(t, "sam")

	setUpStaff(t, ctx, srv, sam)
	openPerson(t, ctx, "pat", "Pat Gone")
	if main := text(t, ctx, "main"); strings.Contains(main, unreachedHeading) {
		t.Fatalf("Pat's page says %q before any email to them was refused", unreachedHeading)
	}
	// Pat has no session, so the page offers no "Sign out everywhere"; an
	// extension emails them too.
	if n := count(t, ctx, "#end-sessions-reason"); n != 0 {
		t.Error("Pat's page offers to sign out everywhere someone signed in nowhere")
	}
	mustDo(t, ctx, "give Pat more time, with a reason",
		chromedp.SendKeys(chromedp.ID("extend-until"), time.Now().AddDate(0, 1, 0).Format(time.DateOnly), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("extend-reason"), "On leave until next month", chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Give more time", extendBtn)
	expectPage(t, ctx, "/admin/people/pat", "Pat Gone")

	// The delivery worker runs every few seconds: look again until the
	// refusal shows.
	main := waitForText(t, ctx, srv.URL+"/admin/people/pat", unreachedHeading, 20*time.Second)
	for _, want := range []string{"550", "pat@example.invalid", "Mark as fixed and send again"} {
		if !strings.Contains(main, want) {
			t.Errorf("Pat's page does not show %q; it says:\n%s", want, main)
		}
	}
	shootPage(t, ctx, screenshotDir(t), "console-person-unreached")

	mustDo(t, ctx, "type the reason for marking the address fixed",
		chromedp.SendKeys(chromedp.ID("address-fixed-reason"), "Their email team restored the mailbox", chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Mark as fixed and send again", fixAddressBtn)
	expectPage(t, ctx, "/admin/people/pat", "Pat Gone")
	if got, want := text(t, ctx, "main .notice"), "1 email is queued to be sent again to pat@example.invalid"; !strings.Contains(got, want) {
		t.Errorf("after marking the address fixed the page says %q, want %q", got, want)
	}
	shootPage(t, ctx, screenshotDir(t), "console-person-fixed")
	// Still refused: the mark comes back with the next attempt.
	waitForText(t, ctx, srv.URL+"/admin/people/pat", unreachedHeading, 20*time.Second)
}

// addPerson adds an account to the running demo with the command line,
// as an operator would.
func addPerson(t *testing.T, srv *server, username, email, name string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"user", "add", username, "--email", email, "--name", name, "--roles", "user",
		"--password-stdin", "--data", srv.Dir}
	if code := cli.Run(context.Background(), args, func(string) string { return "" },
		strings.NewReader("plum orchard lantern\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("mfagate user add %s: exit %d: %s", username, code, stderr.String())
	}
}

// waitForText opens u until its main content contains want, and returns
// that content.
func waitForText(t *testing.T, ctx context.Context, u, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mustDo(t, ctx, "open "+u, chromedp.Navigate(u))
		main := text(t, ctx, "main")
		if strings.Contains(main, want) {
			return main
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not say %q within %v; it says:\n%s", u, want, timeout, main)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// screenshotDir is where TestScreenshots saves its pictures.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		var err error
		if dir, err = filepath.Abs("screenshots"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create the screenshots folder: %v", err)
	}
	return dir
}
