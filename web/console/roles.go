package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The roles form of the person page, and the roles offered when adding a
// person: the installation's known roles, as checkboxes. Support gives
// and takes away the organisation's roles; operator and support are
// given only at the server's command line, so they are shown, not
// offered.

// roleChoice is one role's checkbox.
type roleChoice struct {
	Name, Description string
	Checked           bool
}

// roleField is the checkboxes of the roles (templates/_roles.html).
type roleField struct {
	Choices     []roleChoice
	Hint, Error string
}

// rolesForm is the person page's form to change roles.
type rolesForm struct {
	Field       roleField
	Reason      string
	ReasonError string
}

// staffOnlyHint is the roles' hint where operator and support cannot be
// given.
const staffOnlyHint = "Operator and support are given only at the server's command line."

// roleChoices are the roles support may give, checked when in held.
func roleChoices(accounts *account.Service, held []string) []roleChoice {
	var out []roleChoice
	for _, r := range accounts.KnownRoles() {
		if !r.Staff {
			out = append(out, roleChoice{Name: r.Name, Description: r.Description, Checked: slices.Contains(held, r.Name)})
		}
	}
	return out
}

func newRolesForm(accounts *account.Service, u *mfagate.User) *rolesForm {
	return &rolesForm{Field: roleField{Choices: roleChoices(accounts, u.Roles), Hint: "Tick every role they should have. " + staffOnlyHint}}
}

// rolesNotice is the person page's confirmation after a change of roles.
const rolesNotice = "Their roles are changed. An email is on its way to tell them; what they can reach follows from their next visit."

// PersonRoles changes a person's roles from the person page (POST
// /admin/people/{username}/roles).
func PersonRoles(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		roles := r.PostForm["roles"]
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		var roleErr string
		reasonErr := reasonError(reason)
		status := http.StatusBadRequest
		if len(roles) == 0 {
			roleErr = "Choose at least one role"
		}
		if roleErr == "" && reasonErr == "" {
			err := d.Accounts.SetRoles(r.Context(), d.Site.Actor(r), u.Username, roles, reason)
			switch code := mfagate.ErrorCode(err); {
			case err == nil:
				http.Redirect(w, r, personLink(u.Username)+"?"+url.Values{"done": {"roles"}}.Encode(), http.StatusSeeOther)
				return nil
			case code == mfagate.EINVALID || code == mfagate.EFORBIDDEN:
				roleErr, status = mfagate.ErrorMessage(err), site.Status(code)
			default:
				return err
			}
		}
		v, err := newPersonView(d, r, u)
		if err != nil {
			return err
		}
		v.RolesForm.Field.Choices, v.RolesForm.Field.Error = roleChoices(d.Accounts, roles), roleErr
		v.RolesForm.Reason, v.RolesForm.ReasonError = r.PostForm.Get("reason"), reasonErr
		if roleErr != "" {
			v.Errors = append(v.Errors, site.FieldError{Field: "roles-" + firstRole(v.RolesForm.Field.Choices), Message: roleErr})
		}
		if reasonErr != "" {
			v.Errors = append(v.Errors, site.FieldError{Field: "roles-reason", Message: reasonErr})
		}
		return d.Site.Render(w, r, status, "admin_person", v)
	}
}
