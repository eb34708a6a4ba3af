package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

type recoveryView struct {
	site.Page
	Rd    string
	Codes []string
	Made  time.Time
}

// handleRecoveryCodes shows new recovery codes: once, in the session that
// made them, until the person says they have saved them.
func handleRecoveryCodes(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		codes, err := accounts.PendingRecoveryCodes(site.CurrentFrom(r))
		if err != nil {
			return err
		}
		v := recoveryView{Page: st.NewPage(r, "Save your recovery codes"), Rd: st.KeepRedirect(r.FormValue("rd")),
			Codes: codes, Made: accounts.Now()}
		if codes == nil {
			v.Title = "No new recovery codes to show"
		}
		return st.Render(w, r, http.StatusOK, "recovery_codes", v)
	}
}

// handleRecoveryCodesText serves the same codes as a text file to keep.
func handleRecoveryCodesText(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		cur := site.CurrentFrom(r)
		codes, err := accounts.PendingRecoveryCodes(cur)
		if err != nil {
			return err
		}
		if codes == nil {
			return mfagate.Errorf(mfagate.ENOTFOUND, "There are no new recovery codes to download. Make new ones from your account page")
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s recovery codes for %s\r\nMade on %s\r\n\r\n", st.Product(), cur.User.Username,
			accounts.Now().UTC().Format("2 January 2006 at 15:04 UTC"))
		fmt.Fprintf(&b, "Each code works once. Use one when you cannot get a security code any other way.\r\n\r\n")
		for _, c := range codes {
			b.WriteString(c + "\r\n")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+st.Product()+`-recovery-codes.txt"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(b.String()))
		return nil
	}
}

// handleRecoveryCodesDone takes "I've saved them" (action=saved) or "Get
// new codes" (action=new).
func handleRecoveryCodesDone(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		cur, rd := site.CurrentFrom(r), r.PostForm.Get("rd")
		if r.PostForm.Get("action") == "new" {
			if err := accounts.RenewRecoveryCodes(r.Context(), cur, st.Actor(r)); err != nil {
				if done, lerr := limitReached(st, accounts, w, r, err); done {
					return lerr
				}
				return err
			}
			http.Redirect(w, r, st.WithRd("/mfa/recovery-codes", rd), http.StatusSeeOther)
			return nil
		}
		if err := accounts.RecoveryCodesSaved(r.Context(), cur); err != nil {
			return err
		}
		http.Redirect(w, r, st.SafeRedirect(rd), http.StatusSeeOther)
		return nil
	}
}

// handleRenewRecoveryCodes makes new codes from the account page.
func handleRenewRecoveryCodes(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		if err := accounts.RenewRecoveryCodes(r.Context(), site.CurrentFrom(r), st.Actor(r)); err != nil {
			if errorIsReauth(err) {
				http.Redirect(w, r, st.WithRd("/mfa/challenge", "/account"), http.StatusSeeOther)
				return nil
			}
			return err
		}
		http.Redirect(w, r, "/mfa/recovery-codes?rd=%2Faccount", http.StatusSeeOther)
		return nil
	}
}

// handleRemoveFactor removes one of the person's factors.
func handleRemoveFactor(st *site.Site, accounts *account.Service) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return mfagate.Errorf(mfagate.ENOTFOUND, "That way of getting codes is not set up for your account")
		}
		if err := accounts.RemoveFactor(r.Context(), site.CurrentFrom(r), id, st.Actor(r)); err != nil {
			if errorIsReauth(err) {
				http.Redirect(w, r, st.WithRd("/mfa/challenge", "/account"), http.StatusSeeOther)
				return nil
			}
			return err
		}
		http.Redirect(w, r, "/account?removed", http.StatusSeeOther)
		return nil
	}
}
