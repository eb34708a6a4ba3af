package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Changing one's email address (issue 14, point 4): a signed-in person
// gives a new address, types back the code from the new mailbox, and the
// old mailbox is told.

const (
	changeAddressHeading = "Change your email address"
	addressChangedNotice = "The email address of your account was changed"
	sendCodeButton       = `//main//form//button[normalize-space()="Send the code"]`
	changeAddressLink    = `//main//a[normalize-space()="Change your email address"]`
)

func TestChangeEmailAddress(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")
	const newAddress = "ada.lovelace@new.example.com"

	signIn(t, ctx, srv, ada)
	old := setUpEmail(t, ctx, srv)
	saveRecoveryCodes(t, ctx, false)

	mustDo(t, ctx, "open the account page", chromedp.Navigate(srv.URL+"/account"))
	clickAndWait(t, ctx, "click Change your email address", changeAddressLink)
	expectPage(t, ctx, "/account/email", changeAddressHeading)
	attrs := mustRun(t, ctx, "read the address field", chromedp.Attributes(chromedp.ID("email"), chromedp.NodeVisible))
	for name, want := range map[string]string{"type": "email", "autocomplete": "email", "name": "email"} {
		if got := attrs[name]; got != want {
			t.Errorf("the address field has %s=%q, want %q", name, got, want)
		}
	}
	saveScreenshots(t, ctx, "change-address")

	// A mistyped address is refused next to the field, and kept.
	mustDo(t, ctx, "type a mistyped address", chromedp.SendKeys(chromedp.ID("email"), "ada.lovelace@", chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Send the code", sendCodeButton)
	expectPage(t, ctx, "/account/email", changeAddressHeading)
	if got := text(t, ctx, "#email-error"); !strings.Contains(got, "Enter an email address in the correct format") {
		t.Errorf("the message next to the field says %q", got)
	}
	if got := text(t, ctx, ".error-summary"); !strings.Contains(got, "There is a problem") {
		t.Errorf("the error summary says %q", got)
	}
	saveScreenshots(t, ctx, "change-address-error")

	before := len(mailsTo(t, srv, newAddress, codeSubject))
	mustDo(t, ctx, "type the new address",
		chromedp.Clear(chromedp.ID("email"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("email"), newAddress, chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Send the code", sendCodeButton)
	expectPage(t, ctx, "/account/email/code", checkEmailHeading)
	if got := shownAddress(t, ctx); got != newAddress {
		t.Errorf("the page says the code went to %q, want %q", got, newAddress)
	}
	checkCodeField(t, ctx)
	saveScreenshots(t, ctx, "change-address-code")

	oldBefore := len(mailsTo(t, srv, old, addressChangedNotice))
	code := emailedCode(t, srv, newAddress, before)
	enterCode(t, ctx, code, continueButton)
	expectPage(t, ctx, "/account", "Your account")
	if got := text(t, ctx, "main"); !strings.Contains(got, "Your email address is now "+newAddress) {
		t.Errorf("the account page does not say the address changed; it says:\n%s", got)
	}
	saveScreenshots(t, ctx, "address-changed")

	m := waitMail(t, srv, old, addressChangedNotice, oldBefore)
	for _, want := range []string{"was changed to " + newAddress, "If this was not you, contact your support team"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("the notice to the old address does not say %q:\n%s", want, m.Body)
		}
	}

	// The next sign-in's code goes to the new address.
	signOut(t, ctx)
	before = len(mailsTo(t, srv, newAddress, codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	if got := shownAddress(t, ctx); got != newAddress {
		t.Errorf("the challenge says the code went to %q, want %q", got, newAddress)
	}
	enterCode(t, ctx, emailedCode(t, srv, newAddress, before), continueButton)
	expectSignedIn(t, ctx)
}

// TestSupportChangesEmailAddress: Sam gives Ada a new address from the
// console, with a reason. Ada's next sign-in code still goes to her old
// address; after it she is asked to confirm the new one with a code sent
// there, and from then on codes go to it.
func TestSupportChangesEmailAddress(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	ada, sam := srv.account(t, "ada"), srv.account(t, "sam")
	const newAddress = "ada@new-employer.example.com"

	signIn(t, ctx, srv, ada)
	old := setUpEmail(t, ctx, srv)
	saveRecoveryCodes(t, ctx, false)
	signOut(t, ctx)

	setUpStaff(t, ctx, srv, sam)
	openPerson(t, ctx, ada.Username, "Ada Administrator")
	mustDo(t, ctx, "type the new address and the reason",
		chromedp.SendKeys(chromedp.ID("new-email"), newAddress, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("email-reason"), "Moved to a new employer, identity checked by call-back", chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Change the address", `//main//form//button[normalize-space()="Change the address"]`)
	expectPage(t, ctx, "/admin/people/"+ada.Username, "Ada Administrator")
	if got := text(t, ctx, "main .notice"); !strings.Contains(got, "The new address is saved") {
		t.Errorf("after the change the page says %q", got)
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "Not confirmed yet") || !strings.Contains(main, "security codes still go to "+old) {
		t.Errorf("Ada's page does not say the new address waits; it says:\n%s", main)
	}
	saveScreenshots(t, ctx, "console-address-changed")
	signOut(t, ctx)

	before := len(mailsTo(t, srv, old, codeSubject))
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	if got := shownAddress(t, ctx); got != old {
		t.Errorf("the sign-in code went to %q, want the confirmed address %q", got, old)
	}
	enterCode(t, ctx, emailedCode(t, srv, old, before), continueButton)
	expectPage(t, ctx, "/account/email", "Confirm your email address")
	saveScreenshots(t, ctx, "confirm-address")

	before = len(mailsTo(t, srv, newAddress, codeSubject))
	clickAndWait(t, ctx, "click Send the code", sendCodeButton)
	expectPage(t, ctx, "/account/email/code", checkEmailHeading)
	enterCode(t, ctx, emailedCode(t, srv, newAddress, before), continueButton)
	expectPage(t, ctx, "/account", "Your account")
	if main := text(t, ctx, "main"); strings.Contains(main, "Not confirmed yet") || !strings.Contains(main, "Email codes to "+newAddress) {
		t.Errorf("after confirming, the account page says:\n%s", main)
	}
}
