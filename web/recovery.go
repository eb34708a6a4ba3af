package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

type recoveryView struct {
	page
	Rd    string
	Codes []string
	Made  time.Time
}

// handleRecoveryCodes shows new recovery codes: once, in the session that
// made them, until the person says they have saved them.
func (s *server) handleRecoveryCodes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes, err := s.Accounts.PendingRecoveryCodes(currentFrom(r))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		v := recoveryView{page: s.newPage(r, "Save your recovery codes"), Rd: s.keepRedirect(r.FormValue("rd")),
			Codes: codes, Made: s.Accounts.Now()}
		if codes == nil {
			v.Title = "No new recovery codes to show"
		}
		s.render(w, r, http.StatusOK, "recovery_codes", v)
	})
}

// handleRecoveryCodesText serves the same codes as a text file to keep.
func (s *server) handleRecoveryCodesText() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := currentFrom(r)
		codes, err := s.Accounts.PendingRecoveryCodes(cur)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if codes == nil {
			s.renderError(w, r, mfagate.Errorf(mfagate.ENOTFOUND, "There are no new recovery codes to download. Make new ones from your account page"))
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s recovery codes for %s\r\nMade on %s\r\n\r\n", s.site.Product, cur.User.Username,
			s.Accounts.Now().UTC().Format("2 January 2006 at 15:04 UTC"))
		fmt.Fprintf(&b, "Each code works once. Use one when you cannot get a security code any other way.\r\n\r\n")
		for _, c := range codes {
			b.WriteString(c + "\r\n")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+s.site.Product+`-recovery-codes.txt"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(b.String()))
	})
}

// handleRecoveryCodesDone takes "I've saved them" (action=saved) or "Get
// new codes" (action=new).
func (s *server) handleRecoveryCodesDone() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		cur, rd := currentFrom(r), r.PostForm.Get("rd")
		if r.PostForm.Get("action") == "new" {
			if err := s.Accounts.RenewRecoveryCodes(r.Context(), cur, s.actor(r)); err != nil {
				if !s.limitReached(w, r, err) {
					s.renderError(w, r, err)
				}
				return
			}
			http.Redirect(w, r, s.withRd("/mfa/recovery-codes", rd), http.StatusSeeOther)
			return
		}
		if err := s.Accounts.RecoveryCodesSaved(r.Context(), cur); err != nil {
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, s.safeRedirect(rd), http.StatusSeeOther)
	})
}

// handleRenewRecoveryCodes makes new codes from the account page.
func (s *server) handleRenewRecoveryCodes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		if err := s.Accounts.RenewRecoveryCodes(r.Context(), currentFrom(r), s.actor(r)); err != nil {
			if errorIsReauth(err) {
				http.Redirect(w, r, s.withRd("/mfa/challenge", "/account"), http.StatusSeeOther)
				return
			}
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, "/mfa/recovery-codes?rd=%2Faccount", http.StatusSeeOther)
	})
}

// handleRemoveFactor removes one of the person's factors.
func (s *server) handleRemoveFactor() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.parseForm(w, r) {
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.renderError(w, r, mfagate.Errorf(mfagate.ENOTFOUND, "That way of getting codes is not set up for your account"))
			return
		}
		if err := s.Accounts.RemoveFactor(r.Context(), currentFrom(r), id, s.actor(r)); err != nil {
			if errorIsReauth(err) {
				http.Redirect(w, r, s.withRd("/mfa/challenge", "/account"), http.StatusSeeOther)
				return
			}
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, "/account?removed", http.StatusSeeOther)
	})
}
