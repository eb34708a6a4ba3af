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
	"github.com/mfagate/mfagate/web/internal/site"
)

type challengeView struct {
	site.Page
	Rd      string
	Method  string
	Methods []string // the person's factors the challenge accepts now
	Sent    *account.CodeSent
	Minutes int
	Reauth  bool // confirming a change, not signing in
	// Typed is a recovery code refused for its form, shown again in the
	// field so that the person can mend the one character the message
	// names. A well-formed code that is wrong is not kept: it is used up
	// or not theirs, and mending will not help.
	Typed string
	// SendAgain shows the button for a new code next to the error, when
	// the code typed can no longer work (expired or used).
	SendAgain bool
	// Checkup says why a factor set up but never used is asked for first
	// (account.ChooseMethod), when Method is that factor's.
	Checkup string
}

// sentNotice confirms that a code is on its way, on the page after
// asking for one (?sent=1), so that a resend does not pass unnoticed.
func sentNotice(st *site.Site, r *http.Request, sent *account.CodeSent) string {
	if sent == nil || r.URL.Query().Get("sent") != "1" {
		return ""
	}
	return "A new code is on its way to " + sent.Address + ", sent at " + sent.SentAt.In(st.Loc()).Format("15:04 MST") +
		". Codes sent before it no longer work."
}

// codeDead reports whether a code error means the code can no longer
// work, so that a new one is what helps.
func codeDead(err error) bool {
	return errors.Is(err, emailcode.ErrExpired) || errors.Is(err, emailcode.ErrUsed)
}

func newChallengeView(st *site.Site, accounts *account.Service, r *http.Request, method string) (challengeView, error) {
	cur := site.CurrentFrom(r)
	d, factors, err := accounts.Decide(r.Context(), cur)
	if err != nil {
		return challengeView{}, err
	}
	v := challengeView{Rd: st.KeepRedirect(r.FormValue("rd")), Minutes: accounts.CodeMinutes(),
		Reauth: cur.Session.Stage == mfagate.StageFull}
	v.Methods = accounts.ChallengeMethods(cur, factors)
	first, due := accounts.ChallengeMethod(factors, d.Methods)
	if v.Reauth { // the check-up is for signing in, not for confirming a change
		first, due = account.PreferredMethod(factors, d.Methods), nil
	}
	if method == "" || (method != mfagate.MethodRecovery && !slices.Contains(v.Methods, method)) {
		method = first
	}
	v.Method = method
	if due != nil && due.Method == method {
		v.Checkup = accounts.CheckupWords(due)
	}
	switch method {
	case mfagate.MethodEmail:
		v.Page = st.NewPage(r, "Check your email")
		if v.Sent, err = accounts.PendingCode(r.Context(), cur, mfagate.PurposeSignIn); err != nil {
			return v, err
		}
		v.Notice = sentNotice(st, r, v.Sent)
	case mfagate.MethodTOTP:
		v.Page = st.NewPage(r, "Enter the code from your authenticator app")
		v.CodeHint = appCodeHint
	default:
		v.Page = st.NewPage(r, "Enter a recovery code")
	}
	return v, nil
}

// handleChallengePage asks for the second factor. Someone with no factor
// has nothing to be challenged with and is sent to set one up.
func handleChallengePage(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := newChallengeView(st, accounts, r, r.URL.Query().Get("method"))
		if err != nil {
			return err
		}
		if len(v.Methods) == 0 {
			http.Redirect(w, r, st.WithRd("/mfa/setup", v.Rd), http.StatusSeeOther)
			return nil
		}
		if v.Reauth && v.Method == mfagate.MethodEmail && v.Sent == nil {
			v.Title = "Confirm it's you"
		}
		return st.Render(w, r, http.StatusOK, "challenge", v)
	}
}

func handleChallenge(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		cur := site.CurrentFrom(r)
		method := r.PostForm.Get("method")
		out, err := accounts.Verify(r.Context(), cur, method, r.PostForm.Get("code"), st.Actor(r))
		if err == nil && out.Next.Outcome == rollout.RequireEnrollment {
			// Their factor passed, but a phase demands another method.
			st.Cookie.Set(w, out.Token)
			next := &account.Current{Session: out.Session, User: cur.User}
			target, err := nextStep(st, accounts, site.WithCurrent(r, next), next, out.Next, r.PostForm.Get("rd"))
			if err != nil {
				return err
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		}
		if err == nil {
			finishStep(st, w, r, out.Token, afterSignIn(st, cur, r.PostForm.Get("rd")))
			return nil
		}
		err = waitInline(st, err)
		if done, err := limitReached(st, accounts, w, r, err); done {
			return err
		}
		if mfagate.ErrorCode(err) != mfagate.EINVALID {
			return err
		}
		v, verr := newChallengeView(st, accounts, r, method)
		if verr != nil {
			return verr
		}
		msg := mfagate.ErrorMessage(err)
		switch {
		case errors.Is(err, emailcode.ErrWrongCode):
			msg = "That code is not correct. Check the email and try again"
		case errors.Is(err, totp.ErrWrongCode):
			msg = "That code is not correct. Check your app and try again"
		}
		if typed := r.PostForm.Get("code"); method == mfagate.MethodRecovery && err != account.ErrWrongRecoveryCode && len(typed) <= 64 {
			v.Typed = typed
		}
		v.Errors = []site.FieldError{{Field: "code", Message: msg}}
		v.SendAgain = method == mfagate.MethodEmail && codeDead(err)
		return st.Render(w, r, http.StatusBadRequest, "challenge", v)
	}
}

// handleChallengeSend emails a sign-in code.
func handleChallengeSend(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		_, err := accounts.SendCode(r.Context(), site.CurrentFrom(r), mfagate.PurposeSignIn, "", st.Actor(r))
		if err == nil {
			http.Redirect(w, r, st.WithRd("/mfa/challenge?method=email&sent=1", r.PostForm.Get("rd")), http.StatusSeeOther)
			return nil
		}
		if errors.Is(err, account.ErrLocked) {
			if done, err := limitReached(st, accounts, w, r, err); done {
				return err
			}
		}
		if c := mfagate.ErrorCode(err); c != mfagate.ETHROTTLED && c != mfagate.EINVALID {
			return err
		}
		v, verr := newChallengeView(st, accounts, r, mfagate.MethodEmail)
		if verr != nil {
			return verr
		}
		v.Errors = []site.FieldError{{Field: "resend", Message: mfagate.ErrorMessage(err)}}
		return st.Render(w, r, site.Status(mfagate.ErrorCode(err)), "challenge", v)
	}
}
