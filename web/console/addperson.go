package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Adding a person from the console: their username, name, address and
// roles, and an invitation by email to choose their password. Staff
// accounts are made only at the server's command line (the use case
// refuses them), so the form offers the organisation's roles alone.

type addPersonView struct {
	consolePage
	Username, Name, Email string
	Roles                 roleField
	InviteFor             string // how long the invitation's link works
}

// AddPersonForm is the empty form (GET /admin/add-person: outside
// /admin/people/, so that no username can be mistaken for it).
func AddPersonForm(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := newAddPersonView(d, r)
		v.Roles.Choices = roleChoices(d.Accounts, []string{mfagate.RoleUser})
		return d.Site.Render(w, r, http.StatusOK, "admin_add_person", v)
	}
}

func newAddPersonView(d Deps, r *http.Request) addPersonView {
	return addPersonView{consolePage: newConsolePage(d.Site, r, "Add a person", AreaPeople), InviteFor: d.Accounts.InviteLasts(),
		Roles: roleField{Hint: "Tick every role they should have. Roles decide which phase of the rollout applies to them and which applications let them in. " +
			"Operator and support accounts are made only at the server's command line."}}
}

// AddPerson makes the account and sends the invitation (POST
// /admin/add-person), then shows their page; a problem comes back next
// to its field, and nothing is made.
func AddPerson(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		v := newAddPersonView(d, r)
		v.Username, v.Name, v.Email = r.PostForm.Get("username"), r.PostForm.Get("name"), r.PostForm.Get("email")
		roles := r.PostForm["roles"]
		v.Roles.Choices = roleChoices(d.Accounts, roles)
		if len(roles) == 0 {
			v.Roles.Error = "Choose at least one role"
			v.Errors = append(v.Errors, site.FieldError{Field: "roles-" + firstRole(v.Roles.Choices), Message: v.Roles.Error})
			return d.Site.Render(w, r, http.StatusBadRequest, "admin_add_person", v)
		}
		u, err := d.Accounts.CreateUser(r.Context(), d.Site.Actor(r), account.NewUser{
			Username: v.Username, Name: v.Name, Email: v.Email, Roles: roles, Invite: true,
		})
		switch code := mfagate.ErrorCode(err); {
		case err == nil:
			http.Redirect(w, r, personLink(u.Username)+"?"+url.Values{"done": {"added"}}.Encode(), http.StatusSeeOther)
			return nil
		case code == mfagate.EINVALID || code == mfagate.ECONFLICT || code == mfagate.EFORBIDDEN:
			msg := mfagate.ErrorMessage(err)
			field := fieldOf(msg)
			if field == "roles" || code == mfagate.EFORBIDDEN { // a staff role
				field, v.Roles.Error = "roles-"+firstRole(v.Roles.Choices), msg
			}
			v.Errors = append(v.Errors, site.FieldError{Field: field, Message: msg})
			return d.Site.Render(w, r, site.Status(code), "admin_add_person", v)
		default:
			return err
		}
	}
}

// addedNotice is the person page's confirmation after adding them.
const addedNotice = "The account is made. An invitation is on its way to them: its link lets them choose a password."

// fieldOf tells which field of the form an account error is about, by
// what it names.
func fieldOf(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "username"):
		return "username"
	case strings.Contains(m, "address"):
		return "email"
	case strings.Contains(m, "role"):
		return "roles"
	case strings.HasPrefix(m, "name"):
		return "name"
	}
	return "username"
}

// firstRole is the first checkbox's role, which the error summary links
// to.
func firstRole(cs []roleChoice) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].Name
}
