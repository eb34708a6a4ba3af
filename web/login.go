package web

import (
	"net/http"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// maxFormBytes bounds every form body; a sign-in form is tiny. checkInput
// (input.go) reads and checks each posted form within it before any
// handler runs; the handlers keep their own limit and parse as a second
// line, which then find the work done.
const maxFormBytes = 64 << 10

type loginView struct {
	page
	Username string
	Rd       string
}

func (s *server) handleLoginForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd := r.URL.Query().Get("rd")
		cur, err := s.current(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if cur != nil && cur.Session.Stage == mfagate.StageFull {
			http.Redirect(w, r, s.safeRedirect(rd), http.StatusSeeOther)
			return
		}
		v := loginView{page: s.newPage(r, "Sign in"), Rd: s.keepRedirect(rd)}
		if r.URL.Query().Has("signed_out") {
			v.Notice = "You have signed out."
		}
		s.render(w, r, http.StatusOK, "login", v)
	})
}

// keepRedirect carries rd through the form only when it is safe.
func (s *server) keepRedirect(rd string) string {
	if s.safeRedirect(rd) == "/" {
		return ""
	}
	return rd
}

func (s *server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := loginView{page: s.newPage(r, "Sign in")}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			v.Errors = []fieldError{{"username", "The form could not be read. Try again"}}
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		username, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
		v.Rd = s.keepRedirect(r.PostForm.Get("rd"))
		if utf8.ValidString(username) && len(username) <= account.MaxUsernameBytes {
			v.Username = username
		}
		var errs []fieldError
		if username == "" {
			errs = append(errs, fieldError{"username", "Enter your username"})
		}
		if pw == "" {
			errs = append(errs, fieldError{"password", "Enter your password"})
		}
		if errs != nil {
			v.Errors = errs
			s.render(w, r, http.StatusBadRequest, "login", v)
			return
		}
		in, err := s.Accounts.SignIn(r.Context(), account.SignIn{
			Username: username, Password: pw, OldToken: s.cookie.token(r),
			Client: account.Actor{ClientAddr: s.clientAddr(r), UserAgent: r.UserAgent(), Device: s.cookie.deviceToken(r)},
		})
		if err != nil {
			code := mfagate.ErrorCode(err)
			if code != mfagate.EINVALID && code != mfagate.EUNAUTHORIZED {
				s.renderError(w, r, err)
				return
			}
			v.Errors = []fieldError{{"username", mfagate.ErrorMessage(err)}}
			s.render(w, r, statusOf(code), "login", v)
			return
		}
		s.cookie.set(w, in.Token)
		s.cookie.setDevice(w, in.Device)
		cur := &account.Current{Session: in.Session, User: in.User}
		target, err := s.nextStep(withCurrent(r, cur), cur, in.Next, r.PostForm.Get("rd"))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

func (s *server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := s.cookie.token(r); tok != "" {
			if err := s.Accounts.SignOut(r.Context(), tok, account.Actor{ClientAddr: s.clientAddr(r)}); err != nil {
				s.renderError(w, r, err)
				return
			}
		}
		s.cookie.clear(w)
		http.Redirect(w, r, "/login?signed_out", http.StatusSeeOther)
	})
}
