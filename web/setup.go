package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"
	"slices"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/totp"
	"github.com/mfagate/mfagate/web/internal/site"
	"github.com/pquerna/otp"
)

type setupView struct {
	site.Page
	Rd       string
	Methods  []string
	CanSkip  bool
	Required bool
	Deadline string          // when setting up becomes required, if it will
	SkipNote string          // under "Skip for now": when they are asked again, and skips left
	Until    string          // the last day of an extension that puts it off
	Has      map[string]bool // methods already set up
	Why      string          // why setting up is required, when it is
	PartWay  bool            // signing in, not signed in: the way out is to sign out
}

// handleSetupChoice asks how the person wants to get security codes.
func handleSetupChoice(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := newSetupView(st, accounts, r, "Choose how to get security codes")
		if err != nil {
			return err
		}
		return st.Render(w, r, http.StatusOK, "setup", v)
	}
}

func newSetupView(st *site.Site, accounts *account.Service, r *http.Request, title string) (setupView, error) {
	cur := site.CurrentFrom(r)
	d, factors, err := accounts.Decide(r.Context(), cur)
	if err != nil {
		return setupView{}, err
	}
	v := setupView{Page: st.NewPage(r, title), Rd: st.KeepRedirect(r.FormValue("rd")), Has: map[string]bool{}}
	for _, f := range factors {
		v.Has[f.Method] = true
	}
	v.Methods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	if d.Outcome == rollout.OfferEnrollment || d.Outcome == rollout.RequireEnrollment {
		v.Methods = d.Methods
	}
	v.CanSkip = cur.Session.Stage == mfagate.StagePassword && d.Outcome == rollout.OfferEnrollment
	v.Required = d.Outcome == rollout.RequireEnrollment
	v.Why, v.PartWay = whyRequired(st, d), cur.Session.Stage == mfagate.StagePassword
	v.SkipNote = skipNote(d)
	switch {
	case !d.RequiredAfter().IsZero():
		v.Until = st.ExtensionEnds(d.RequiredAfter())
	case d.Grace:
		v.Deadline = st.PhaseDate(d.Deadline)
	case d.NextPhase != nil && d.NextPhase.Required:
		v.Deadline = st.Day(d.NextPhase.Start)
	}
	return v, nil
}

// handleSetupChosen starts the chosen method: for email it sends the first
// code straight away.
func handleSetupChosen(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		method, rd := r.PostForm.Get("method"), r.PostForm.Get("rd")
		v, err := newSetupView(st, accounts, r, "Choose how to get security codes")
		if err != nil {
			return err
		}
		switch {
		case method == "":
			v.Errors = []site.FieldError{{Field: "method-email", Message: "Choose how you want to get security codes"}}
		case !slices.Contains(v.Methods, method):
			v.Errors = []site.FieldError{{Field: "method-email", Message: "Choose one of the ways listed"}}
		case method == mfagate.MethodEmail:
			if _, err := accounts.SendCode(r.Context(), site.CurrentFrom(r), mfagate.PurposeSetup, "", st.Actor(r)); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				return err
			}
			http.Redirect(w, r, st.WithRd("/mfa/setup/email", rd), http.StatusSeeOther)
			return nil
		default:
			http.Redirect(w, r, st.WithRd("/mfa/setup/totp", rd), http.StatusSeeOther)
			return nil
		}
		return st.Render(w, r, http.StatusBadRequest, "setup", v)
	}
}

func handleSetupSkip(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		token, err := accounts.SkipSetup(r.Context(), site.CurrentFrom(r), st.Actor(r))
		if err != nil {
			return err
		}
		finishStep(st, w, r, token, st.SafeRedirect(r.PostForm.Get("rd")))
		return nil
	}
}

type emailSetupView struct {
	site.Page
	Rd      string
	Sent    *account.CodeSent
	Email   string // the registered address, the only one codes go to
	Minutes int
	Why     string // why they are setting up, when their organisation requires it
	PartWay bool   // signing in, not signed in: the way out is to sign out
	// SendAgain shows the button for a new code next to the error.
	SendAgain bool
}

// whyRequired says why a person is being made to set up security codes,
// so the required day does not arrive unexplained: "" when nothing
// requires it (they chose to).
func whyRequired(st *site.Site, d account.Decision) string {
	if d.Outcome != rollout.RequireEnrollment {
		return ""
	}
	if d.PhaseStart.IsZero() { // staff, whatever the schedule
		return "Staff must use a second step when they sign in."
	}
	return "From " + st.Day(d.PhaseStart) + " your organisation requires a second step when you sign in."
}

func newEmailSetupView(st *site.Site, accounts *account.Service, r *http.Request) (emailSetupView, error) {
	cur := site.CurrentFrom(r)
	sent, err := accounts.PendingCode(r.Context(), cur, mfagate.PurposeSetup)
	if err != nil {
		return emailSetupView{}, err
	}
	title := "Get security codes by email"
	if sent != nil {
		title = "Check your email"
	}
	d, _, err := accounts.Decide(r.Context(), cur)
	if err != nil {
		return emailSetupView{}, err
	}
	v := emailSetupView{Page: st.NewPage(r, title), Rd: st.KeepRedirect(r.FormValue("rd")), Sent: sent,
		Email: cur.User.Email, Minutes: accounts.CodeMinutes(), Why: whyRequired(st, d),
		PartWay: cur.Session.Stage == mfagate.StagePassword}
	v.Notice = sentNotice(st, r, sent)
	return v, nil
}

// setupBlocked answers the cases where a setup page must not show: the
// method is already set up, or a signed-in person must first confirm it's
// them (before any code is sent, since confirming starts a new session).
func setupBlocked(st *site.Site, accounts *account.Service, w http.ResponseWriter, r *http.Request, method string) (bool, error) {
	cur := site.CurrentFrom(r)
	_, factors, err := accounts.Decide(r.Context(), cur)
	if err != nil {
		return true, err
	}
	for _, f := range factors {
		if f.Method == method {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return true, nil
		}
	}
	if cur.Session.Stage == mfagate.StageFull && accounts.NeedsReauth(cur, factors) {
		http.Redirect(w, r, st.WithRd("/mfa/challenge", r.URL.RequestURI()), http.StatusSeeOther)
		return true, nil
	}
	return false, nil
}

func handleEmailSetupPage(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if blocked, err := setupBlocked(st, accounts, w, r, mfagate.MethodEmail); blocked {
			return err
		}
		v, err := newEmailSetupView(st, accounts, r)
		if err != nil {
			return err
		}
		return st.Render(w, r, http.StatusOK, "setup_email", v)
	}
}

// handleEmailSetupSend sends a code to the registered address. The field
// "email" that an earlier release offered, to send it elsewhere, is
// passed on so that the use case refuses and audits it (403).
func handleEmailSetupSend(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		_, err := accounts.SendCode(r.Context(), site.CurrentFrom(r), mfagate.PurposeSetup, r.PostForm.Get("email"), st.Actor(r))
		if err == nil {
			http.Redirect(w, r, st.WithRd("/mfa/setup/email?sent=1", r.PostForm.Get("rd")), http.StatusSeeOther)
			return nil
		}
		if errors.Is(err, account.ErrLocked) {
			if done, err := limitReached(st, accounts, w, r, err); done {
				return err
			}
		}
		if c := mfagate.ErrorCode(err); c != mfagate.EINVALID && c != mfagate.ETHROTTLED {
			return err
		}
		v, verr := newEmailSetupView(st, accounts, r)
		if verr != nil {
			return verr
		}
		v.Errors = []site.FieldError{{Field: "resend", Message: mfagate.ErrorMessage(err)}}
		return st.Render(w, r, site.Status(mfagate.ErrorCode(err)), "setup_email", v)
	}
}

func handleEmailSetupConfirm(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		cur := site.CurrentFrom(r)
		out, err := accounts.ConfirmEmailSetup(r.Context(), cur, r.PostForm.Get("code"), st.Actor(r))
		if err == nil {
			finishSetup(st, w, r, out)
			return nil
		}
		err = waitInline(st, err)
		if done, err := limitReached(st, accounts, w, r, err); done {
			return err
		}
		v, verr := newEmailSetupView(st, accounts, r)
		if verr != nil {
			return verr
		}
		v.Errors = []site.FieldError{{Field: "code", Message: codeMessage(err)}}
		v.SendAgain = codeDead(err)
		return st.Render(w, r, http.StatusBadRequest, "setup_email", v)
	}
}

// finishSetup sends a person who just set up a factor on: to their new
// recovery codes when there are some, otherwise where they were going.
func finishSetup(st *site.Site, w http.ResponseWriter, r *http.Request, out *account.Enrolled) {
	target := st.SafeRedirect(r.PostForm.Get("rd"))
	if out.RecoveryCodes {
		target = st.WithRd("/mfa/recovery-codes", r.PostForm.Get("rd"))
	} else if target == "/" {
		target = "/account?added"
	}
	finishStep(st, w, r, out.Token, target)
}

// codeMessage is what to say next to a code field for err.
func codeMessage(err error) string {
	if errors.Is(err, emailcode.ErrWrongCode) {
		return "That code is not correct. Check the email and try again"
	}
	return mfagate.ErrorMessage(err)
}

const appCodeHint = "The 6-digit number shown in your app"

// authenticatorApps are the apps offered at step 1, with where to get them.
var authenticatorApps = []struct{ Name, Hint string }{
	{"Google Authenticator", "Free for iPhone and Android, from the App Store or Google Play"},
	{"Microsoft Authenticator", "Free for iPhone and Android, from the App Store or Google Play"},
	{"Authy", "Free for iPhone and Android, from the App Store or Google Play"},
	{"1Password", "Part of the 1Password password manager, on phones and computers"},
	{"Bitwarden", "Part of the Bitwarden password manager, on phones and computers"},
	{"Another app", "Any app that makes 6-digit codes from a QR code (\"TOTP\") works"},
}

type totpSetupView struct {
	site.Page
	Rd      string
	Apps    []struct{ Name, Hint string }
	Setup   *account.TOTPSetup
	QR      template.URL // data: URI of the QR code PNG, made here, so safe
	Account string
	PartWay bool // signing in, not signed in: the way out is to sign out
}

func newTOTPSetupView(st *site.Site, accounts *account.Service, r *http.Request) (totpSetupView, error) {
	cur := site.CurrentFrom(r)
	setup, err := accounts.StartTOTPSetup(r.Context(), cur)
	if err != nil {
		return totpSetupView{}, err
	}
	qr, err := qrDataURI(setup.URI)
	if err != nil {
		return totpSetupView{}, err
	}
	v := totpSetupView{Page: st.NewPage(r, "Set up an authenticator app"), Rd: st.KeepRedirect(r.FormValue("rd")),
		Apps: authenticatorApps, Setup: setup, QR: template.URL(qr), PartWay: site.CurrentFrom(r).Session.Stage == mfagate.StagePassword}
	v.CodeHint = appCodeHint
	return v, nil
}

// qrDataURI draws the otpauth URI as a QR code, inline so the secret
// never appears in a URL or a server log.
func qrDataURI(uri string) (string, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func handleTOTPSetupPage(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if blocked, err := setupBlocked(st, accounts, w, r, mfagate.MethodTOTP); blocked {
			return err
		}
		v, err := newTOTPSetupView(st, accounts, r)
		if err != nil {
			return err
		}
		return st.Render(w, r, http.StatusOK, "setup_totp", v)
	}
}

func handleTOTPSetupConfirm(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		out, err := accounts.ConfirmTOTPSetup(r.Context(), site.CurrentFrom(r), r.PostForm.Get("code"), st.Actor(r))
		if err == nil {
			finishSetup(st, w, r, out)
			return nil
		}
		err = waitInline(st, err)
		if done, err := limitReached(st, accounts, w, r, err); done {
			return err
		}
		if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
			return err
		}
		v, verr := newTOTPSetupView(st, accounts, r)
		if verr != nil {
			return verr
		}
		msg := mfagate.ErrorMessage(err)
		if errors.Is(err, totp.ErrWrongCode) {
			msg = "That code is not correct. Check your app and try again: enter the code it shows now"
		}
		v.Errors = []site.FieldError{{Field: "code", Message: msg}}
		return st.Render(w, r, http.StatusBadRequest, "setup_totp", v)
	}
}
