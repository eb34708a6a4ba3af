package web

import (
	"net/http"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

type loginView struct {
	site.Page
	Username string
	Rd       string
}

func handleLoginForm(st *site.Site) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rd := r.URL.Query().Get("rd")
		cur, err := st.Current(r)
		if err != nil {
			return err
		}
		if cur != nil && cur.Session.Stage == mfagate.StageFull {
			http.Redirect(w, r, st.SafeRedirect(rd), http.StatusSeeOther)
			return nil
		}
		v := loginView{Page: st.NewPage(r, "Sign in"), Rd: st.KeepRedirect(rd)}
		if r.URL.Query().Has("signed_out") {
			v.Notice = "You have signed out."
		}
		return st.Render(w, r, http.StatusOK, "login", v)
	}
}

func handleLogin(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := loginView{Page: st.NewPage(r, "Sign in")}
		r.Body = http.MaxBytesReader(w, r.Body, site.MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			v.Errors = []site.FieldError{{Field: "username", Message: "The form could not be read. Try again"}}
			return st.Render(w, r, http.StatusBadRequest, "login", v)
		}
		username, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
		v.Rd = st.KeepRedirect(r.PostForm.Get("rd"))
		if utf8.ValidString(username) && len(username) <= account.MaxUsernameBytes {
			v.Username = username
		}
		var errs []site.FieldError
		if username == "" {
			errs = append(errs, site.FieldError{Field: "username", Message: "Enter your username"})
		}
		if pw == "" {
			errs = append(errs, site.FieldError{Field: "password", Message: "Enter your password"})
		}
		if errs != nil {
			v.Errors = errs
			return st.Render(w, r, http.StatusBadRequest, "login", v)
		}
		in, err := accounts.SignIn(r.Context(), account.SignIn{
			Username: username, Password: pw, OldToken: st.Cookie.Token(r),
			Client: account.Actor{ClientAddr: st.ClientAddr(r), UserAgent: r.UserAgent(), Device: st.Cookie.DeviceToken(r)},
		})
		if err != nil {
			code := mfagate.ErrorCode(err)
			if code != mfagate.EINVALID && code != mfagate.EUNAUTHORIZED {
				return err
			}
			v.Errors = []site.FieldError{{Field: "username", Message: mfagate.ErrorMessage(err)}}
			return st.Render(w, r, site.Status(code), "login", v)
		}
		return startSession(st, accounts, w, r, in, r.PostForm.Get("rd"))
	}
}

// startSession gives the browser the new session that a password step
// began (a sign-in, or a password chosen by an emailed link) and sends
// the person on to what comes next: the challenge, setup, or rd.
func startSession(st *site.Site, accounts *account.Service, w http.ResponseWriter, r *http.Request, in *account.SignedIn, rd string) error {
	st.Cookie.Set(w, in.Token)
	st.Cookie.SetDevice(w, in.Device)
	cur := &account.Current{Session: in.Session, User: in.User}
	target, err := nextStep(st, accounts, site.WithCurrent(r, cur), cur, in.Next, rd)
	if err != nil {
		return err
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func handleLogout(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if tok := st.Cookie.Token(r); tok != "" {
			if err := accounts.SignOut(r.Context(), tok, account.Actor{ClientAddr: st.ClientAddr(r)}); err != nil {
				return err
			}
		}
		st.Cookie.Clear(w)
		http.Redirect(w, r, "/login?signed_out", http.StatusSeeOther)
		return nil
	}
}
