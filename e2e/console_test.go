package e2e

import (
	"context"
	"encoding/base32"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The journeys of the staff console (issue 5) and the help page, and the
// screenshots of the main pages. Sam (operator and support) is staff: he
// must set up a second factor whatever the rollout says, so each journey
// that uses the console starts with him setting up email codes, the
// quickest. None of these journeys waits for an authenticator app's next
// code, so they run in parallel with each other and with the others.

// Headings and messages of the console and the help page.
const (
	dashboardHeading  = "Rollout dashboard"
	peopleHeading     = "Find a person"
	auditHeading      = "Audit log"
	helpHeading       = "Get help signing in"
	signInHeading     = "Sign in"
	resetNotice       = "Security codes reset and they have been signed out. An email is on its way to tell them. When they next sign in: asked to set up security codes after their password; they can skip it."
	resetSubject      = "Your sign-in security was reset"
	resetKind         = "mfa.reset"
	resetLabel        = "Security codes reset by staff"
	ownAccountRefusal = "You cannot do this to your own account"
	ownAccountBanner  = "This is your own account."
)

// The controls of the console and the footer, found by what they say.
const (
	consoleLink  = `//header//a[normalize-space()="Console"]`
	peopleLink   = `//nav[@aria-label="Console"]//a[normalize-space()="People"]`
	searchButton = `//form[@action="/admin/people"]//button[normalize-space()="Search"]`
	resetButton  = `//form[substring(@action, string-length(@action) - string-length("/reset-mfa") + 1) = "/reset-mfa"]//button[normalize-space()="Reset security codes"]`
	helpLink     = `//footer//a[normalize-space()="Get help signing in"]`
	// confirmResetButton is on the page that asks before a reset.
	confirmResetButton = `//main//form//button[normalize-space()="Yes, reset security codes"]`
)

// setUpStaff signs a staff member in for the first time: after the
// password they are taken straight to choosing a method, with no way to
// skip, and set up email codes. The browser is left on the home page.
func setUpStaff(t *testing.T, ctx context.Context, srv *server, a demoAccount) {
	t.Helper()
	signIn(t, ctx, srv, a)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	expectNoSkip(t, ctx)
	if address := setUpEmail(t, ctx, srv); address != demoEmail(a) {
		t.Errorf("%s's code went to %q, want %q", a.Username, address, demoEmail(a))
	}
	saveRecoveryCodes(t, ctx, false)
}

// openPerson opens the console from the header, searches for username on
// the people page and opens their page from the results.
func openPerson(t *testing.T, ctx context.Context, username, name string) {
	t.Helper()
	clickAndWait(t, ctx, "click Console in the header", consoleLink)
	expectPage(t, ctx, "/admin", dashboardHeading)
	clickAndWait(t, ctx, "click People in the console", peopleLink)
	expectPage(t, ctx, "/admin/people", peopleHeading)
	mustDo(t, ctx, "search for "+username,
		chromedp.SendKeys(chromedp.ID("q"), username, chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Search", searchButton)
	expectPage(t, ctx, "/admin/people", peopleHeading)
	if got := pageQuery(t, ctx).Get("q"); got != username {
		t.Errorf("the search went out as q=%q, want %q", got, username)
	}
	clickAndWait(t, ctx, "open "+name+" from the results", `//main//table//a[normalize-space()="`+name+`"]`)
	expectPage(t, ctx, "/admin/people/"+username, name)
}

// historyRows returns the cells of the "History" table on a person page,
// one row per event, newest first.
func historyRows(t *testing.T, ctx context.Context) [][]string {
	t.Helper()
	return mustRun(t, ctx, "read the history", chromedp.Evaluate[[][]string](`(() => {
		const cap = document.getElementById("history-caption");
		if (!cap) return [];
		return Array.from(cap.closest("table").tBodies[0].rows,
			r => Array.from(r.cells, c => c.innerText.trim().replace(/\s+/g, " ")));
	})()`))
}

// 1. Ada set up her authenticator app and has lost her phone. Sam, from
// support, finds her in the console and resets her security codes; she
// is emailed, and next time she signs in she sets up again instead of
// being asked for the old app's code.
func TestSupportResetsMFA(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada, sam := srv.account(t, "ada"), srv.account(t, "sam")
	const reason = "Lost phone, identity checked by call-back"

	signIn(t, ctx, srv, ada)
	secret, _ := setUpApp(t, ctx, false)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)

	setUpStaff(t, ctx, srv, sam)
	openPerson(t, ctx, ada.Username, "Ada Administrator")
	if codes := text(t, ctx, "main"); !strings.Contains(codes, "Authenticator app") || !strings.Contains(codes, "10 unused recovery codes left") {
		t.Errorf("Ada's page does not list her authenticator app and 10 recovery codes; it says:\n%s", codes)
	}
	methods := mustRun(t, ctx, "read her methods", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#codes ~ table tbody th[scope="row"]'), th => th.textContent.trim())`))
	if len(methods) != 1 || methods[0] != "Authenticator app" {
		t.Errorf("the methods listed on Ada's page are %q, want just %q", methods, "Authenticator app")
	}
	// She has set up: more time to set up would do nothing for her.
	if n := count(t, ctx, `main form button`); n == 0 || strings.Contains(text(t, ctx, "main"), "Give more time") {
		t.Errorf("Ada, who has set up, is offered more time to set up (or no action at all); the page says:\n%s", text(t, ctx, "main"))
	}
	page := mustRun(t, ctx, "read the page's HTML", chromedp.OuterHTML(chromedp.CSS("html")))
	plain := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	for _, leak := range []string{plain, plain[:16], groupsOfFour(plain), "otpauth://"} {
		if strings.Contains(page, leak) {
			t.Errorf("Ada's page in the console shows her authenticator secret (%q)", leak)
		}
	}

	before := len(mailsTo(t, srv, demoEmail(ada), resetSubject))
	mustDo(t, ctx, "type the reason for the reset",
		chromedp.SendKeys(chromedp.ID("reset-mfa-reason"), reason, chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Reset security codes", resetButton)
	// A page of its own asks first, naming her and what will happen.
	expectPage(t, ctx, "/admin/people/"+ada.Username+"/reset-mfa", "Reset the security codes of Ada Administrator?")
	if main := text(t, ctx, "main"); !strings.Contains(main, "When they next sign in:") || !strings.Contains(main, reason) {
		t.Errorf("the confirmation page does not say what will happen and why:\n%s", main)
	}
	saveScreenshots(t, ctx, "admin-confirm-reset")
	clickAndWait(t, ctx, "click Yes, reset security codes", confirmResetButton)
	expectPage(t, ctx, "/admin/people/"+ada.Username, "Ada Administrator")
	if got := text(t, ctx, "main .notice"); got != resetNotice {
		t.Errorf("after the reset the page says %q, want %q", got, resetNotice)
	}
	if n := count(t, ctx, ".error-summary"); n != 0 {
		t.Errorf("after the reset the page shows an error: %s", text(t, ctx, ".error-summary"))
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "Not set up.") {
		t.Errorf("after the reset Ada's page does not say her security codes are %q; it says:\n%s", "Not set up.", main)
	}
	var found bool
	rows := historyRows(t, ctx)
	for _, r := range rows {
		// When, What happened, Outcome, Who acted, From, Reason and details
		if len(r) < 6 || !strings.Contains(r[1], resetKind) {
			continue
		}
		found = true
		if !strings.Contains(r[1], resetLabel) {
			t.Errorf("the reset is described as %q, want it to say %q", r[1], resetLabel)
		}
		if r[3] != sam.Username {
			t.Errorf("the reset's actor is %q, want %q", r[3], sam.Username)
		}
		if !strings.Contains(r[5], reason) {
			t.Errorf("the reset's reason reads %q, want it to contain %q", r[5], reason)
		}
	}
	if !found {
		t.Errorf("the history on Ada's page shows no %s event; its rows are:\n%q", resetKind, rows)
	}
	if m := waitMail(t, srv, demoEmail(ada), resetSubject, before); !strings.Contains(m.Body, "Ada") {
		t.Errorf("the %q email does not greet Ada by name:\n%s", resetSubject, m.Body)
	}
	signOut(t, ctx)

	// Ada is not asked for her old app's code: she sets up again, and
	// today she may still skip it.
	signIn(t, ctx, srv, ada)
	if got := pagePath(t, ctx); got == "/mfa/challenge" {
		t.Fatalf("after the reset Ada is still asked for a code (%q)", heading(t, ctx))
	}
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	expectBothMethods(t, ctx)
	mustDo(t, ctx, "find Skip for now", chromedp.WaitVisible(skipButton))
}

// groupsOfFour writes a key as the setup page shows it: "ABCD EFGH ...".
func groupsOfFour(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// 2. Nobody can reset their own security codes from the console: Sam's
// own page says so, and trying anyway is refused next to the reason, with
// what he typed kept and his codes untouched.
func TestSupportCannotResetSelf(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	sam := srv.account(t, "sam")
	const reason = "Testing my own account"

	setUpStaff(t, ctx, srv, sam)
	openPerson(t, ctx, sam.Username, "Sam Support")
	if got := text(t, ctx, "main .banner"); !strings.Contains(got, ownAccountBanner) {
		t.Errorf("Sam's own page does not say %q; its banner says %q", ownAccountBanner, got)
	}
	mustDo(t, ctx, "type the reason for the reset",
		chromedp.SendKeys(chromedp.ID("reset-mfa-reason"), reason, chromedp.NodeVisible))
	resp := clickAndWait(t, ctx, "click Reset security codes", resetButton)
	if resp.Status != 403 {
		t.Errorf("resetting his own account answered %d, want 403", resp.Status)
	}
	if got := heading(t, ctx); got != "Sam Support" {
		t.Errorf("after the refusal the heading is %q, want %q", got, "Sam Support")
	}
	if title := mustRun(t, ctx, "read the title", chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title = %q, want it to start with %q", title, "Error: ")
	}
	if got := text(t, ctx, "#reset-mfa-reason-error"); !strings.Contains(got, ownAccountRefusal) {
		t.Errorf("the message next to the reason says %q, want it to contain %q", got, ownAccountRefusal)
	}
	summary := text(t, ctx, ".error-summary")
	if !strings.Contains(summary, ownAccountRefusal) {
		t.Errorf("the error summary does not say %q; it says:\n%s", ownAccountRefusal, summary)
	}
	href := mustRun(t, ctx, "read the summary's link", chromedp.AttributeValue(chromedp.CSS(".error-summary a"), "href"))
	if href.Value != "#reset-mfa-reason" {
		t.Errorf("the error summary links to %q, want #reset-mfa-reason", href.Value)
	}
	if got := mustRun(t, ctx, "read the reason", chromedp.Value(chromedp.ID("reset-mfa-reason"))); got != reason {
		t.Errorf("the reason field holds %q after the refusal, want %q (kept)", got, reason)
	}

	// Nothing was reset.
	mustDo(t, ctx, "open his page again", chromedp.Navigate(srv.URL+"/admin/people/"+sam.Username))
	expectPage(t, ctx, "/admin/people/"+sam.Username, "Sam Support")
	if main := text(t, ctx, "main"); !strings.Contains(main, "Email codes") || strings.Contains(main, "Not set up.") {
		t.Errorf("after the refusal Sam's page does not list his email codes; it says:\n%s", main)
	}
	for _, r := range historyRows(t, ctx) {
		if len(r) > 2 && strings.Contains(r[1], resetKind) && !strings.Contains(strings.ToLower(r[2]), "refused") &&
			!strings.Contains(strings.ToLower(r[2]), "denied") && !strings.Contains(strings.ToLower(r[2]), "fail") {
			t.Errorf("Sam's history shows a reset of his own codes: %q", r)
		}
	}
}

// 3. Someone who cannot sign in finds help from the sign-in page: the
// dates of the configured rollout and the support contacts, as links.
func TestHelpPage(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)

	mustDo(t, ctx, "open the sign-in page", chromedp.Navigate(srv.URL+"/login"))
	expectPage(t, ctx, "/login", signInHeading)
	clickAndWait(t, ctx, "click Get help signing in", helpLink)
	expectPage(t, ctx, "/help", helpHeading)

	schedule := mustRun(t, ctx, "read the schedule", chromedp.Evaluate[string](`(() => {
		const h = document.getElementById("when");
		const t = h && h.nextElementSibling;
		return t && t.tagName == "TABLE" ? t.innerText : "";
	})()`))
	if schedule == "" {
		t.Fatalf("the help page has no schedule table under %q; it says:\n%s", "When do I have to do this?", text(t, ctx, "main"))
	}
	phases := rolloutPhases(t, srv)
	if len(phases) < 4 {
		t.Errorf("the demo's rollout line names %d phases, want 4: %v", len(phases), phases)
	}
	for name, start := range phases {
		if want := longDate(start); !strings.Contains(schedule, want) {
			t.Errorf("the schedule does not give the date of %s, %q; it says:\n%s", name, want, schedule)
		}
	}

	type link struct{ Href, Text string }
	links := mustRun(t, ctx, "read the contact links", chromedp.Evaluate[[]link](
		`Array.from(document.querySelectorAll('main a[href^="mailto:"], main a[href^="tel:"]'),
			a => ({Href: a.getAttribute("href"), Text: a.textContent.trim()}))`))
	var mailto, tel bool
	for _, l := range links {
		switch {
		case strings.HasPrefix(l.Href, "mailto:"):
			mailto = true
			if l.Href != "mailto:support@example.com" || l.Text != "support@example.com" {
				t.Errorf("the email link is %q reading %q, want mailto:support@example.com reading support@example.com", l.Href, l.Text)
			}
		case strings.HasPrefix(l.Href, "tel:"):
			tel = true
			number, err := url.PathUnescape(strings.TrimPrefix(l.Href, "tel:"))
			if err != nil || strings.ReplaceAll(number, " ", "") != "+442079460000" || l.Text != "+44 20 7946 0000" {
				t.Errorf("the phone link is %q reading %q, want tel:+442079460000 (spaces allowed) reading +44 20 7946 0000", l.Href, l.Text)
			}
		}
	}
	if !mailto || !tel {
		t.Errorf("the help page's contacts are not a mailto: and a tel: link; its links are %q", links)
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "Monday to Friday, 9am to 5pm") {
		t.Errorf("the help page does not give the support hours %q; it says:\n%s", "Monday to Friday, 9am to 5pm", main)
	}
}

// rolloutPhases returns every phase of the demo's "The rollout: ..." line,
// by name.
func rolloutPhases(t *testing.T, srv *server) map[string]time.Time {
	t.Helper()
	srv.phaseStart(t, optionalPhase) // waits for the line
	srv.out.mu.Lock()
	defer srv.out.mu.Unlock()
	return maps.Clone(srv.out.rollout)
}

// screenshotsEnv names the folder TestScreenshots writes to; without it,
// e2e/screenshots in the repository (ignored by git).
const screenshotsEnv = "MFAGATE_SCREENSHOTS"

// screenshotWidths are the widths of the screenshots: a small phone and a
// laptop.
var screenshotWidths = []int64{360, 1280}

// 4. Screenshots of the main pages at a phone's and a laptop's width, for
// reviewers. The journey fails only when a page cannot be reached; what
// the pictures show is for people to judge. Pages wider than the window
// at 360 px are logged.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	dir := screenshotDir(t)
	srv := startServer(t)
	ctx := newBrowser(t)
	ada, sam := srv.account(t, "ada"), srv.account(t, "sam")
	shoot := func(name string) { shootPage(t, ctx, dir, name) }

	// Anyone.
	mustDo(t, ctx, "open the sign-in page", chromedp.Navigate(srv.URL+"/login"))
	expectPage(t, ctx, "/login", signInHeading)
	shoot("signin")
	mustDo(t, ctx, "open the help page", chromedp.Navigate(srv.URL+"/help"))
	expectPage(t, ctx, "/help", helpHeading)
	shoot("help")
	submitSignIn(t, ctx, srv, ada.Username, ada.Password+"-wrong")
	expectPage(t, ctx, "/login", signInHeading)
	mustDo(t, ctx, "find the error summary", chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	shoot("signin-error")
	mustDo(t, ctx, "open the forgotten-password page", chromedp.Navigate(srv.URL+"/login/forgot"))
	expectPage(t, ctx, "/login/forgot", forgotHeading)
	shoot("forgot-password")
	mustDo(t, ctx, "open the demo's outbox", chromedp.Navigate(srv.URL+"/dev/outbox"))
	shoot("demo-outbox")

	// Ada sets up email codes, then looks at adding an app.
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	shoot("setup")
	chooseMethod(t, ctx, "email")
	expectPage(t, ctx, "/mfa/setup/email", checkEmailHeading)
	shoot("email-code")
	enterCode(t, ctx, emailedCode(t, srv, demoEmail(ada), 0), continueButton)
	expectPage(t, ctx, "/mfa/recovery-codes", recoveryCodesHeading)
	shoot("recovery-codes")
	clickAndWait(t, ctx, "click I've saved them — continue", savedButton)
	expectSignedIn(t, ctx)
	shoot("home")
	mustDo(t, ctx, "open the change-password page", chromedp.Navigate(srv.URL+"/account/password"))
	expectPage(t, ctx, "/account/password", "Change your password")
	shoot("change-password")
	mustDo(t, ctx, "open a page that does not exist", chromedp.Navigate(srv.URL+"/no-such-page"))
	shoot("not-found")
	mustDo(t, ctx, "open the account page", chromedp.Navigate(srv.URL+"/account"))
	if got := pagePath(t, ctx); got != "/account" {
		t.Fatalf("the account page led to %s (%q)", got, heading(t, ctx))
	}
	shoot("account")
	clickAndWait(t, ctx, "click Set up an authenticator app", setUpAppLink)
	expectPage(t, ctx, "/mfa/setup/totp", totpSetupHeading)
	shoot("totp-setup")
	signOut(t, ctx)

	// Her next sign-in asks for an emailed code.
	before := len(mailsTo(t, srv, demoEmail(ada), codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	shoot("challenge")
	enterCode(t, ctx, emailedCode(t, srv, demoEmail(ada), before), continueButton)
	expectSignedIn(t, ctx)
	signOut(t, ctx)

	// The console, as Sam (operator and support).
	setUpStaff(t, ctx, srv, sam)
	for _, p := range []struct{ path, h1, name string }{
		{"/admin", dashboardHeading, "console-dashboard"},
		{"/admin/people", peopleHeading, "console-people"},
		{"/admin/people/" + ada.Username, "Ada Administrator", "console-person"},
		{"/admin/audit", auditHeading, "console-audit"},
		{"/admin/add-person", addPersonHeading, "console-add-person"},
	} {
		mustDo(t, ctx, "open "+p.path, chromedp.Navigate(srv.URL+p.path))
		expectPage(t, ctx, p.path, p.h1)
		shoot(p.name)
	}
	t.Logf("saved screenshots of 19 pages at %v px wide in %s", screenshotWidths, dir)
}

// shootPage saves full-page PNG screenshots of the current page at each
// of screenshotWidths, as dir/WIDTH-name.png. At 360 px it logs what
// sticks out to the right of the window, which a person on a phone would
// have to scroll sideways to read (tables in a scrolling region excepted).
func shootPage(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	defer chromedp.Do(sctx, chromedp.ResetViewport())
	// A phone's scrollbars take no room; hidden, they leave every width
	// to the page.
	if _, err := chromedp.Call(sctx, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true}); err != nil {
		t.Logf("hide the scrollbars: %v", err)
	}
	defer chromedp.Call(sctx, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: false})
	for _, width := range screenshotWidths {
		if err := chromedp.Do(sctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatalf("set the viewport to %d px for %s: %v", width, name, err)
		}
		if width == screenshotWidths[0] {
			wide, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](`(() => {
				const w = document.documentElement.clientWidth, out = [];
				for (const el of document.querySelectorAll("body *")) {
					if (el.closest(".table-scroll") || el.closest(".visually-hidden") || el.offsetParent === null) continue;
					const r = el.getBoundingClientRect();
					if (r.width > 0 && r.right > w + 1) {
						const id = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className == "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
						out.push(id + " right edge " + Math.round(r.right) + " px");
					}
				}
				if (document.documentElement.scrollWidth > w) out.unshift("the page is " + document.documentElement.scrollWidth + " px wide in a " + w + " px window");
				return out.slice(0, 12);
			})()`))
			if err != nil {
				t.Logf("measure %s at %d px: %v", name, width, err)
			} else if len(wide) > 0 {
				t.Logf("%s at %d px: wider than the window: %s", name, width, strings.Join(wide, "; "))
			}
		}
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("take a screenshot of %s at %d px: %v", name, width, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%d-%s.png", width, name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatalf("save a screenshot: %v", err)
		}
	}
}

// TestPersonPageShowsWhatApplies: Uma has set nothing up and is signed in
// nowhere, so her page offers no unlock, no sign-out and no reset: only
// what would do something. Each reason box has its own example; the last
// day of an extension is typed as a person writes it, and a day that does
// not exist is refused by name, saving nothing.
func TestPersonPageShowsWhatApplies(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	sam, uma := srv.account(t, "sam"), srv.account(t, "uma")
	const name = "Uma User"

	setUpStaff(t, ctx, srv, sam)
	openPerson(t, ctx, uma.Username, name)
	buttons := mustRun(t, ctx, "read the buttons", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('main form button'), b => b.textContent.trim())`))
	for _, absent := range []string{"Unlock", "Sign out everywhere", "Reset security codes", "Send a new code"} {
		if slices.Contains(buttons, absent) {
			t.Errorf("Uma's page offers %q, which does nothing for her; its buttons are %q", absent, buttons)
		}
	}
	if !slices.Contains(buttons, "Give more time") {
		t.Fatalf("Uma's page has no %q; its buttons are %q", "Give more time", buttons)
	}
	hints := mustRun(t, ctx, "read the reason hints", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('main p.hint[id$="reason-hint"]'), p => p.textContent.trim())`))
	seen := map[string]bool{}
	for _, h := range hints {
		if !strings.HasPrefix(h, `Kept in the audit log, for example "`) || seen[h] {
			t.Errorf("reason hint %q is not an example of its own; the hints are %q", h, hints)
		}
		seen[h] = true
	}

	const reason = "On leave until the end of the month, agreed with their manager"
	extend := func(day string) {
		t.Helper()
		mustDo(t, ctx, "type the last day "+day, chromedp.SetValue(chromedp.ID("extend-until"), day), chromedp.SetValue(chromedp.ID("extend-reason"), reason))
		clickAndWait(t, ctx, "click Give more time", `//main//form//button[normalize-space()="Give more time"]`)
	}
	extend("31 June 2027")
	if msg := text(t, ctx, "#extend-until-error"); !strings.Contains(msg, "31 June 2027") {
		t.Errorf("the error for 31 June 2027 says %q, want it to name what was typed", msg)
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "Extension\nNone") && !strings.Contains(main, "Extension None") {
		t.Errorf("a day that does not exist saved an extension; the page says:\n%s", main)
	}
	extend("20 July 2027")
	if main := text(t, ctx, "main"); !strings.Contains(main, "Until 20 July 2027") {
		t.Errorf("after giving Uma until 20 July 2027 her page says:\n%s", main)
	}
}
