package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/totp"
)

type challengeView struct {
	page
	Rd      string
	Method  string
	Methods []string // the person's factors the challenge accepts now
	Sent    *account.CodeSent
	Minutes int
	Reauth  bool // confirming a change, not signing in
}

func (s *server) challengeView(r *http.Request, method string) (challengeView, error) {
	cur := currentFrom(r)
	d, factors, err := s.Accounts.Decide(r.Context(), cur)
	if err != nil {
		return challengeView{}, err
	}
	v := challengeView{Rd: s.keepRedirect(r.FormValue("rd")), Minutes: s.Accounts.CodeMinutes(),
		Reauth: cur.Session.Stage == mfagate.StageFull}
	v.Methods = s.Accounts.ChallengeMethods(cur, factors)
	if method == "" || (method != mfagate.MethodRecovery && !slices.Contains(v.Methods, method)) {
		method = account.PreferredMethod(factors, d.Methods)
	}
	v.Method = method
	switch method {
	case mfagate.MethodEmail:
		v.page = s.newPage(r, "Check your email")
		if v.Sent, err = s.Accounts.PendingCode(r.Context(), cur, mfagate.PurposeSignIn); err != nil {
			return v, err
		}
	case mfagate.MethodTOTP:
		v.page = s.newPage(r, "Enter the code from your authenticator app")
		v.CodeHint = appCodeHint
	default:
		v.page = s.newPage(r, "Enter a recovery code")
	}
	return v, nil
}

// handleChallengePage asks for the second factor. Someone with no factor
// has nothing to be challenged with and is sent to set one up.
func (s *server) handleChallengePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.challengeView(r, r.URL.Query().Get("method"))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if len(v.Methods) == 0 {
			http.Redirect(w, r, s.withRd("/mfa/setup", v.Rd), http.StatusSeeOther)
			return
		}
		if v.Reauth && v.Method == mfagate.MethodEmail && v.Sent == nil {
			v.Title = "Confirm it's you"
		}
		s.render(w, r, http.StatusOK, "challenge", v)
	})
}

func (s *server) handleChallenge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		cur := currentFrom(r)
		method := r.PostForm.Get("method")
		out, err := s.Accounts.Verify(r.Context(), cur, method, r.PostForm.Get("code"), s.actor(r))
		if err == nil && out.Next.Outcome == rollout.RequireEnrollment {
			// Their factor passed, but a phase demands another method.
			s.cookie.set(w, out.Token)
			next := &account.Current{Session: out.Session, User: cur.User}
			target, err := s.nextStep(withCurrent(r, next), next, out.Next, r.PostForm.Get("rd"))
			if err != nil {
				s.renderError(w, r, err)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if err == nil {
			s.finishStep(w, r, out.Token, s.safeRedirect(r.PostForm.Get("rd")))
			return
		}
		if s.limitReached(w, r, err) {
			return
		}
		if mfagate.ErrorCode(err) != mfagate.EINVALID {
			s.renderError(w, r, err)
			return
		}
		v, verr := s.challengeView(r, method)
		if verr != nil {
			s.renderError(w, r, verr)
			return
		}
		msg := mfagate.ErrorMessage(err)
		switch {
		case errors.Is(err, emailcode.ErrWrongCode):
			msg = "That code is not correct. Check the email and try again"
		case errors.Is(err, totp.ErrWrongCode):
			msg = "That code is not correct. Check your app and try again"
		}
		v.Errors = []fieldError{{"code", msg}}
		s.render(w, r, http.StatusBadRequest, "challenge", v)
	})
}

// handleChallengeSend emails a sign-in code.
func (s *server) handleChallengeSend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		_, err := s.Accounts.SendCode(r.Context(), currentFrom(r), mfagate.PurposeSignIn, "", s.actor(r))
		if err == nil {
			http.Redirect(w, r, s.withRd("/mfa/challenge?method=email", r.PostForm.Get("rd")), http.StatusSeeOther)
			return
		}
		if errors.Is(err, account.ErrLocked) && s.limitReached(w, r, err) {
			return
		}
		if c := mfagate.ErrorCode(err); c != mfagate.ETHROTTLED && c != mfagate.EINVALID {
			s.renderError(w, r, err)
			return
		}
		v, verr := s.challengeView(r, mfagate.MethodEmail)
		if verr != nil {
			s.renderError(w, r, verr)
			return
		}
		v.Errors = []fieldError{{"resend", mfagate.ErrorMessage(err)}}
		s.render(w, r, statusOf(mfagate.ErrorCode(err)), "challenge", v)
	})
}

type limitView struct {
	page
	Message string
	Locked  bool
	LockFor string
}

// limitReached shows the page for a limit that a field error cannot
// explain — the account locked, too many wrong codes, a wait — and sends
// someone who must first confirm it's them to the challenge. It reports
// whether it wrote the response.
func (s *server) limitReached(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case errors.Is(err, account.ErrReauth):
		http.Redirect(w, r, s.withRd("/mfa/challenge", r.URL.Path), http.StatusSeeOther) // the setup pages
		return true
	case errors.Is(err, account.ErrLocked):
		s.cookie.clear(w)
		s.render(w, r, http.StatusTooManyRequests, "limit", limitView{
			page: s.newPage(r, "You entered the wrong code too many times"), Locked: true, LockFor: s.Accounts.LockFor()})
		return true
	case errors.Is(err, emailcode.ErrTooManyTries):
		// Every code of this sign-in would carry the same count, so the
		// sign-in ends here and a fresh one starts from the password.
		if err := s.Accounts.SignOut(r.Context(), s.cookie.token(r), s.actor(r)); err != nil {
			s.renderError(w, r, err)
			return true
		}
		s.cookie.clear(w)
		s.render(w, r, http.StatusTooManyRequests, "limit", limitView{
			page: s.newPage(r, "You entered the wrong code too many times"), Message: mfagate.ErrorMessage(err)})
		return true
	case mfagate.ErrorCode(err) == mfagate.ETHROTTLED:
		s.render(w, r, http.StatusTooManyRequests, "limit", limitView{
			page: s.newPage(r, "Too many attempts"), Message: mfagate.ErrorMessage(err)})
		return true
	}
	return false
}

func errorIsReauth(err error) bool { return errors.Is(err, account.ErrReauth) }
