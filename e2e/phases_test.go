package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/totp"
)

// The journeys of the dated rollout (issue 4): one per story, each at the
// date it is about. The demo places its four phases around the real date
// (Communication 14 days ago, Optional enrollment 2 days ago, Email
// verification required for administrators in 14 days, Full enforcement
// for everyone in 30 days); a journey about another date starts the demo
// with --clock DATE --rehearsal, and a journey about a deadline passing
// restarts the demo on the same data folder at a later clock.
//
// The clocks are whole days away from a phase boundary, so a journey that
// runs across midnight UTC (the demo then places its phases a day later)
// still stands in the phase it is about. The dates the pages must name
// are read from the "The rollout: ..." line the demo prints.

// The demo's phases, as its rollout line names them.
const (
	optionalPhase      = "Optional enrollment"
	emailRequiredPhase = "Email verification required"
	fullPhase          = "Full enforcement"
)

// The rollout's emails, as the outbox shows them.
const (
	noticeSubject         = "Sign-in is getting a second step"
	reminderSubjectPrefix = "Reminder: set up your security codes before "
)

const (
	rehearsalPrefix = "Rehearsal: this server is running as if it were "
	setItUpNowLink  = `//div[contains(concat(" ", normalize-space(@class), " "), " banner ")]//a[normalize-space()="Set it up now"]`
	setUpAppLink    = `//main//a[normalize-space()="Set up an authenticator app"]`
)

// dayFromToday returns the date days after today (UTC), as --clock takes it.
func dayFromToday(days int) string {
	return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly)
}

// longDate writes a date as the pages do, such as "11 December 2026".
func longDate(t time.Time) string {
	return t.UTC().Format("2 January 2006")
}

// demoEmail is the address the demo gives account a.
func demoEmail(a demoAccount) string {
	return a.Username + "@example.com"
}

// count returns how many elements match the CSS selector sel.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return mustRun(t, ctx, "count "+sel, chromedp.Evaluate[int](
		`document.querySelectorAll(`+jsString(sel)+`).length`))
}

// jsString quotes s as a JavaScript string literal (s holds no backslash
// or newline).
func jsString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// expectRehearsal checks the rehearsal banner names the day of clock.
func expectRehearsal(t *testing.T, ctx context.Context, clock string) {
	t.Helper()
	if n := count(t, ctx, "div.rehearsal"); n != 1 {
		t.Fatalf("the page shows %d rehearsal banners, want 1; the page says:\n%s", n, text(t, ctx, "body"))
	}
	day, err := time.Parse(time.DateOnly, clock)
	if err != nil {
		t.Fatalf("clock %q: %v", clock, err)
	}
	got := text(t, ctx, "div.rehearsal")
	if want := rehearsalPrefix + day.Format("Monday 2 January 2006"); !strings.HasPrefix(got, want) {
		t.Errorf("the rehearsal banner says %q, want it to start with %q", got, want)
	}
}

// expectNoSkip checks that the page offers no way to skip.
func expectNoSkip(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := count(t, ctx, `form[action="/mfa/setup/skip"]`); n != 0 {
		t.Errorf("the page has %d forms to skip setting up; skipping is no longer allowed", n)
	}
	if main := text(t, ctx, "main"); strings.Contains(main, "Skip for now") {
		t.Errorf("the page offers %q; skipping is no longer allowed. It says:\n%s", "Skip for now", main)
	}
}

// expectWhyRequired checks that a setup page says from which day the
// organisation requires a second step, and has a way out that is not a
// skip: signing out.
func expectWhyRequired(t *testing.T, ctx context.Context, since time.Time) {
	t.Helper()
	main := text(t, ctx, "main")
	if want := "From " + longDate(since) + " your organisation requires a second step when you sign in."; !strings.Contains(main, want) {
		t.Errorf("the setup page does not say %q; it says:\n%s", want, main)
	}
	if strings.Contains(strings.ToLower(main), "skip it for now") {
		t.Errorf("the setup page says it can be skipped where it cannot; it says:\n%s", main)
	}
	mustDo(t, ctx, "find Cancel and sign out", chromedp.WaitVisible(cancelSignOutButton))
}

// cancelSignOutButton is the way out of a setup page while signing in.
const cancelSignOutButton = `//main//form[@action="/logout"]//button[normalize-space()="Cancel and sign out"]`

// expectBothMethods checks that the setup page offers email and the app,
// neither chosen yet.
func expectBothMethods(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, id := range []string{"method-email", "method-totp"} {
		if n := count(t, ctx, "#"+id); n != 1 {
			t.Errorf("the setup page has no #%s radio", id)
			continue
		}
		if checked := mustRun(t, ctx, "read #"+id, chromedp.JavascriptAttribute[bool](chromedp.ID(id), "checked")); checked {
			t.Errorf("#%s is selected before the person chose", id)
		}
	}
}

// rolloutMails returns the outbox messages to address whose subject starts
// with prefix, newest first.
func rolloutMails(t *testing.T, srv *server, address, prefix string) []mail {
	t.Helper()
	var out []mail
	for _, m := range readOutbox(t, srv) {
		if m.To == address && strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// waitRolloutMail waits for an email to address whose subject starts with
// prefix (the scheduler queues them at start-up, in one go for everyone)
// and returns the newest.
func waitRolloutMail(t *testing.T, srv *server, address, prefix string) mail {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ms := rolloutMails(t, srv, address, prefix); len(ms) > 0 {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox holds no email %q… to %s; it holds:\n%v", prefix, address, readOutbox(t, srv))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// campaignPassRE reads the count of the rollout email job's passes that
// ended well from the server's metrics.
var campaignPassRE = regexp.MustCompile(`(?m)^mfagate_rollout_campaign_passes_total\{result="ok"\} (\d+)$`)

// waitCampaignPass waits until the server's rollout email job reports a
// finished pass (in its metrics), so that what it queues is in the outbox.
func waitCampaignPass(t *testing.T, srv *server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := newHTTPClient().Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatalf("GET /metrics: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics = %s, %v", resp.Status, err)
		}
		if m := campaignPassRE.FindSubmatch(body); m != nil && string(m[1]) != "0" {
			return
		}
		if m := campaignPassRE.FindSubmatch(body); m == nil {
			t.Fatalf("the metrics do not count the rollout email job's passes:\n%s", body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the rollout email job has not finished a pass within 10 seconds of start-up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectNoRolloutMail checks that no email to address has a subject
// starting with prefix.
func expectNoRolloutMail(t *testing.T, srv *server, address, prefix string) {
	t.Helper()
	if ms := rolloutMails(t, srv, address, prefix); len(ms) > 0 {
		t.Errorf("the outbox holds %d emails %q to %s, want none: %v", len(ms), ms[0].Subject, address, ms)
	}
}

// 1. Before the notice nothing changes: Ada signs in with her password
// alone, and no email has gone out. The banner says an email is coming
// and that sign-in stays as it is.
func TestPhaseBeforeNotice(t *testing.T) {
	clock := dayFromToday(-20)
	srv := startDemo(t, demoOptions{Clock: clock})
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	expectSignedIn(t, ctx)
	expectRehearsal(t, ctx, clock)
	notice := longDate(srv.phaseStart(t, "Communication"))
	if banner, want := text(t, ctx, "div.banner"), "From "+notice+" you will get an email explaining what is coming; nothing changes when you sign in."; banner != want {
		t.Errorf("before the rollout is announced the banner says %q, want %q", banner, want)
	}
	// The rollout email job passes at start-up: once it says it has, a
	// notice or reminder it wrongly sent would be in the outbox.
	waitCampaignPass(t, srv)
	expectNoRolloutMail(t, srv, demoEmail(ada), noticeSubject)
	expectNoRolloutMail(t, srv, demoEmail(ada), reminderSubjectPrefix)
}

// 2. Communication: sign-in is unchanged, and administrators, and only
// they, get the notice.
func TestPhaseCommunication(t *testing.T) {
	clock := dayFromToday(-10)
	srv := startDemo(t, demoOptions{Clock: clock})
	ctx := newBrowser(t)
	ada, uma := srv.account(t, "ada"), srv.account(t, "uma")

	signIn(t, ctx, srv, ada)
	expectSignedIn(t, ctx)
	expectRehearsal(t, ctx, clock)

	m := waitRolloutMail(t, srv, demoEmail(ada), noticeSubject)
	if m.Subject != noticeSubject {
		t.Errorf("the notice's subject is %q, want %q", m.Subject, noticeSubject)
	}
	if !strings.Contains(m.Body, "second step") {
		t.Errorf("the notice does not explain the second step:\n%s", m.Body)
	}
	expectNoRolloutMail(t, srv, demoEmail(uma), noticeSubject)
	if n := len(rolloutMails(t, srv, demoEmail(ada), noticeSubject)); n != 1 {
		t.Errorf("Ada got the notice %d times, want once", n)
	}
}

// 3. Optional enrollment (today): Ada is offered setup and may skip it;
// the page and then the home page say when it becomes required; the skip
// lasts for that sign-in only.
func TestPhaseOptionalSkip(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")
	required := longDate(srv.phaseStart(t, emailRequiredPhase))

	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	if n := count(t, ctx, "div.rehearsal"); n != 0 {
		t.Errorf("the demo without --clock shows a rehearsal banner: %s", text(t, ctx, "div.rehearsal"))
	}
	expectBothMethods(t, ctx)
	if main, want := text(t, ctx, "main"), "From "+required+" it will be required"; !strings.Contains(main, want) {
		t.Errorf("the setup page does not say %q; it says:\n%s", want, main)
	}
	skipSetup(t, ctx)
	expectSignedIn(t, ctx)
	banner := text(t, ctx, "div.banner")
	if want := "From " + required + " you will need to verify a code sent to your email at every sign-in."; !strings.Contains(banner, want) {
		t.Errorf("the home page's banner says %q, want %q", banner, want)
	}
	mustDo(t, ctx, "find Set it up now in the banner", chromedp.WaitVisible(setItUpNowLink))

	signOut(t, ctx)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	mustDo(t, ctx, "find Skip for now", chromedp.WaitVisible(skipButton))
}

// 4. Email verification required: Ada cannot skip; she is taken straight
// to the email code, and may still add an app later. Uma, not an
// administrator, is not asked yet.
func TestPhaseEmailRequired(t *testing.T) {
	clock := dayFromToday(15)
	srv := startDemo(t, demoOptions{Clock: clock})
	ctx := newBrowser(t)
	ada, uma := srv.account(t, "ada"), srv.account(t, "uma")

	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup/email", checkEmailHeading)
	expectRehearsal(t, ctx, clock)
	expectNoSkip(t, ctx)
	expectWhyRequired(t, ctx, srv.phaseStart(t, emailRequiredPhase))
	saveScreenshots(t, ctx, "setup-email-required")
	if got := shownAddress(t, ctx); got != demoEmail(ada) {
		t.Errorf("the page says the code went to %q, want %q", got, demoEmail(ada))
	}
	checkCodeField(t, ctx)
	code := emailedCode(t, srv, demoEmail(ada), 0)
	enterCode(t, ctx, code, continueButton)
	saveRecoveryCodes(t, ctx, false)

	mustDo(t, ctx, "open the account page", chromedp.Navigate(srv.URL+"/account"))
	mustDo(t, ctx, "find Set up an authenticator app", chromedp.WaitVisible(setUpAppLink))
	if main := text(t, ctx, "main"); strings.Contains(main, "Get security codes by email") {
		t.Errorf("the account page offers email codes to Ada, who has them already; it says:\n%s", main)
	}
	signOut(t, ctx)

	signIn(t, ctx, srv, uma)
	expectSignedIn(t, ctx)
	expectRehearsal(t, ctx, clock)
	// What comes next for her is full enforcement, and the home page says so.
	full := longDate(srv.phaseStart(t, fullPhase))
	if banner, want := text(t, ctx, "div.banner"), "From "+full+" you will need to enter a security code at every sign-in."; !strings.Contains(banner, want) {
		t.Errorf("Uma's home page banner says %q, want %q", banner, want)
	}
}

// 5. Full enforcement: Uma, who never signed in before it, is a late
// joiner of a kind: her first sign-in after it starts her own 14 days,
// and the page names their end. When they are over she must set up a
// method, either one, and cannot skip; she chooses the app.
func TestPhaseFullEnforcement(t *testing.T) {
	clock := dayFromToday(31)
	srv := startDemo(t, demoOptions{Clock: clock})
	ctx := newBrowser(t)
	uma := srv.account(t, "uma")

	signIn(t, ctx, srv, uma)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	expectRehearsal(t, ctx, clock)
	ends := srv.now(t).AddDate(0, 0, 14)
	main := text(t, ctx, "main")
	if want := "From " + longDate(ends) + " at "; !strings.Contains(main, want) || !strings.Contains(main, "it will be required") {
		t.Errorf("her first sign-in does not name the end of her 14 days (%q); the page says:\n%s", want, main)
	}
	mustDo(t, ctx, "find Skip for now", chromedp.WaitVisible(skipButton))
	saveScreenshots(t, ctx, "setup-grace")
	skipSetup(t, ctx)
	if banner := text(t, ctx, "div.banner"); !strings.Contains(banner, "You have until "+longDate(ends)+" at ") {
		t.Errorf("the banner does not name her date; it says %q", banner)
	}
	signOut(t, ctx)

	clock = dayFromToday(46)
	srv = restartServer(t, srv, clock)
	signIn(t, ctx, srv, uma)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	expectRehearsal(t, ctx, clock)
	expectBothMethods(t, ctx)
	expectNoSkip(t, ctx)
	if main := text(t, ctx, "main"); !strings.Contains(main, "You need to set this up now") {
		t.Errorf("the setup page does not say it is required now; it says:\n%s", main)
	}
	expectWhyRequired(t, ctx, srv.phaseStart(t, fullPhase))
	// The way out signs her out; the next sign-in asks again.
	clickAndWait(t, ctx, "click Cancel and sign out", cancelSignOutButton)
	expectPage(t, ctx, "/login", signInHeading)
	signIn(t, ctx, srv, uma)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	secret, _ := setUpApp(t, ctx, false)
	checkAppCodeAtRehearsal(t, ctx, srv, secret, finishButton)
	saveRecoveryCodes(t, ctx, false)
}

// Ada may skip three times while setup is optional: each setup page says
// how many skips are left, the third says it is the last, and the next
// sign-in has no skip.
func TestThirdSkipIsTheLast(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	for i, hint := range []string{
		"After this skip you can skip 2 more times.",
		"After this skip you can skip 1 more time.",
		"This is the last time you can skip it: after this, you will need to set it up to sign in.",
	} {
		signIn(t, ctx, srv, ada)
		expectPage(t, ctx, "/mfa/setup", setupHeading)
		if got := text(t, ctx, "form.skip-form .hint"); !strings.Contains(got, hint) {
			t.Errorf("sign-in %d: under Skip for now the page says %q, want %q", i+1, got, hint)
		}
		if i == 2 {
			saveScreenshots(t, ctx, "setup-last-skip")
		}
		skipSetup(t, ctx)
		expectSignedIn(t, ctx)
		signOut(t, ctx)
	}
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	expectNoSkip(t, ctx)
}

// 6. Ada sets up the app while it is optional; when email verification
// becomes required she is asked for her app's code, not sent into email
// setup.
func TestPhaseAppBeforeDeadline(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")
	clock := longLater(srv.phaseStart(t, emailRequiredPhase))

	signIn(t, ctx, srv, ada)
	secret, setupStep := setUpApp(t, ctx, false)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)

	srv = restartServer(t, srv, clock)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	expectRehearsal(t, ctx, clock)
	step := freshStep(t, setupStep, 5*time.Second)
	enterCode(t, ctx, totp.Code(secret, step), continueButton)
	checkAppCodeAtRehearsal(t, ctx, srv, secret, continueButton)
	expectSignedIn(t, ctx)
}

// 7. Ada skips while it is optional; once email verification is required
// the skip is gone and she is taken straight into email setup.
func TestPhaseSkippedUntilDeadline(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")
	clock := longLater(srv.phaseStart(t, emailRequiredPhase))

	signIn(t, ctx, srv, ada)
	skipSetup(t, ctx)
	expectSignedIn(t, ctx)
	signOut(t, ctx)

	srv = restartServer(t, srv, clock)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup/email", checkEmailHeading)
	expectRehearsal(t, ctx, clock)
	expectNoSkip(t, ctx)
	expectWhyRequired(t, ctx, srv.phaseStart(t, emailRequiredPhase))
	saveScreenshots(t, ctx, "setup-email-required")
	code := emailedCode(t, srv, demoEmail(ada), 0)
	enterCode(t, ctx, code, continueButton)
	saveRecoveryCodes(t, ctx, false)
}

// The 7-day reminder before email verification becomes required goes to
// administrators without a factor, and not to others.
func TestPhaseReminder(t *testing.T) {
	clock := dayFromToday(8)
	srv := startDemo(t, demoOptions{Clock: clock})
	ada, uma := srv.account(t, "ada"), srv.account(t, "uma")
	required := srv.phaseStart(t, emailRequiredPhase)

	m := waitRolloutMail(t, srv, demoEmail(ada), reminderSubjectPrefix)
	// The subject then says how many days are left: "(in 7 days)".
	if want := reminderSubjectPrefix + required.UTC().Format("2 January") + " (in "; !strings.HasPrefix(m.Subject, want) || !strings.HasSuffix(m.Subject, " days)") {
		t.Errorf("the reminder's subject is %q, want %q, a number of days and \")\"", m.Subject, want)
	}
	if n := len(rolloutMails(t, srv, demoEmail(ada), reminderSubjectPrefix)); n != 1 {
		t.Errorf("Ada got %d reminders, want 1 (the 7-day one)", n)
	}
	expectNoRolloutMail(t, srv, demoEmail(uma), reminderSubjectPrefix)
	expectNoRolloutMail(t, srv, demoEmail(ada), noticeSubject)
}

// longLater returns the date a day after start, for --clock: well inside
// the phase that starts then, even if the real date changes meanwhile.
func longLater(start time.Time) string {
	return start.UTC().AddDate(0, 0, 1).Format(time.DateOnly)
}

// checkAppCodeAtRehearsal follows the code of a real authenticator app,
// entered at a demo running at a rehearsal clock. The app knows only the
// real time, so the server must take its code. A server that refuses it
// and takes instead the code for its rehearsal time fails the journey:
// rehearsals move only the rollout's time, never codes'.
func checkAppCodeAtRehearsal(t *testing.T, ctx context.Context, srv *server, secret []byte, button string) {
	t.Helper()
	const wrong = "That code is not correct"
	if main := text(t, ctx, "main"); !strings.Contains(main, wrong) {
		return
	}
	at := srv.now(t)
	enterCode(t, ctx, totp.Code(secret, totp.Step(at)), button)
	if main := text(t, ctx, "main"); strings.Contains(main, wrong) {
		t.Fatalf("at --clock %s the server refused the real app's code and the code for its own time; the page says:\n%s", srv.Clock, main)
	}
	t.Fatalf("at --clock %s --rehearsal the server checks authenticator codes "+
		"against the rehearsal time (%s) instead of the real time, so the code a real app shows is refused as "+
		"\"%s\" and only a code for the rehearsal time is taken (it then shows %q)",
		srv.Clock, at.UTC().Format(time.RFC3339), wrong, heading(t, ctx))
}
