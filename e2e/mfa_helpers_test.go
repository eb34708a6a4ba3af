package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/totp"
)

// Headings of the second-factor pages, as a person reads them.
const (
	setupHeading         = "Choose how to get security codes"
	checkEmailHeading    = "Check your email"
	totpSetupHeading     = "Set up an authenticator app"
	recoveryCodesHeading = "Save your recovery codes"
	signedInHeading      = "You are signed in"
	totpChallengeHeading = "Enter the code from your authenticator app"
	recoveryHeading      = "Enter a recovery code"
	wrongTooOftenHeading = "You entered the wrong code too many times"
)

// Subjects of the emails the journeys read in the outbox.
const (
	codeSubject         = "Your mfagate security code"
	recoveryUsedSubject = "A recovery code was used to sign in"
	wrongCodesSubject   = "Someone entered wrong security codes for your account"
	replayedSubject     = "A security code was used twice"
)

// The controls a person uses on the second-factor pages, found by what
// they say.
const (
	skipButton     = `//form[@action="/mfa/setup/skip"]//button[normalize-space()="Skip for now"]`
	continueButton = `//main//form//button[normalize-space()="Continue"]`
	finishButton   = `//main//form//button[normalize-space()="Finish setting up"]`
	savedButton    = `//main//form//button[normalize-space()="I've saved them — continue"]`
	newCodesButton = `//main//form//button[normalize-space()="Get new codes"]`
	downloadLink   = `//main//a[normalize-space()="Download as a text file"]`
	recoveryLink   = `//main//a[normalize-space()="Use a recovery code"]`
	appLink        = `//main//a[normalize-space()="Use your authenticator app instead"]`
)

// skipSetup checks that the person was offered to set up security codes
// and clicks "Skip for now", returning the response of the page it leads
// to.
func skipSetup(t *testing.T, ctx context.Context) *network.Response {
	t.Helper()
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	return clickAndWait(t, ctx, "click Skip for now", skipButton)
}

// signIn types the password of a and clicks Sign in.
func signIn(t *testing.T, ctx context.Context, srv *server, a demoAccount) {
	t.Helper()
	submitSignIn(t, ctx, srv, a.Username, a.Password)
}

// signOut clicks Sign out in the header and checks that it worked.
func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	clickAndWait(t, ctx, "click Sign out", signOutButton)
	if got := pagePath(t, ctx); got != "/login" {
		t.Fatalf("after signing out the browser is at %q, want /login", got)
	}
}

// expectPage stops the test unless the browser shows path (with no regard
// to the query) and the heading h1.
func expectPage(t *testing.T, ctx context.Context, path, h1 string) {
	t.Helper()
	gotPath := pagePath(t, ctx)
	gotH1 := heading(t, ctx)
	if gotPath != path || gotH1 != h1 {
		t.Fatalf("the browser shows %s with the heading %q; want %s with %q\nthe page says:\n%s",
			gotPath, gotH1, path, h1, text(t, ctx, "main"))
	}
}

// expectSignedIn checks that the browser shows the signed-in home page.
func expectSignedIn(t *testing.T, ctx context.Context) {
	t.Helper()
	expectPage(t, ctx, "/", signedInHeading)
}

// pageQuery returns the query of the page the browser shows.
func pageQuery(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	loc := mustRun(t, ctx, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("the browser's location %q: %v", loc, err)
	}
	return u.Query()
}

// chooseMethod picks the radio of method ("email" or "totp") on the setup
// page and clicks Continue.
func chooseMethod(t *testing.T, ctx context.Context, method string) {
	t.Helper()
	expectPage(t, ctx, "/mfa/setup", setupHeading)
	mustDo(t, ctx, "choose "+method, chromedp.Click(chromedp.ID("method-"+method), chromedp.NodeVisible))
	checked := mustRun(t, ctx, "read the radio", chromedp.JavascriptAttribute[bool](chromedp.ID("method-"+method), "checked"))
	if !checked {
		t.Fatalf("clicking #method-%s did not select it", method)
	}
	clickAndWait(t, ctx, "click Continue on the setup page", continueButton)
}

// enterCode types code into the #code field, as a person would, and
// clicks the button found by the XPath expression.
func enterCode(t *testing.T, ctx context.Context, code, button string) *network.Response {
	t.Helper()
	mustDo(t, ctx, "type the code",
		chromedp.Clear(chromedp.ID("code"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("code"), code, chromedp.NodeVisible))
	return clickAndWait(t, ctx, "submit the code "+code, button)
}

// checkCodeField checks the attributes of a security-code field that let
// phones offer the code and the numeric keyboard.
func checkCodeField(t *testing.T, ctx context.Context) {
	t.Helper()
	attrs := mustRun(t, ctx, "read the code field", chromedp.Attributes(chromedp.ID("code"), chromedp.NodeVisible))
	for name, want := range map[string]string{"type": "text", "inputmode": "numeric", "autocomplete": "one-time-code"} {
		if got := attrs[name]; got != want {
			t.Errorf("the code field has %s=%q, want %q", name, got, want)
		}
	}
}

// expectCodeError checks the error a refused code shows: the title, the
// summary and the same words next to the field.
func expectCodeError(t *testing.T, ctx context.Context, message string) {
	t.Helper()
	title := mustRun(t, ctx, "read the title", chromedp.Title())
	if !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title = %q, want it to start with %q", title, "Error: ")
	}
	summary := text(t, ctx, ".error-summary")
	for _, want := range []string{"There is a problem", message} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary does not say %q; it says:\n%s", want, summary)
		}
	}
	if got := text(t, ctx, "#code-error"); !strings.Contains(got, message) {
		t.Errorf("the message next to the code field says %q, want it to contain %q", got, message)
	}
}

// shownAddress returns the email address a "Check your email" page names.
func shownAddress(t *testing.T, ctx context.Context) string {
	t.Helper()
	return text(t, ctx, "main .lead strong")
}

// recoveryCodePattern is how a recovery code looks.
var recoveryCodePattern = regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`)

// saveRecoveryCodes checks the recovery codes page, returns its codes and
// clicks "I've saved them — continue", expecting the home page. With
// screenshots it keeps screenshots of the page first.
func saveRecoveryCodes(t *testing.T, ctx context.Context, screenshots bool) []string {
	t.Helper()
	expectPage(t, ctx, "/mfa/recovery-codes", recoveryCodesHeading)
	codes := mustRun(t, ctx, "read the recovery codes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("ol.code-list li code"), c => c.textContent.trim())`))
	if len(codes) != 10 {
		t.Errorf("the page shows %d recovery codes, want 10: %q", len(codes), codes)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryCodePattern.MatchString(c) {
			t.Errorf("recovery code %q does not look like ABCD-EFGH-IJKL-MNOP", c)
		}
		if seen[c] {
			t.Errorf("recovery code %q is shown twice", c)
		}
		seen[c] = true
	}
	if len(codes) == 0 {
		t.FailNow()
	}
	mustDo(t, ctx, "find the download link and the buttons",
		chromedp.WaitVisible(downloadLink),
		chromedp.WaitVisible(newCodesButton),
		chromedp.WaitVisible(savedButton))
	if screenshots {
		saveScreenshots(t, ctx, "recovery-codes")
	}
	clickAndWait(t, ctx, "click I've saved them — continue", savedButton)
	expectSignedIn(t, ctx)
	return codes
}

// saveScreenshots keeps full-page screenshots of the current page at 360
// and 1280 px wide, for reviewers: in the screenshots folder with the
// pages TestScreenshots takes (as WIDTH-name.png), so that the folder
// holds every page the journeys reach, and with the test's artifacts.
func saveScreenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shots := screenshotDir(t)
	shootPage(t, ctx, shots, name)
	dir := os.Getenv(artifactsEnv)
	if dir != "" {
		dir = filepath.Join(dir, safeName(t.Name()))
	} else {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keep screenshots: %v", err)
		return
	}
	for _, width := range screenshotWidths {
		png, err := os.ReadFile(filepath.Join(shots, fmt.Sprintf("%d-%s.png", width, name)))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644)
		}
		if err != nil {
			t.Logf("keep the screenshot with the artifacts: %v", err)
			return
		}
	}
}

// mail is one message of the demo's outbox.
type mail struct {
	To, Subject, Body string
}

var (
	messageRE = regexp.MustCompile(`(?s)<article class="message">(.*?)</article>`)
	toRE      = regexp.MustCompile(`(?s)class="message-to"[^>]*>(.*?)</`)
	subjectRE = regexp.MustCompile(`(?s)class="message-subject"[^>]*>(.*?)</`)
	bodyRE    = regexp.MustCompile(`(?s)<pre class="message-body"[^>]*>(.*?)</pre>`)
	codeRE    = regexp.MustCompile(`Your security code is: (\d{6})`)
)

// readOutbox returns the messages on the demo's outbox page, newest first.
// The outbox needs no sign-in, so a plain GET reads it.
func readOutbox(t *testing.T, srv *server) []mail {
	t.Helper()
	resp, err := newHTTPClient().Get(srv.OutboxURL)
	if err != nil {
		t.Fatalf("GET %s: %v", srv.OutboxURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s, %v", srv.OutboxURL, resp.Status, err)
	}
	var out []mail
	for _, m := range messageRE.FindAllStringSubmatch(string(body), -1) {
		field := func(re *regexp.Regexp) string {
			if f := re.FindStringSubmatch(m[1]); f != nil {
				return strings.TrimSpace(html.UnescapeString(f[1]))
			}
			return ""
		}
		out = append(out, mail{To: field(toRE), Subject: field(subjectRE), Body: field(bodyRE)})
	}
	return out
}

// mailsTo returns the outbox messages to address with subject, newest first.
func mailsTo(t *testing.T, srv *server, address, subject string) []mail {
	t.Helper()
	var out []mail
	for _, m := range readOutbox(t, srv) {
		if m.To == address && m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// waitMail waits until the outbox holds more than before messages to
// address with subject, and returns the newest.
func waitMail(t *testing.T, srv *server, address, subject string, before int) mail {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ms := mailsTo(t, srv, address, subject); len(ms) > before {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox holds no new email %q to %s (it had %d before); it holds:\n%v",
				subject, address, before, readOutbox(t, srv))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// emailedCode waits for a new security code email to address and returns
// its code.
func emailedCode(t *testing.T, srv *server, address string, before int) string {
	t.Helper()
	m := waitMail(t, srv, address, codeSubject, before)
	c := codeRE.FindStringSubmatch(m.Body)
	if c == nil {
		t.Fatalf("the newest %q email says no code:\n%s", codeSubject, m.Body)
	}
	return c[1]
}

// throttleWait reads the wait from the error by the code field after too
// many wrong codes in a row: the form stays, and says when to try again.
var throttleWait = regexp.MustCompile(`Too many wrong codes in a row\. You can try again at \d\d:\d\d:\d\d \(in (\d+) seconds?\)`)

// enterCodeWaiting enters code on the challenge page at challengeURL as
// enterCode does; when the answer is that it came too soon after wrong
// codes, it checks the form is still there, waits the seconds the error
// says, opens the challenge again and retries.
func enterCodeWaiting(t *testing.T, ctx context.Context, challengeURL, code string) {
	t.Helper()
	for try := 0; ; try++ {
		enterCode(t, ctx, code, continueButton)
		if count(t, ctx, "#code-error") == 0 {
			return
		}
		msg := text(t, ctx, "#code-error")
		m := throttleWait.FindStringSubmatch(msg)
		if m == nil {
			return // another error: the caller checks it
		}
		if count(t, ctx, "#code") != 1 {
			t.Fatalf("after too many wrong codes the page has no code field; it says:\n%s", text(t, ctx, "main"))
		}
		if try >= 3 {
			t.Fatalf("still told to wait after waiting %d times: %s", try, msg)
		}
		secs, _ := strconv.Atoi(m[1])
		t.Logf("the page says: %s", m[0])
		time.Sleep(time.Duration(secs)*time.Second + 400*time.Millisecond)
		// The page counted down by itself, and says so when the wait is over.
		if now := text(t, ctx, "#code-error"); !strings.Contains(now, "You can try again now") {
			t.Errorf("%s after the page said %q, it says %q, want %q", time.Duration(secs)*time.Second, m[0], now, "You can try again now")
		}
		mustDo(t, ctx, "open the challenge again", chromedp.Navigate(challengeURL))
	}
}

// readSecret returns the key shown under "I cannot scan the QR code",
// decoded. The key sits in a closed <details>, so its text content is
// read rather than its visible text.
func readSecret(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	shown := strings.TrimSpace(mustRun(t, ctx, "read the setup key",
		chromedp.TextContent(chromedp.ID("totp-secret"), chromedp.NodeReady)))
	if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$`).MatchString(shown) {
		t.Errorf("the setup key %q is not base32 in groups of four separated by spaces", shown)
	}
	secret, err := totp.DecodeSecret(shown)
	if err != nil {
		t.Fatalf("decode the setup key %q: %v", shown, err)
	}
	return secret
}

// stepStart returns when TOTP step begins.
func stepStart(step int64) time.Time {
	return time.Unix(step*int64(totp.Period/time.Second), 0)
}

// freshStep waits until a TOTP step after the step after has begun, is at
// least 2 s old (away from the edge where the app and the server may
// disagree), and has at least left of its 30 s to go; it returns that
// step.
func freshStep(t *testing.T, after int64, left time.Duration) int64 {
	t.Helper()
	const margin = 2 * time.Second
	for {
		now := time.Now()
		step := totp.Step(now)
		start := stepStart(step)
		into := now.Sub(start)
		if step > after && into >= margin && totp.Period-into >= left {
			return step
		}
		var until time.Time
		if step > after && into < margin {
			until = start.Add(margin)
		} else {
			until = stepStart(step + 1).Add(margin)
		}
		t.Logf("waiting %v for a fresh authenticator code", until.Sub(now).Round(100*time.Millisecond))
		time.Sleep(until.Sub(now))
	}
}

// setUpApp chooses the authenticator app on the setup page, checks the
// page, enters the current code and returns the secret and the step of
// that code. The browser is left on the recovery codes page.
func setUpApp(t *testing.T, ctx context.Context, screenshots bool) ([]byte, int64) {
	t.Helper()
	chooseMethod(t, ctx, "totp")
	expectPage(t, ctx, "/mfa/setup/totp", totpSetupHeading)
	steps := mustRun(t, ctx, "count the steps", chromedp.Evaluate[int](`document.querySelectorAll("main ol.steps > li").length`))
	if steps != 3 {
		t.Errorf("the setup page shows %d numbered steps, want 3", steps)
	}
	apps := mustRun(t, ctx, "count the apps", chromedp.Evaluate[int](`document.querySelectorAll("main ol.steps > li:first-child li").length`))
	if apps == 0 {
		t.Errorf("the first step lists no authenticator apps")
	}
	src := mustRun(t, ctx, "read the QR code", chromedp.AttributeValue(chromedp.CSS("img.qr"), "src", chromedp.NodeVisible))
	if !strings.HasPrefix(src.Value, "data:image/png;base64,") {
		t.Errorf("the QR code's src starts %.40q, want a data: URI of a PNG", src.Value)
	}
	mustDo(t, ctx, "find the finish button", chromedp.WaitVisible(finishButton))
	checkCodeField(t, ctx)
	if screenshots {
		saveScreenshots(t, ctx, "totp-setup")
	}
	secret := readSecret(t, ctx)

	step := totp.Step(time.Now())
	enterCode(t, ctx, totp.Code(secret, step), finishButton)
	return secret, step
}

// setUpEmail chooses email on the setup page, reads the code from the
// outbox and enters it. It returns the address the code went to; the
// browser is left on the recovery codes page.
func setUpEmail(t *testing.T, ctx context.Context, srv *server) string {
	t.Helper()
	chooseMethod(t, ctx, "email")
	expectPage(t, ctx, "/mfa/setup/email", checkEmailHeading)
	address := shownAddress(t, ctx)
	if !strings.Contains(address, "@") {
		t.Fatalf("the page names %q as the address the code went to, want an email address", address)
	}
	checkCodeField(t, ctx)
	code := emailedCode(t, srv, address, 0)
	enterCode(t, ctx, code, continueButton)
	return address
}

// expireEmailCodes ends the life of every email code the demo has sent,
// as eleven minutes passing would: codes work for ten minutes, and a
// rehearsal's clock moves only the rollout's time, so the test moves the
// codes' expiry into the past in the demo's database instead.
func expireEmailCodes(t *testing.T, srv *server) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(srv.Dir, "mfagate.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("open the demo's database: %v", err)
	}
	defer db.Close()
	// Sent eleven minutes ago, so the resend cooldown is long over too.
	res, err := db.Exec(`UPDATE email_codes SET created_at = created_at - ?, expires_at = ? WHERE expires_at > ?`,
		(11 * time.Minute).Milliseconds(), time.Now().Add(-time.Second).UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		t.Fatalf("expire the email codes: %v", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("the demo's database has no email code that works still")
	}
}
