package web_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/mfagate/mfagate/totp"
)

var (
	qrRE     = regexp.MustCompile(`<img class="qr" src="data:image/png;base64,([^"]+)"`)
	secretRE = regexp.MustCompile(`<code id="totp-secret">([^<]+)</code>`)
	mailRE   = regexp.MustCompile(`Your security code is: (\d{6})`)
	codesRE  = regexp.MustCompile(`<li><code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code></li>`)
)

// login posts the password only, leaving the session part-way signed in.
func (h *harness) login(tb testing.TB, c *http.Client, user string) response {
	tb.Helper()
	return h.post(tb, c, "/login", url.Values{"username": {user}, "password": {pw}})
}

func (h *harness) latestCode(tb testing.TB) string {
	tb.Helper()
	return latestCode(tb, h.store)
}

// decodeQR reads the QR code image on a page back into its text.
func decodeQR(tb testing.TB, page string) string {
	tb.Helper()
	m := qrRE.FindStringSubmatch(page)
	if m == nil {
		tb.Fatal("no QR code image on the page")
	}
	data, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		tb.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	// The image is the code alone, as drawn. Without PURE_BARCODE,
	// gozxing's detector misjudges the finder patterns of about one code in
	// sixty (3,000 random secrets tried; zbarimg read every one it missed).
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pure)
	if err != nil {
		tb.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// setUpTOTP takes a freshly signed-in client through the app setup and
// returns the secret and the response to the confirmation.
func (h *harness) setUpTOTP(tb testing.TB, c *http.Client) ([]byte, response) {
	tb.Helper()
	page := h.get(tb, c, "/mfa/setup/totp")
	m := secretRE.FindStringSubmatch(page.body)
	if m == nil {
		tb.Fatalf("no #totp-secret on the setup page:\n%s", page.body)
	}
	secret, err := totp.DecodeSecret(m[1])
	if err != nil {
		tb.Fatal(err)
	}
	code := totp.Code(secret, totp.Step(h.clock.Now()))
	return secret, h.post(tb, c, "/mfa/setup/totp", url.Values{"code": {code}})
}

func TestTOTPSetupPage(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	if res := h.login(t, c, "alice"); res.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("after the password: got %q, want the setup prompt", res.Header.Get("Location"))
	}
	page := h.get(t, c, "/mfa/setup/totp")
	uri := decodeQR(t, page.body)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("QR holds %q, want an otpauth://totp URI", uri)
	}
	if got := u.Query().Get("issuer"); got != "mfagate" || !strings.HasPrefix(u.Path, "/mfagate:alice") {
		t.Fatalf("QR URI %q: want issuer mfagate in label and query, account alice", uri)
	}
	shown := strings.ReplaceAll(secretRE.FindStringSubmatch(page.body)[1], " ", "")
	if u.Query().Get("secret") != shown {
		t.Fatalf("QR secret %q differs from #totp-secret %q", u.Query().Get("secret"), shown)
	}
	for _, attr := range []string{`autocomplete="one-time-code"`, `inputmode="numeric"`, `spellcheck="false"`, `<label for="code">Security code</label>`} {
		if !strings.Contains(page.body, attr) {
			t.Errorf("the code field lacks %s", attr)
		}
	}
	if strings.Contains(page.body, `type="number"`) {
		t.Error("a code field must not be type=number")
	}
	if again := h.get(t, c, "/mfa/setup/totp"); decodeQR(t, again.body) != uri {
		t.Fatal("reloading the page changed the secret")
	}

	bad := h.post(t, c, "/mfa/setup/totp", url.Values{"code": {"12a456"}})
	if bad.StatusCode != 400 || !strings.Contains(bad.body, "The security code must be 6 digits") || !strings.Contains(bad.body, `href="#code"`) {
		t.Fatalf("letters in the code: got %d, want 400 with the message linked to the field", bad.StatusCode)
	}
	_, res := h.setUpTOTP(t, c)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/mfa/recovery-codes" {
		t.Fatalf("confirming: got %d to %q, want the recovery codes", res.StatusCode, res.Header.Get("Location"))
	}
	codes := h.get(t, c, "/mfa/recovery-codes")
	shownCodes := codesRE.FindAllStringSubmatch(codes.body, -1)
	if len(shownCodes) != 10 {
		t.Fatalf("got %d recovery codes on the page, want 10", len(shownCodes))
	}
	txt := h.get(t, c, "/mfa/recovery-codes.txt")
	if !strings.Contains(txt.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(txt.body, shownCodes[0][1]) {
		t.Fatal("the download does not carry the codes as an attachment")
	}
	done := h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	if done.Header.Get("Location") != "/" {
		t.Fatalf("after saving: got %q, want /", done.Header.Get("Location"))
	}
	if again := h.get(t, c, "/mfa/recovery-codes"); strings.Contains(again.body, shownCodes[0][1]) {
		t.Fatal("the codes were shown a second time")
	}
	if home := h.get(t, c, "/"); !strings.Contains(home.body, "You are signed in") {
		t.Fatal("not signed in after setting up")
	}
}

func TestChallengeGatesEverything(t *testing.T) {
	h := newHarness(t)
	setup := h.client(t)
	h.login(t, setup, "alice")
	secret, _ := h.setUpTOTP(t, setup)

	h.clock.Advance(time.Minute)
	c := h.client(t)
	res := h.login(t, c, "alice")
	if res.Header.Get("Location") != "/mfa/challenge?method=totp" {
		t.Fatalf("after the password: got %q, want the TOTP challenge", res.Header.Get("Location"))
	}
	for _, p := range []string{"/", "/account", "/account/password"} {
		res := h.get(t, c, p)
		if res.StatusCode == 200 {
			t.Errorf("%s reachable before the second factor", p)
		}
		if loc := res.Header.Get("Location"); res.StatusCode == http.StatusSeeOther && !strings.HasPrefix(loc, "/mfa/challenge") {
			t.Errorf("%s: redirected to %q, want the challenge", p, loc)
		}
	}
	for _, p := range []string{"/account/sessions/end-others", "/account/recovery-codes", "/mfa/setup/skip"} {
		res := h.post(t, c, p, nil)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusForbidden && !strings.HasPrefix(loc, "/mfa/challenge") {
			t.Errorf("POST %s before the second factor: got %d to %q, want refused", p, res.StatusCode, loc)
		}
	}
	if res := h.get(t, c, "/help"); res.StatusCode != 200 {
		t.Fatalf("help: got %d, want 200 before the second factor", res.StatusCode)
	}
	page := h.get(t, c, "/mfa/challenge?method=totp")
	if !strings.Contains(page.body, "Enter the code from your authenticator app") || !strings.Contains(page.body, "Use a recovery code") {
		t.Fatal("the challenge page lacks its heading or the recovery option")
	}
	wrong := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {"000000"}})
	if wrong.StatusCode != 400 || !strings.Contains(wrong.body, "That code is not correct") || !strings.HasPrefix(between(wrong.body, "<title>", "</title>"), "Error: ") {
		t.Fatalf("wrong code: got %d, want 400 saying the code is not correct", wrong.StatusCode)
	}
	h.clock.Advance(time.Minute)
	before := h.sessionCookie(c).Value
	ok := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}, "rd": {"/account"}})
	if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/account" {
		t.Fatalf("right code: got %d to %q, want /account", ok.StatusCode, ok.Header.Get("Location"))
	}
	if h.sessionCookie(c).Value == before {
		t.Fatal("the session id did not change after the second factor")
	}
	if res := h.get(t, c, "/account"); res.StatusCode != 200 || !strings.Contains(res.body, "Authenticator app") {
		t.Fatal("the account page does not list the authenticator app")
	}
}

func TestEmailChallengeSendsAtOnce(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.login(t, c, "alice")
	res := h.post(t, c, "/mfa/setup", url.Values{"method": {"email"}})
	if res.Header.Get("Location") != "/mfa/setup/email" {
		t.Fatalf("choosing email: got %q", res.Header.Get("Location"))
	}
	page := h.get(t, c, "/mfa/setup/email")
	if !strings.Contains(page.body, "Check your email") || !strings.Contains(page.body, "alice@example.com") || !strings.Contains(page.body, "6 digits") {
		t.Fatal("the email page does not name the address and the code's length")
	}
	h.post(t, c, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}})
	h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})

	h.clock.Advance(time.Minute)
	c2 := h.client(t)
	if loc := h.login(t, c2, "alice").Header.Get("Location"); loc != "/mfa/challenge?method=email" {
		t.Fatalf("after the password: got %q, want the email challenge", loc)
	}
	resend := h.post(t, c2, "/mfa/challenge/send", nil)
	if resend.StatusCode != http.StatusTooManyRequests || !strings.Contains(html.UnescapeString(resend.body), "You can ask for a new one from") {
		t.Fatalf("resending at once: got %d, want 429 saying when", resend.StatusCode)
	}
	ok := h.post(t, c2, "/mfa/challenge", url.Values{"method": {"email"}, "code": {h.latestCode(t)}})
	if ok.Header.Get("Location") != "/" {
		t.Fatalf("right code: got %d to %q, want /", ok.StatusCode, ok.Header.Get("Location"))
	}
}

func TestLockShowsItsOwnPage(t *testing.T) {
	h := newHarness(t)
	setup := h.client(t)
	h.login(t, setup, "alice")
	h.setUpTOTP(t, setup)
	c := h.client(t)
	h.login(t, c, "alice")
	var last response
	for i := 0; i < 10; i++ {
		h.clock.Advance(time.Minute)
		last = h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {"000000"}})
	}
	if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(last.body, "You entered the wrong code too many times") || !strings.Contains(last.body, "15 minutes") {
		t.Fatalf("the 10th wrong code: got %d, want the lock page:\n%s", last.StatusCode, last.body)
	}
	if res := h.get(t, c, "/mfa/challenge"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("the session survived the lock")
	}
}

func TestAddingASecondMethodAsksForTheFirst(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	h.login(t, c, "alice")
	secret, _ := h.setUpTOTP(t, c)
	h.post(t, c, "/mfa/recovery-codes", url.Values{"action": {"saved"}})
	h.clock.Advance(11 * time.Minute)

	res := h.get(t, c, "/mfa/setup/email?rd=%2Faccount")
	want := "/mfa/challenge?rd=%2Fmfa%2Fsetup%2Femail%3Frd%3D%252Faccount"
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		t.Fatalf("got %d to %q, want the challenge first (%s)", res.StatusCode, res.Header.Get("Location"), want)
	}
	if page := h.get(t, c, "/mfa/challenge?rd=%2Fmfa%2Fsetup%2Femail"); !strings.Contains(page.body, "Enter the code from your authenticator app") {
		t.Fatal("the confirmation does not ask for the app's code")
	}
	ok := h.post(t, c, "/mfa/challenge", url.Values{"method": {"totp"}, "code": {totp.Code(secret, totp.Step(h.clock.Now()))}, "rd": {"/mfa/setup/email?rd=%2Faccount"}})
	if ok.Header.Get("Location") != "/mfa/setup/email?rd=%2Faccount" {
		t.Fatalf("after confirming: got %q, want back to the email setup", ok.Header.Get("Location"))
	}
	if res := h.post(t, c, "/mfa/setup/email/send", url.Values{"rd": {"/account"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending: got %d", res.StatusCode)
	}
	done := h.post(t, c, "/mfa/setup/email", url.Values{"code": {h.latestCode(t)}, "rd": {"/account"}})
	if done.Header.Get("Location") != "/account" {
		t.Fatalf("confirming: got %d to %q, want /account", done.StatusCode, done.Header.Get("Location"))
	}
	page := h.get(t, c, "/account").body
	if !strings.Contains(page, "Email codes to alice@example.com") || !strings.Contains(page, "Authenticator app") {
		t.Fatal("the account page does not list both methods")
	}
	if res := h.get(t, c, "/mfa/setup/totp"); res.Header.Get("Location") != "/account" {
		t.Fatal("the app setup page offered a second app")
	}
}
