package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/totp"
)

// The journeys of setting up and using second factors (issue 3). The two
// authenticator journeys wait for a fresh 30-second step of the app's
// clock, and the five wrong codes wait for the throttle, so these three
// run in parallel with each other, after the others.
// Today the demo's rollout offers setup to administrators only, so these
// journeys sign in as Ada; Uma and Sam sign in straight through until full
// enforcement (see phases_test.go).

func TestSetUpEmailCodes(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	address := setUpEmail(t, ctx, srv)
	saveRecoveryCodes(t, ctx, false)
	if main := text(t, ctx, "main"); !strings.Contains(main, "Ada Administrator") {
		t.Errorf("the signed-in page does not show the name %q; it says:\n%s", "Ada Administrator", main)
	}

	// Next time, the password step emails a code at once.
	signOut(t, ctx)
	before := len(mailsTo(t, srv, address, codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	if got := pageQuery(t, ctx).Get("method"); got != "email" {
		t.Errorf("the challenge's method is %q, want email", got)
	}
	if got := shownAddress(t, ctx); got != address {
		t.Errorf("the challenge says the code went to %q, want %q", got, address)
	}
	checkCodeField(t, ctx)
	mustDo(t, ctx, "find the link to a recovery code", chromedp.WaitVisible(recoveryLink))
	code := emailedCode(t, srv, address, before)
	enterCode(t, ctx, code, continueButton)
	expectSignedIn(t, ctx)
}

func TestSetUpAuthenticatorApp(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	secret, setupStep := setUpApp(t, ctx, true)
	codes := saveRecoveryCodes(t, ctx, true)
	kept := codes[len(codes)-1]

	// Signing in again asks for the app's code; the code used at setup
	// cannot be used again, so wait for the app to show a new one.
	signOut(t, ctx)
	step := freshStep(t, setupStep, 5*time.Second)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	if got := pageQuery(t, ctx).Get("method"); got != "totp" {
		t.Errorf("the challenge's method is %q, want totp", got)
	}
	checkCodeField(t, ctx)
	mustDo(t, ctx, "find the links to the other ways",
		chromedp.WaitVisible(recoveryLink))
	if n := mustRun(t, ctx, "look for the email link", chromedp.Evaluate[int](
		`Array.from(document.querySelectorAll("main a")).filter(a => a.textContent.trim() == "Get a code by email instead").length`)); n != 0 {
		t.Errorf("the challenge offers %q to Ada, who has not set up email", "Get a code by email instead")
	}
	enterCode(t, ctx, totp.Code(secret, step), continueButton)
	expectSignedIn(t, ctx)

	// A recovery code instead of the app.
	signOut(t, ctx)
	address := userEmail(t, srv, ada)
	before := len(mailsTo(t, srv, address, recoveryUsedSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	clickAndWait(t, ctx, "click Use a recovery code", recoveryLink)
	expectPage(t, ctx, "/mfa/challenge", recoveryHeading)
	mustDo(t, ctx, "find the link back to the app", chromedp.WaitVisible(appLink))
	enterCode(t, ctx, kept, continueButton)
	expectSignedIn(t, ctx)
	m := waitMail(t, srv, address, recoveryUsedSubject, before)
	if !strings.Contains(m.Body, "9 left") {
		t.Errorf("the %q email does not say 9 codes are left:\n%s", recoveryUsedSubject, m.Body)
	}

	// The same recovery code works only once.
	signOut(t, ctx)
	signIn(t, ctx, srv, ada)
	clickAndWait(t, ctx, "click Use a recovery code", recoveryLink)
	expectPage(t, ctx, "/mfa/challenge", recoveryHeading)
	enterCode(t, ctx, kept, continueButton)
	expectPage(t, ctx, "/mfa/challenge", recoveryHeading)
	expectCodeError(t, ctx, "That recovery code is not correct, or it has been used already. Check it and try again")
	if c := findCookie(t, ctx, srv.URL, sessionCookie); c != nil {
		mustDo(t, ctx, "open the home page", chromedp.Navigate(srv.URL+"/"))
		if got := heading(t, ctx); got == signedInHeading {
			t.Errorf("a recovery code used once before signed Ada in again")
		}
	}
}

func TestWrongEmailCodeFiveTimes(t *testing.T) {
	t.Parallel() // it waits for the throttle between wrong codes
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	address := setUpEmail(t, ctx, srv)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)

	before := len(mailsTo(t, srv, address, codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	challengeURL := mustRun(t, ctx, "read the location", chromedp.Location())
	code := emailedCode(t, srv, address, before)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	for i := 1; i <= 5; i++ {
		enterCodeWaiting(t, ctx, challengeURL, wrong)
		expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
		expectCodeError(t, ctx, "That code is not correct. Check the email and try again")
		// Ada is warned by email after the third wrong code, once.
		if i == 3 {
			waitMail(t, srv, address, wrongCodesSubject, 0)
		}
		warned := len(mailsTo(t, srv, address, wrongCodesSubject))
		switch {
		case i < 3 && warned != 0:
			t.Errorf("after %d wrong codes the outbox already has %q", i, wrongCodesSubject)
		case i >= 3 && warned != 1:
			t.Errorf("after %d wrong codes the outbox has %d emails %q, want 1", i, warned, wrongCodesSubject)
		}
	}

	// The code is dead after five wrong tries, even the right one.
	enterCodeWaiting(t, ctx, challengeURL, code)
	if got := heading(t, ctx); got != wrongTooOftenHeading {
		t.Fatalf("the right code after five wrong ones shows the heading %q, want %q; the page says:\n%s",
			got, wrongTooOftenHeading, text(t, ctx, "main"))
	}
	mustDo(t, ctx, "find the way back to the sign-in page",
		chromedp.WaitVisible(`//main//a[normalize-space()="Go to the sign-in page"]`))
	saveScreenshots(t, ctx, "wrong-code-too-often")
	mustDo(t, ctx, "open the home page", chromedp.Navigate(srv.URL+"/"))
	if got := heading(t, ctx); got == signedInHeading {
		t.Errorf("after five wrong codes the right one signed Ada in")
	}
}

func TestTOTPReplayIsRefused(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	secret, setupStep := setUpApp(t, ctx, false)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)
	address := userEmail(t, srv, ada)

	// Early in a fresh step, so that both sign-ins fall in it.
	step := freshStep(t, setupStep, 20*time.Second)
	c := totp.Code(secret, step)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	enterCode(t, ctx, c, continueButton)
	expectSignedIn(t, ctx)
	signOut(t, ctx)

	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	if now := totp.Step(time.Now()); now != step {
		t.Fatalf("the step changed (%d to %d) before the code could be entered again; the journey is too slow", step, now)
	}
	enterCode(t, ctx, c, continueButton)
	expectPage(t, ctx, "/mfa/challenge", totpChallengeHeading)
	expectCodeError(t, ctx, "That code has already been used. Wait for your app to show a new one")
	saveScreenshots(t, ctx, "totp-challenge-replayed")
	waitMail(t, srv, address, replayedSubject, 0)
}

func TestSkipForNow(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	main := text(t, ctx, "main")
	for _, want := range []string{"Email", "Authenticator app for smartphone, tablet or computer"} {
		if !strings.Contains(main, want) {
			t.Errorf("the setup page does not offer %q; it says:\n%s", want, main)
		}
	}
	for _, id := range []string{"method-email", "method-totp"} {
		if checked := mustRun(t, ctx, "read #"+id, chromedp.JavascriptAttribute[bool](chromedp.ID(id), "checked")); checked {
			t.Errorf("#%s is selected before the person chose", id)
		}
	}
	skipSetup(t, ctx)
	expectSignedIn(t, ctx)

	signOut(t, ctx)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	skipSetup(t, ctx)
	expectSignedIn(t, ctx)
}

// userEmail returns the email address of a, from the emails the outbox
// holds for a (setting up a factor sends one, naming the account).
func userEmail(t *testing.T, srv *server, a demoAccount) string {
	t.Helper()
	for _, m := range readOutbox(t, srv) {
		if strings.Contains(m.Body, "account "+a.Username+" ") {
			return m.To
		}
	}
	t.Fatalf("no email in the outbox names the account %s, so its address is unknown", a.Username)
	return ""
}

// TestExpiredEmailCode: Ada comes back to the challenge after her code
// has expired. The error has "Send a new code" right by it, visible
// without opening "Problems with the code?"; after sending, the page says
// where the new code went and when, and the new code signs her in.
func TestExpiredEmailCode(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	signIn(t, ctx, srv, ada)
	address := setUpEmail(t, ctx, srv)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)

	before := len(mailsTo(t, srv, address, codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	shown := shownAddress(t, ctx)
	code := emailedCode(t, srv, address, before)

	expireEmailCodes(t, srv)
	enterCode(t, ctx, code, continueButton)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	expectCodeError(t, ctx, "That code has expired")
	const sendAgain = `//main//form[contains(@class, "send-again")]//button[normalize-space()="Send a new code"]`
	if n := count(t, ctx, "details.details[open]"); n != 0 {
		t.Errorf("%q is open; the way out of an expired code must not need it", "Problems with the code?")
	}
	// Visible as the page stands: nothing is clicked open first.
	visible := mustRun(t, ctx, "check Send a new code is visible", chromedp.Evaluate[bool](
		`(() => { const b = document.evaluate(`+jsString(sendAgain)+`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		  if (!b) return false; const r = b.getBoundingClientRect(); return r.width > 0 && r.height > 0 && b.checkVisibility(); })()`))
	if !visible {
		t.Fatalf("no visible %q by the expired code's error; the page says:\n%s", "Send a new code", text(t, ctx, "main"))
	}
	saveScreenshots(t, ctx, "challenge-expired-code")

	before = len(mailsTo(t, srv, address, codeSubject))
	clickAndWait(t, ctx, "click Send a new code", sendAgain)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	notice := text(t, ctx, ".notice")
	if want := "A new code is on its way to " + shown + ", sent at "; !strings.Contains(notice, want) {
		t.Errorf("after sending again the page's notice says %q, want it to start %q", notice, want)
	}
	fresh := emailedCode(t, srv, address, before)
	enterCode(t, ctx, fresh, continueButton)
	expectSignedIn(t, ctx)
}
