package site

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// The sign-in guards: they read the session cookie, put the person on the
// request (CurrentFrom) and send everyone else to the step they are at.

type ctxKey int

const keyCurrent ctxKey = iota

// Current looks up the request's session. A missing or dead session is
// not an error: it gives nil.
func (s *Site) Current(r *http.Request) (*account.Current, error) {
	tok := s.Cookie.Token(r)
	if tok == "" {
		return nil, nil
	}
	cur, err := s.cfg.Accounts.Authenticate(r.Context(), tok)
	if mfagate.ErrorCode(err) == mfagate.EUNAUTHORIZED {
		return nil, nil
	}
	return cur, err
}

// CurrentFrom is the person a guard let through, or nil.
func CurrentFrom(r *http.Request) *account.Current {
	cur, _ := r.Context().Value(keyCurrent).(*account.Current)
	return cur
}

// WithCurrent is r with cur as its person.
func WithCurrent(r *http.Request, cur *account.Current) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyCurrent, cur))
}

// RequireSignIn lets fully signed-in people through. Someone part-way
// through signing in is sent back to their next step; anyone else to the
// sign-in page, which returns them here afterwards.
func (s *Site) RequireSignIn(next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cur, err := s.currentOrSignIn(w, r)
		if cur == nil {
			return err
		}
		if cur.Session.Stage != mfagate.StageFull {
			rd := ""
			if r.Method == http.MethodGet {
				rd = r.URL.RequestURI()
			}
			step, err := s.pendingStep(r, cur)
			if err != nil {
				return err
			}
			http.Redirect(w, r, s.WithRd(step, rd), http.StatusSeeOther)
			return nil
		}
		return next(w, WithCurrent(r, cur))
	}
}

// RequireStarted lets through anyone past the password step, fully signed
// in or not: the second-step pages. Everyone else goes to sign in.
func (s *Site) RequireStarted(next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cur, err := s.currentOrSignIn(w, r)
		if cur == nil {
			return err
		}
		return next(w, WithCurrent(r, cur))
	}
}

// currentOrSignIn returns the person r is from, past the password step.
// For someone without a session it sends them to sign in and returns nil;
// when the session cannot be read it returns nil and the error.
func (s *Site) currentOrSignIn(w http.ResponseWriter, r *http.Request) (*account.Current, error) {
	cur, err := s.Current(r)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		s.toSignIn(w, r)
	}
	return cur, nil
}

// toSignIn sends someone without a session to the sign-in page, which
// brings them back afterwards.
func (s *Site) toSignIn(w http.ResponseWriter, r *http.Request) {
	if s.Cookie.Token(r) != "" {
		s.Cookie.Clear(w)
	}
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?rd=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// pendingStep is the page of the step someone part-way through signing in
// has still to do. When the database cannot tell, the error is shown
// rather than a guess, which would only fail on the next page.
func (s *Site) pendingStep(r *http.Request, cur *account.Current) (string, error) {
	d, _, err := s.cfg.Accounts.Decide(r.Context(), cur)
	if err != nil {
		return "", err
	}
	if d.Outcome == rollout.Challenge {
		return "/mfa/challenge", nil
	}
	return "/mfa/setup", nil
}

// Actor is who is making the request, for audit records and emails.
func (s *Site) Actor(r *http.Request) account.Actor {
	a := account.Actor{ClientAddr: s.ClientAddr(r), UserAgent: r.UserAgent(), Device: s.Cookie.DeviceToken(r)}
	if cur := CurrentFrom(r); cur != nil {
		a.Name = cur.User.Username
	}
	return a
}
