package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The people list and its CSV export: the same filters, one on a page of
// peoplePageSize rows with "Next page", the other the whole list.

const (
	peoplePageSize = 50
	csvBatch       = 1000 // rows read per query while exporting
)

// peopleQuery is the people list's filters, as given in the URL.
type peopleQuery struct {
	Q, Role, MFA string
	Locked       bool
	Unreached    bool // only people whose address a mail server refuses
	After        int64
}

// mfaChoices are the MFA states the list can be filtered by.
var mfaChoices = []struct{ Value, Label string }{
	{mfagate.MFAAny, "Any"},
	{mfagate.MFANone, "Not set up"},
	{mfagate.MFASetUp, "Set up, any method"},
	{mfagate.MFAEmail, site.MethodLabel(mfagate.MethodEmail)},
	{mfagate.MFATOTP, site.MethodLabel(mfagate.MethodTOTP)},
}

// readPeopleQuery reads the filters; problems come back as field errors.
func readPeopleQuery(r *http.Request) (peopleQuery, []site.FieldError) {
	in := r.URL.Query()
	q := peopleQuery{
		Q:      strings.TrimSpace(in.Get("q")),
		Role:   strings.ToLower(strings.TrimSpace(in.Get("role"))),
		MFA:    in.Get("mfa"),
		Locked: in.Get("locked") != "",
		// Like locked, any value asks for it: a checkbox sends "yes".
		Unreached: in.Get("unreached") != "",
	}
	var errs []site.FieldError
	if len(q.Q) > 200 {
		errs = append(errs, site.FieldError{Field: "q", Message: "Search for 200 characters or fewer"})
	}
	if len(q.Role) > 64 {
		errs = append(errs, site.FieldError{Field: "role", Message: "Choose a role from the list"})
	}
	if !slices.ContainsFunc(mfaChoices, func(c struct{ Value, Label string }) bool { return c.Value == q.MFA }) {
		errs = append(errs, site.FieldError{Field: "mfa", Message: "Choose a security code state from the list"})
	}
	if a := in.Get("after"); a != "" {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id < 0 {
			errs = append(errs, site.FieldError{Field: "q", Message: "The page link is broken: search again from the first page"})
		}
		q.After = id
	}
	return q, errs
}

func (q peopleQuery) filter(limit int) mfagate.PeopleFilter {
	return mfagate.PeopleFilter{Query: q.Q, Role: q.Role, MFA: q.MFA, Locked: q.Locked, Unreached: q.Unreached,
		AfterID: q.After, Limit: limit}
}

// values are the filters as URL parameters, without the page.
func (q peopleQuery) values() url.Values {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Role != "" {
		v.Set("role", q.Role)
	}
	if q.MFA != "" {
		v.Set("mfa", q.MFA)
	}
	if q.Locked {
		v.Set("locked", "yes")
	}
	if q.Unreached {
		v.Set("unreached", "yes")
	}
	return v
}

// personRow is one person in the list.
type personRow struct {
	Username, Name, Email, Link string
	Roles                       string
	Tags                        []string
	LastSignIn                  time.Time
}

// statusTags describe a person's state in words, never by colour alone.
func statusTags(u *mfagate.User, methods []string, locked bool) []string {
	var tags []string
	if len(methods) == 0 {
		tags = append(tags, "Not set up")
		switch {
		case u.Skips == 1:
			tags = append(tags, "Skipped once")
		case u.Skips > 1:
			tags = append(tags, fmt.Sprintf("Skipped %d times", u.Skips))
		}
	} else {
		var names []string
		for _, m := range methods {
			names = append(names, mfagate.MethodName(m))
		}
		tags = append(tags, "Set up: "+strings.Join(names, " and "))
	}
	if u.Invited() {
		tags = append(tags, "Invited, not accepted")
	} else if u.LastSignInAt.IsZero() {
		tags = append(tags, "Never signed in")
	}
	if locked {
		tags = append(tags, "Locked")
	}
	if !u.UnreachedAt.IsZero() {
		tags = append(tags, "Emails refused")
	}
	if u.Disabled {
		tags = append(tags, "Disabled")
	}
	return tags
}

func personLink(username string) string { return "/admin/people/" + url.PathEscape(username) }

type peopleView struct {
	consolePage
	Query     peopleQuery
	MFAs      []struct{ Value, Label string }
	Roles     []string
	People    []personRow
	Searched  bool
	NextPage  string
	FirstPage string
	CSV       string
}

// People is the people list (GET /admin/people).
func People(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := peopleView{consolePage: newConsolePage(d.Site, r, "Find a person", AreaPeople), MFAs: mfaChoices}
		q, errs := readPeopleQuery(r)
		v.Query, v.Roles = q, knownRoles(d.Accounts, q.Role)
		v.Searched = len(q.values()) > 0
		if errs != nil {
			v.Errors = errs
			return d.Site.Render(w, r, http.StatusBadRequest, "admin_people", v)
		}
		list, err := d.Accounts.SearchPeople(r.Context(), q.filter(peoplePageSize+1))
		if err != nil {
			return err
		}
		more := len(list) > peoplePageSize
		if more {
			list = list[:peoplePageSize]
		}
		for _, p := range list {
			v.People = append(v.People, personRow{
				Username: p.User.Username, Name: p.User.Name, Email: p.User.Email, Link: personLink(p.User.Username),
				Roles: strings.Join(p.User.Roles, ", "), Tags: statusTags(p.User, p.Methods, p.Locked), LastSignIn: p.User.LastSignInAt,
			})
		}
		vals := q.values()
		v.CSV = "/admin/people.csv"
		if len(vals) > 0 {
			v.CSV += "?" + vals.Encode()
		}
		if more {
			next := q.values()
			next.Set("after", strconv.FormatInt(list[len(list)-1].User.ID, 10))
			v.NextPage = "/admin/people?" + next.Encode()
		}
		if q.After > 0 {
			v.FirstPage = "/admin/people"
			if len(vals) > 0 {
				v.FirstPage += "?" + vals.Encode()
			}
		}
		return d.Site.Render(w, r, http.StatusOK, "admin_people", v)
	}
}

// knownRoles are the roles offered in the filter: the four known ones,
// those the rollout names, and the one asked for.
func knownRoles(accounts *account.Service, asked string) []string {
	roles := []string{mfagate.RoleAdmin, mfagate.RoleUser, mfagate.RoleOperator, mfagate.RoleSupport}
	for _, a := range accounts.RolloutRoles() {
		if !slices.Contains(roles, a) {
			roles = append(roles, a)
		}
	}
	if asked != "" && !slices.Contains(roles, asked) {
		roles = append(roles, asked)
	}
	return roles
}

// PeopleCSV exports the filtered list, every page of it (GET
// /admin/people.csv).
func PeopleCSV(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q, errs := readPeopleQuery(r)
		if errs != nil {
			return mfagate.Errorf(mfagate.EINVALID, "%s", errs[0].Message)
		}
		f := q.filter(csvBatch)
		// The first batch is read before anything is written, so that an
		// error still gets a proper page.
		batch, err := d.Accounts.SearchPeople(r.Context(), f)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="people.csv"`)
		h.Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		cw.Write([]string{"username", "name", "email", "roles", "mfa", "skips", "last_sign_in", "locked"})
		for {
			for _, p := range batch {
				cw.Write(csvSafe(
					p.User.Username, p.User.Name, p.User.Email, strings.Join(p.User.Roles, ","),
					csvMFA(p.Methods), strconv.Itoa(p.User.Skips), csvTime(p.User.LastSignInAt), yesNo(p.Locked),
				))
			}
			if len(batch) < csvBatch {
				break
			}
			f.AfterID = batch[len(batch)-1].User.ID
			if batch, err = d.Accounts.SearchPeople(r.Context(), f); err != nil {
				// Too late for an error page: cut the download short so it
				// cannot pass for a complete one.
				d.Site.Logger().ErrorContext(r.Context(), "export people", "err", err, "request_id", site.RequestID(w))
				cw.Flush()
				panic(http.ErrAbortHandler)
			}
		}
		cw.Flush()
		return nil
	}
}

// csvSafe guards cells against formula injection: a spreadsheet runs a
// cell starting with = + - @ (or a tab or carriage return, which some
// treat the same way) as a formula, so such cells get a leading quote,
// as OWASP advises.
func csvSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

func csvMFA(methods []string) string {
	if len(methods) == 0 {
		return "none"
	}
	return strings.Join(methods, "+")
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
