package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/emailcode"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// What the second-step pages (challenge.go, setup.go, recovery.go) share:
// where someone goes next, and the pages for a limit reached.

// nextStep decides where someone part-way through signing in goes next,
// sending the first email code on the way where that is the step, so
// the page that asks for it can say it was sent.
func nextStep(st *site.Site, accounts *account.Service, r *http.Request, cur *account.Current, d account.Decision, rd string) (string, error) {
	c := st.Actor(r)
	switch d.Outcome {
	case rollout.Allow:
		return afterSignIn(st, cur, rd), nil
	case rollout.Challenge:
		factors, err := accounts.Factors(r.Context(), cur.User.ID)
		if err != nil {
			return "", err
		}
		method, _ := accounts.ChallengeMethod(factors, d.Methods)
		if method == mfagate.MethodEmail {
			if _, err := accounts.SendCode(r.Context(), cur, mfagate.PurposeSignIn, "", c); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				return "", err
			}
		}
		return st.WithRd("/mfa/challenge?method="+method, rd), nil
	case rollout.OfferEnrollment:
		// An offer keeps its "Skip for now", even in a phase with a
		// default method: someone whose extension softens it is not taken
		// into setting one up, with a code already sent.
		return st.WithRd("/mfa/setup", rd), nil
	default:
		switch d.DefaultMethod {
		case mfagate.MethodEmail:
			if _, err := accounts.SendCode(r.Context(), cur, mfagate.PurposeSetup, "", c); err != nil && mfagate.ErrorCode(err) != mfagate.ETHROTTLED {
				return "", err
			}
			return st.WithRd("/mfa/setup/email", rd), nil
		case mfagate.MethodTOTP:
			return st.WithRd("/mfa/setup/totp", rd), nil
		}
		return st.WithRd("/mfa/setup", rd), nil
	}
}

// finishStep puts the session's new id in the cookie after a step that
// rotated it, and sends the person on.
func finishStep(st *site.Site, w http.ResponseWriter, r *http.Request, token, target string) {
	if token != "" {
		st.Cookie.Set(w, token)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

type limitView struct {
	site.Page
	Message string
	Locked  bool
	LockFor string
}

// limitReached answers a limit that a field error cannot explain — the
// account locked, too many wrong codes, a wait — with its page, and
// sends someone who must first confirm it's them to the challenge. done
// reports whether it answered (or err is for Error to answer).
func limitReached(st *site.Site, accounts *account.Service, w http.ResponseWriter, r *http.Request, err error) (done bool, _ error) {
	switch {
	case errors.Is(err, account.ErrReauth):
		http.Redirect(w, r, st.WithRd("/mfa/challenge", r.URL.Path), http.StatusSeeOther) // the setup pages
		return true, nil
	case errors.Is(err, account.ErrLocked):
		st.Cookie.Clear(w)
		return true, st.Render(w, r, http.StatusTooManyRequests, "limit", limitView{
			Page: st.NewPage(r, "You entered the wrong code too many times"), Locked: true, LockFor: accounts.LockFor()})
	case errors.Is(err, emailcode.ErrTooManyTries):
		// Every code of this sign-in would carry the same count, so the
		// sign-in ends here and a fresh one starts from the password.
		if err := accounts.SignOut(r.Context(), st.Cookie.Token(r), st.Actor(r)); err != nil {
			return true, err
		}
		st.Cookie.Clear(w)
		return true, st.Render(w, r, http.StatusTooManyRequests, "limit", limitView{
			Page: st.NewPage(r, "You entered the wrong code too many times"), Message: mfagate.ErrorMessage(err)})
	case mfagate.ErrorCode(err) == mfagate.ETHROTTLED:
		return true, st.Render(w, r, http.StatusTooManyRequests, "limit", limitView{
			Page: st.NewPage(r, "Too many attempts"), Message: mfagate.ErrorMessage(err)})
	}
	return false, nil
}

func errorIsReauth(err error) bool { return errors.Is(err, account.ErrReauth) }

// waitInline turns a code refused for coming too soon after wrong ones
// into an error for the code field, saying the time from which the
// person may try again, so that the page keeps its form instead of
// giving way to a page with none. Other errors are returned as they are.
func waitInline(st *site.Site, err error) error {
	var we *account.WaitError
	if !errors.As(err, &we) {
		return err
	}
	secs := max(int(we.Wait.Round(time.Second)/time.Second), 1)
	return mfagate.Errorf(mfagate.EINVALID, "Too many wrong codes in a row. You can try again at %s (in %s)",
		we.Until.In(st.Loc()).Format("15:04:05"), mfagate.Plural(secs, "second", "seconds"))
}
