package web

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

type homeView struct {
	page
}

// handleHome is where people land once signed in.
func (s *server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := homeView{page: s.newPage(r, "You are signed in")}
		var err error
		if v.Banner, err = s.rolloutBanner(r); err != nil {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "home", v)
	})
}

type sessionRow struct {
	Current    bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ClientAddr string
	UserAgent  string
}

type accountView struct {
	page
	Sessions          []sessionRow
	Factors           []*mfagate.Factor
	HasEmail, HasTOTP bool
	RecoveryLeft      int
}

func (s *server) handleAccount() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := currentFrom(r)
		list, err := s.Accounts.Sessions(r.Context(), cur)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		v := accountView{page: s.newPage(r, "Your account")}
		if v.Banner, err = s.rolloutBanner(r); err != nil {
			s.renderError(w, r, err)
			return
		}
		if v.Factors, err = s.Accounts.Factors(r.Context(), cur.User.ID); err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, f := range v.Factors {
			v.HasEmail = v.HasEmail || f.Method == mfagate.MethodEmail
			v.HasTOTP = v.HasTOTP || f.Method == mfagate.MethodTOTP
		}
		if v.RecoveryLeft, err = s.Accounts.RecoveryCodesLeft(r.Context(), cur.User.ID); err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, sess := range list {
			v.Sessions = append(v.Sessions, sessionRow{
				Current:   bytes.Equal(sess.Hash, cur.Session.Hash),
				CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
				ClientAddr: sess.ClientAddr, UserAgent: sess.UserAgent,
			})
		}
		switch {
		case r.URL.Query().Has("password_changed"):
			v.Notice = "Your password has been changed. You have been signed out everywhere else."
		case r.URL.Query().Has("ended"):
			v.Notice = "You have been signed out everywhere else."
		case r.URL.Query().Has("added"):
			v.Notice = "Done: you will be asked for a code from it when you sign in."
		case r.URL.Query().Has("removed"):
			v.Notice = "Removed. We have emailed you to confirm."
		}
		s.render(w, r, http.StatusOK, "account", v)
	})
}

func (s *server) handleEndOtherSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Accounts.EndOtherSessions(r.Context(), currentFrom(r), account.Actor{ClientAddr: s.clientAddr(r)}); err != nil {
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, "/account?ended", http.StatusSeeOther)
	})
}

type passwordView struct {
	page
}

func (s *server) handlePasswordForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "password", passwordView{page: s.newPage(r, "Change your password")})
	})
}

func (s *server) handlePasswordChange() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := passwordView{page: s.newPage(r, "Change your password")}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			v.Errors = []fieldError{{"current_password", "The form could not be read. Try again"}}
			s.render(w, r, http.StatusBadRequest, "password", v)
			return
		}
		current, next, again := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
		switch {
		case next == "":
			v.Errors = []fieldError{{"new_password", "Enter a new password"}}
		case next != again:
			v.Errors = []fieldError{{"confirm_password", "The passwords do not match. Type the new password again"}}
		}
		if v.Errors == nil {
			err := s.Accounts.ChangePassword(r.Context(), currentFrom(r), current, next, account.Actor{ClientAddr: s.clientAddr(r)})
			switch {
			case err == nil:
				http.Redirect(w, r, "/account?password_changed", http.StatusSeeOther)
				return
			case mfagate.ErrorCode(err) != mfagate.EINVALID:
				s.renderError(w, r, err)
				return
			case errors.Is(err, account.ErrNoCurrentPassword) || errors.Is(err, account.ErrWrongCurrentPassword):
				v.Errors = []fieldError{{"current_password", mfagate.ErrorMessage(err)}}
			default:
				v.Errors = []fieldError{{"new_password", mfagate.ErrorMessage(err)}}
			}
		}
		s.render(w, r, http.StatusBadRequest, "password", v)
	})
}
