package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRecoveryCodeTypedLoosely: on a phone-sized screen, a person types a
// recovery code from paper in lower case, with spaces and a 0 for each O,
// and gets in. Before that, codes that cannot be right (too short, with an
// 8, a 1) are refused with a message that says what is wrong, stay in the
// field to be mended, and cost no tries: the right code works at once
// after them.
func TestRecoveryCodeTypedLoosely(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")
	mustDo(t, ctx, "make the window 360 px wide", chromedp.EmulateViewport(360, 800))

	signIn(t, ctx, srv, ada)
	address := setUpEmail(t, ctx, srv)
	// A code with an O in it, to type as 0; about 1 set of ten in 160 has
	// none, so ask for new ones then.
	var code string
	for tries := 0; code == ""; tries++ {
		expectPage(t, ctx, "/mfa/recovery-codes", recoveryCodesHeading)
		codes := mustRun(t, ctx, "read the recovery codes", chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("ol.code-list li code"), c => c.textContent.trim())`))
		for _, c := range codes {
			if strings.Contains(c, "O") {
				code = c
				break
			}
		}
		if code == "" {
			if tries == 10 {
				t.Fatalf("no recovery code with an O in 10 sets: %q", codes)
			}
			clickAndWait(t, ctx, "click Get new codes", newCodesButton)
		}
	}
	clickAndWait(t, ctx, "click I've saved them — continue", savedButton)
	expectSignedIn(t, ctx)

	signOut(t, ctx)
	signIn(t, ctx, srv, ada)
	expectPage(t, ctx, "/mfa/challenge", checkEmailHeading)
	clickAndWait(t, ctx, "click Use a recovery code", recoveryLink)
	expectPage(t, ctx, "/mfa/challenge", recoveryHeading)

	flat := strings.ReplaceAll(code, "-", "")
	for _, bad := range []struct{ typed, message string }{
		{flat[:15], "A recovery code has 16 letters and numbers; you entered 15"},
		{flat[:15] + "8", "A recovery code uses only the letters A to Z and the numbers 2 to 7; ‘8’ is not one of them"},
		{"1" + flat[1:], "A recovery code has no number 1. Type the letter I or the letter L, whichever your code shows"},
	} {
		enterCode(t, ctx, bad.typed, continueButton)
		expectPage(t, ctx, "/mfa/challenge", recoveryHeading)
		expectCodeError(t, ctx, bad.message)
		if kept := mustRun(t, ctx, "read the code field", chromedp.Evaluate[string](`document.getElementById("code").value`)); kept != bad.typed {
			t.Errorf("after %q the field holds %q, want what was typed, to mend", bad.typed, kept)
		}
		if strings.HasSuffix(bad.typed, "8") {
			saveScreenshots(t, ctx, "recovery-code-malformed")
			mustDo(t, ctx, "make the window 360 px wide again", chromedp.EmulateViewport(360, 800))
		}
		if wide := mustRun(t, ctx, "measure the page", chromedp.Evaluate[bool](
			`document.documentElement.scrollWidth > document.documentElement.clientWidth`)); wide {
			t.Errorf("the error page for %q scrolls sideways at 360 px", bad.typed)
		}
	}

	typed := strings.ReplaceAll(strings.ToLower(code[:4]+" "+code[5:9]+" "+code[10:14]+" "+code[15:]), "o", "0")
	before := len(mailsTo(t, srv, address, recoveryUsedSubject))
	enterCode(t, ctx, typed, continueButton)
	expectSignedIn(t, ctx)
	if m := waitMail(t, srv, address, recoveryUsedSubject, before); !strings.Contains(m.Body, "9 left") {
		t.Errorf("the %q email does not say 9 codes are left:\n%s", recoveryUsedSubject, m.Body)
	}
}
