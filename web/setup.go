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
	"github.com/pquerna/otp"
)

type setupView struct {
	page
	Rd       string
	Methods  []string
	CanSkip  bool
	Required bool
	Deadline string          // when setting up becomes required, if it will
	Has      map[string]bool // methods already set up
}

// handleSetupChoice asks how the person wants to get security codes.
func (s *server) handleSetupChoice() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.setupView(r, "Choose how to get security codes")
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "setup", v)
	})
}

func (s *server) setupView(r *http.Request, title string) (setupView, error) {
	cur := currentFrom(r)
	d, factors, err := s.Accounts.Decide(r.Context(), cur)
	if err != nil {
		return setupView{}, err
	}
	v := setupView{page: s.newPage(r, title), Rd: s.keepRedirect(r.FormValue("rd")), Has: map[string]bool{}}
	for _, f := range factors {
		v.Has[f.Method] = true
	}
	v.Methods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	if d.Outcome == rollout.OfferEnrollment || d.Outcome == rollout.RequireEnrollment {
		v.Methods = d.Methods
	}
	v.CanSkip = cur.Session.Stage == mfagate.StagePassword && d.Outcome == rollout.OfferEnrollment
	v.Required = d.Outcome == rollout.RequireEnrollment
	switch {
	case !d.ExtendedUntil.IsZero():
		v.Deadline = s.day(d.ExtendedUntil)
	case d.NextPhase != nil && d.NextPhase.Required:
		v.Deadline = s.day(d.NextPhase.Start)
	}
	return v, nil
}

// handleSetupChosen starts the chosen method: for email it sends the first
// code straight away.
func (s *server) handleSetupChosen() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		method, rd := r.PostForm.Get("method"), r.PostForm.Get("rd")
		v, err := s.setupView(r, "Choose how to get security codes")
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		switch {
		case method == "":
			v.Errors = []fieldError{{"method-email", "Choose how you want to get security codes"}}
		case !slices.Contains(v.Methods, method):
			v.Errors = []fieldError{{"method-email", "Choose one of the ways listed"}}
		case method == mfagate.MethodEmail:
			if _, err := s.Accounts.SendCode(r.Context(), currentFrom(r), mfagate.PurposeSetup, "", s.actor(r)); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				s.renderError(w, r, err)
				return
			}
			http.Redirect(w, r, s.withRd("/mfa/setup/email", rd), http.StatusSeeOther)
			return
		default:
			http.Redirect(w, r, s.withRd("/mfa/setup/totp", rd), http.StatusSeeOther)
			return
		}
		s.render(w, r, http.StatusBadRequest, "setup", v)
	})
}

func (s *server) handleSetupSkip() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		token, err := s.Accounts.SkipSetup(r.Context(), currentFrom(r), s.actor(r))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.finishStep(w, r, token, s.safeRedirect(r.PostForm.Get("rd")))
	})
}

type emailSetupView struct {
	page
	Rd      string
	Sent    *account.CodeSent
	Email   string // the registered address, the only one codes go to
	Minutes int
}

func (s *server) emailSetupView(r *http.Request) (emailSetupView, error) {
	cur := currentFrom(r)
	sent, err := s.Accounts.PendingCode(r.Context(), cur, mfagate.PurposeSetup)
	if err != nil {
		return emailSetupView{}, err
	}
	title := "Get security codes by email"
	if sent != nil {
		title = "Check your email"
	}
	return emailSetupView{page: s.newPage(r, title), Rd: s.keepRedirect(r.FormValue("rd")), Sent: sent,
		Email: cur.User.Email, Minutes: s.Accounts.CodeMinutes()}, nil
}

// setupBlocked handles the cases where a setup page must not show: the
// method is already set up, or a signed-in person must first confirm it's
// them (before any code is sent, since confirming starts a new session).
func (s *server) setupBlocked(w http.ResponseWriter, r *http.Request, method string) bool {
	cur := currentFrom(r)
	_, factors, err := s.Accounts.Decide(r.Context(), cur)
	if err != nil {
		s.renderError(w, r, err)
		return true
	}
	for _, f := range factors {
		if f.Method == method {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return true
		}
	}
	if cur.Session.Stage == mfagate.StageFull && s.Accounts.NeedsReauth(cur, factors) {
		http.Redirect(w, r, s.withRd("/mfa/challenge", r.URL.RequestURI()), http.StatusSeeOther)
		return true
	}
	return false
}

func (s *server) handleEmailSetupPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.setupBlocked(w, r, mfagate.MethodEmail) {
			return
		}
		v, err := s.emailSetupView(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "setup_email", v)
	})
}

// handleEmailSetupSend sends a code to the registered address. The field
// "email" that an earlier release offered, to send it elsewhere, is
// passed on so that the use case refuses and audits it (403).
func (s *server) handleEmailSetupSend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		_, err := s.Accounts.SendCode(r.Context(), currentFrom(r), mfagate.PurposeSetup, r.PostForm.Get("email"), s.actor(r))
		if err == nil {
			http.Redirect(w, r, s.withRd("/mfa/setup/email", r.PostForm.Get("rd")), http.StatusSeeOther)
			return
		}
		if errors.Is(err, account.ErrLocked) && s.limitReached(w, r, err) {
			return
		}
		if c := mfagate.ErrorCode(err); c != mfagate.EINVALID && c != mfagate.ETHROTTLED {
			s.renderError(w, r, err)
			return
		}
		v, verr := s.emailSetupView(r)
		if verr != nil {
			s.renderError(w, r, verr)
			return
		}
		v.Errors = []fieldError{{"resend", mfagate.ErrorMessage(err)}}
		s.render(w, r, statusOf(mfagate.ErrorCode(err)), "setup_email", v)
	})
}

func (s *server) handleEmailSetupConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		cur := currentFrom(r)
		out, err := s.Accounts.ConfirmEmailSetup(r.Context(), cur, r.PostForm.Get("code"), s.actor(r))
		if err == nil {
			s.finishSetup(w, r, out)
			return
		}
		if s.limitReached(w, r, err) {
			return
		}
		v, verr := s.emailSetupView(r)
		if verr != nil {
			s.renderError(w, r, verr)
			return
		}
		v.Errors = []fieldError{{"code", codeMessage(err)}}
		s.render(w, r, http.StatusBadRequest, "setup_email", v)
	})
}

// finishSetup sends a person who just set up a factor on: to their new
// recovery codes when there are some, otherwise where they were going.
func (s *server) finishSetup(w http.ResponseWriter, r *http.Request, out *account.Enrolled) {
	target := s.safeRedirect(r.PostForm.Get("rd"))
	if out.RecoveryCodes {
		target = s.withRd("/mfa/recovery-codes", r.PostForm.Get("rd"))
	} else if target == "/" {
		target = "/account?added"
	}
	s.finishStep(w, r, out.Token, target)
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
	page
	Rd      string
	Apps    []struct{ Name, Hint string }
	Setup   *account.TOTPSetup
	QR      template.URL // data: URI of the QR code PNG, made here, so safe
	Account string
}

func (s *server) totpSetupView(r *http.Request) (totpSetupView, error) {
	cur := currentFrom(r)
	setup, err := s.Accounts.StartTOTPSetup(r.Context(), cur)
	if err != nil {
		return totpSetupView{}, err
	}
	qr, err := qrDataURI(setup.URI)
	if err != nil {
		return totpSetupView{}, err
	}
	v := totpSetupView{page: s.newPage(r, "Set up an authenticator app"), Rd: s.keepRedirect(r.FormValue("rd")),
		Apps: authenticatorApps, Setup: setup, QR: template.URL(qr)}
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

func (s *server) handleTOTPSetupPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.setupBlocked(w, r, mfagate.MethodTOTP) {
			return
		}
		v, err := s.totpSetupView(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "setup_totp", v)
	})
}

func (s *server) handleTOTPSetupConfirm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		out, err := s.Accounts.ConfirmTOTPSetup(r.Context(), currentFrom(r), r.PostForm.Get("code"), s.actor(r))
		if err == nil {
			s.finishSetup(w, r, out)
			return
		}
		if s.limitReached(w, r, err) {
			return
		}
		if mfagate.ErrorCode(err) == mfagate.ECONFLICT {
			s.renderError(w, r, err)
			return
		}
		v, verr := s.totpSetupView(r)
		if verr != nil {
			s.renderError(w, r, verr)
			return
		}
		msg := mfagate.ErrorMessage(err)
		if errors.Is(err, totp.ErrWrongCode) {
			msg = "That code is not correct. Check your app and try again: enter the code it shows now"
		}
		v.Errors = []fieldError{{"code", msg}}
		s.render(w, r, http.StatusBadRequest, "setup_totp", v)
	})
}
