package console

import (
	"net/http"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The person page's form to give someone another email address
// (account.ChangeEmail), with a reason. It asks for an address as well as
// the reason, so it has a form of its own beside the other actions.

// emailForm is the address change's form on the person page.
type emailForm struct {
	Path                     string
	Email, EmailError        string // as typed, after an error
	Reason, ReasonError      string
	Unconfirmed, CodeAddress string // set while an address waits to be confirmed
}

// emailDone is the person page's query after a change of address.
const emailDone = "email"

func newEmailForm(u *mfagate.User) *emailForm {
	f := &emailForm{Path: personLink(u.Username) + "/email"}
	if u.EmailUnconfirmed() {
		f.Unconfirmed, f.CodeAddress = u.Email, u.CodeAddress()
	}
	return f
}

// PersonEmail gives a person another email address (POST
// /admin/people/{username}/email, fields email and reason).
func PersonEmail(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		f := newEmailForm(u)
		f.Email, f.Reason = r.PostForm.Get("email"), r.PostForm.Get("reason")
		reason := strings.TrimSpace(f.Reason)
		status := http.StatusBadRequest
		if strings.TrimSpace(f.Email) == "" {
			f.EmailError = "Enter the new email address"
		} else {
			f.ReasonError = reasonError(reason)
		}
		if f.EmailError == "" && f.ReasonError == "" {
			err := d.Accounts.ChangeEmail(r.Context(), d.Site.Actor(r), u.Username, f.Email, reason)
			switch code := mfagate.ErrorCode(err); {
			case err == nil:
				http.Redirect(w, r, personLink(u.Username)+"?done="+emailDone, http.StatusSeeOther)
				return nil
			case code == mfagate.EINVALID || code == mfagate.ECONFLICT:
				f.EmailError, status = mfagate.ErrorMessage(err), site.Status(code)
			case code == mfagate.EFORBIDDEN:
				f.ReasonError, status = mfagate.ErrorMessage(err), site.Status(code)
			default:
				return err
			}
		}
		v, err := newPersonView(d, r, u)
		if err != nil {
			return err
		}
		v.ChangeEmail = f
		if f.EmailError != "" {
			v.Errors = append(v.Errors, site.FieldError{Field: "new-email", Message: f.EmailError})
		}
		if f.ReasonError != "" {
			v.Errors = append(v.Errors, site.FieldError{Field: "email-reason", Message: f.ReasonError})
		}
		return d.Site.Render(w, r, status, "admin_person", v)
	}
}
