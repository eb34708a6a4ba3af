package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The console (/admin) is for the vendor's staff. Who may see what is one
// table, consoleAccess, read by the middleware that guards every console
// route and by the navigation, so the two cannot disagree.

// Area is a part of the console with its own audience.
type Area int

// The areas of the console, which routes.go guards each route with.
const (
	AreaDashboard Area = iota // the rollout dashboard and its forecast list
	AreaPeople                // people list, person page, support actions, CSV export
	AreaAudit                 // the whole audit log
)

// consoleAccess is the role matrix of the console:
//
//	area        operator  support
//	dashboard   yes       yes    (includes the read-only forecast list)
//	people      no        yes    (includes the support actions and the CSV export)
//	audit log   yes       no
//
// Operators run the rollout: they watch progress and read the audit log,
// but do not act on people's d.Accounts. Support staff help people: they
// find them, see their state and history (a person's own audit history is
// on their page) and act for them. Someone with both roles gets both.
var consoleAccess = []struct {
	area  Area
	path  string
	label string
	roles []string
}{
	{AreaDashboard, "/admin", "Dashboard", []string{mfagate.RoleOperator, mfagate.RoleSupport}},
	{AreaPeople, "/admin/people", "People", []string{mfagate.RoleSupport}},
	{AreaAudit, "/admin/audit", "Audit log", []string{mfagate.RoleOperator}},
}

// mayUse reports whether u may use area of the console.
func mayUse(u *mfagate.User, area Area) bool {
	if u == nil {
		return false
	}
	for _, a := range consoleAccess {
		if a.area == area {
			return slices.ContainsFunc(a.roles, u.HasRole)
		}
	}
	return false
}

// RequireStaff lets through people fully signed in with a second factor
// whose role may use area; site.RequireSignIn first deals with everyone
// not fully signed in. Staff always need MFA (SPEC section 4: "only staff
// who are themselves fully signed in with MFA"): a staff session that has
// not passed a second factor, or whose account has no factor left, is
// refused.
func RequireStaff(d Deps, area Area, next site.HandlerFunc) site.HandlerFunc {
	return d.Site.RequireSignIn(func(w http.ResponseWriter, r *http.Request) error {
		cur := site.CurrentFrom(r)
		if !mayUse(cur.User, area) {
			return mfagate.Errorf(mfagate.EFORBIDDEN,
				"This part of the console is for %s. Those roles are given only at the server that runs mfagate: "+
					"if you need one, ask whoever runs mfagate for your organisation, or your support team", rolesFor(area))
		}
		factors, err := d.Accounts.Factors(r.Context(), cur.User.ID)
		if err != nil {
			return err
		}
		if len(factors) == 0 || cur.Session.SecondFactorAt.IsZero() {
			return mfagate.Errorf(mfagate.EFORBIDDEN,
				"Staff must sign in with a security code to use the console. Set up a way to get security codes on your account page, then sign out and sign in again")
		}
		return next(w, r)
	})
}

// rolesFor names who may use area, for the refusal page.
func rolesFor(area Area) string {
	for _, a := range consoleAccess {
		if a.area == area {
			switch {
			case len(a.roles) == 1 && a.roles[0] == mfagate.RoleSupport:
				return "people with the support role"
			case len(a.roles) == 1 && a.roles[0] == mfagate.RoleOperator:
				return "people with the operator role"
			}
		}
	}
	return "people with the operator or support role"
}

// navLink is one link of the console's navigation.
type navLink struct {
	Href, Label string
	Current     bool
}

// consolePage is what every console view embeds: the page and the
// console's navigation, limited to what the person's role allows.
type consolePage struct {
	site.Page
	Nav []navLink
}

func newConsolePage(st *site.Site, r *http.Request, title string, here Area) consolePage {
	p := consolePage{Page: st.NewPage(r, title)}
	for _, a := range consoleAccess {
		if mayUse(p.User, a.area) {
			p.Nav = append(p.Nav, navLink{Href: a.path, Label: a.label, Current: a.area == here})
		}
	}
	return p
}

// Link is where the header's "Console" link goes for the signed-in
// person u, or "" when they have no part of the console.
func Link(u *mfagate.User) string {
	for _, a := range consoleAccess {
		if mayUse(u, a.area) {
			return a.path
		}
	}
	return ""
}

// accessRow is one line of the role matrix, as the dashboard shows it.
type accessRow struct {
	Label, Who string
}

// accessMatrix writes consoleAccess out for people to read.
func accessMatrix() []accessRow {
	var out []accessRow
	for _, a := range consoleAccess {
		var who []string
		for _, r := range a.roles {
			who = append(who, site.RoleLabel(r))
		}
		label := a.label
		if a.area == AreaDashboard {
			label += " and its forecast lists of who must set up"
		}
		if a.area == AreaPeople {
			label += ", a person's page and history, support actions, CSV export"
		}
		out = append(out, accessRow{Label: label, Who: strings.Join(who, " and ")})
	}
	return out
}
