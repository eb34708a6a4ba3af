package web

import (
	"net/http"
	"net/url"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// requireStarted lets through anyone past the password step, fully signed
// in or not: the second-step pages. Everyone else goes to sign in.
func (s *server) requireStarted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, err := s.current(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if cur == nil {
			s.toSignIn(w, r)
			return
		}
		next.ServeHTTP(w, withCurrent(r, cur))
	})
}

// toSignIn sends someone without a session to the sign-in page, which
// brings them back afterwards.
func (s *server) toSignIn(w http.ResponseWriter, r *http.Request) {
	if s.cookie.token(r) != "" {
		s.cookie.clear(w)
	}
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?rd=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// withRd adds a safe return address to a path.
func (s *server) withRd(path, rd string) string {
	if rd = s.keepRedirect(rd); rd == "" {
		return path
	}
	sep := "?"
	if u, err := url.Parse(path); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return path + sep + "rd=" + url.QueryEscape(rd)
}

// nextStep decides where someone part-way through signing in goes next,
// sending the first email code on the way where that is the step, so
// the page that asks for it can say it was sent.
func (s *server) nextStep(r *http.Request, cur *account.Current, d account.Decision, rd string) (string, error) {
	c := s.actor(r)
	switch d.Outcome {
	case rollout.Allow:
		return s.safeRedirect(rd), nil
	case rollout.Challenge:
		factors, err := s.Accounts.Factors(r.Context(), cur.User.ID)
		if err != nil {
			return "", err
		}
		method := account.PreferredMethod(factors, d.Methods)
		if method == mfagate.MethodEmail {
			if _, err := s.Accounts.SendCode(r.Context(), cur, mfagate.PurposeSignIn, "", c); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				return "", err
			}
		}
		return s.withRd("/mfa/challenge?method="+method, rd), nil
	default:
		switch d.DefaultMethod {
		case mfagate.MethodEmail:
			if _, err := s.Accounts.SendCode(r.Context(), cur, mfagate.PurposeSetup, "", c); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				return "", err
			}
			return s.withRd("/mfa/setup/email", rd), nil
		case mfagate.MethodTOTP:
			return s.withRd("/mfa/setup/totp", rd), nil
		}
		return s.withRd("/mfa/setup", rd), nil
	}
}

// actor is who is making the request, for audit records and emails.
func (s *server) actor(r *http.Request) account.Actor {
	a := account.Actor{ClientAddr: s.clientAddr(r), UserAgent: r.UserAgent(), Device: s.cookie.deviceToken(r)}
	if cur := currentFrom(r); cur != nil {
		a.Name = cur.User.Username
	}
	return a
}

// finishStep puts the session's new id in the cookie after a step that
// rotated it, and sends the person on.
func (s *server) finishStep(w http.ResponseWriter, r *http.Request, token, target string) {
	if token != "" {
		s.cookie.set(w, token)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// parseForm reads a posted form within the size limit; false means an
// error page was written.
func (s *server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, mfagate.Errorf(mfagate.EINVALID, "The form could not be read. Go back and try again"))
		return false
	}
	return true
}
