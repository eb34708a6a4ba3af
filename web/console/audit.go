package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The audit log, for operators: filters, newest first, paged backwards by
// event id.

const auditPageSize = 50

// auditKinds are the kinds offered as suggestions in the filter, with what
// each means.
var auditKinds = []struct{ Kind, Label string }{
	{mfagate.AuditSignInPassword, "Password step of signing in"},
	{mfagate.AuditSignInFactor, "Security code at sign-in"},
	{mfagate.AuditSignOut, "Signed out"},
	{mfagate.AuditSessionRevoked, "Sessions ended"},
	{mfagate.AuditCodeSent, "Email code sent"},
	{mfagate.AuditFactorAdd, "Way of getting codes set up"},
	{mfagate.AuditFactorRemove, "Way of getting codes removed"},
	{mfagate.AuditRecoveryUse, "Recovery code used"},
	{mfagate.AuditRecoveryRenew, "New recovery codes"},
	{mfagate.AuditSetupSkip, "Setup skipped"},
	{mfagate.AuditMFAReset, "Security codes reset by staff"},
	{mfagate.AuditLock, "Account locked"},
	{mfagate.AuditUnlock, "Account unlocked by staff"},
	{mfagate.AuditExtend, "More time given"},
	{mfagate.AuditCampaign, "Rollout emails queued"},
	{mfagate.AuditAddressFixed, "Email address marked as fixed, emails sent again"},
	{mfagate.AuditUserCreate, "Account created"},
	{mfagate.AuditUserUpdate, "Account changed"},
	{mfagate.AuditRolesChange, "Roles changed"},
	{mfagate.AuditEmailChange, "Email address changed"},
	{mfagate.AuditUserDisable, "Account disabled"},
	{mfagate.AuditUserEnable, "Account enabled"},
	{mfagate.AuditPasswordChange, "Password changed"},
	{mfagate.AuditPasswordRehash, "Password hash upgraded"},
	{account.AuditTokenCreate, "API token created"},
	{account.AuditTokenRevoke, "API token revoked"},
}

func kindLabel(kind string) string {
	for _, k := range auditKinds {
		if k.Kind == kind {
			return k.Label
		}
	}
	return ""
}

type auditQuery struct {
	Subject, Actor, Kind, Since, Until string
	Before                             int64
}

type auditRow struct {
	*mfagate.AuditEvent
	Label       string
	SubjectLink string
}

type auditView struct {
	consolePage
	Query     auditQuery
	Kinds     []struct{ Kind, Label string }
	Events    []auditRow
	NextPage  string
	FirstPage string
	Zone      string
}

// Audit is the audit log (GET /admin/audit).
func Audit(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := auditView{consolePage: newConsolePage(d.Site, r, "Audit log", AreaAudit), Kinds: auditKinds, Zone: d.Site.Loc().String()}
		in := r.URL.Query()
		q := auditQuery{
			Subject: strings.TrimSpace(in.Get("subject")), Actor: strings.TrimSpace(in.Get("actor")),
			Kind: strings.TrimSpace(in.Get("kind")), Since: strings.TrimSpace(in.Get("since")), Until: strings.TrimSpace(in.Get("until")),
		}
		v.Query = q
		f := mfagate.AuditFilter{Subject: q.Subject, Actor: q.Actor, Kind: q.Kind, Limit: auditPageSize + 1}
		for _, p := range []struct{ field, value string }{{"subject", q.Subject}, {"actor", q.Actor}, {"kind", q.Kind}} {
			if len(p.value) > 200 {
				v.Errors = append(v.Errors, site.FieldError{Field: p.field, Message: "Enter 200 characters or fewer"})
			}
		}
		var err error
		if f.Since, err = auditDay(d.Site, q.Since, 0); err != nil {
			v.Errors = append(v.Errors, site.FieldError{Field: "since", Message: dayMessage(err, q.Since, "Enter the first day as year-month-day, such as 2027-07-01, or as 1 July 2027")})
		}
		if f.Until, err = auditDay(d.Site, q.Until, 1); err != nil {
			v.Errors = append(v.Errors, site.FieldError{Field: "until", Message: dayMessage(err, q.Until, "Enter the last day as year-month-day, such as 2027-07-31, or as 31 July 2027")})
		}
		if err == nil && !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
			v.Errors = append(v.Errors, site.FieldError{Field: "until", Message: "The last day must be the same as or after the first day"})
		}
		if b := in.Get("before"); b != "" {
			if f.BeforeID, err = strconv.ParseInt(b, 10, 64); err != nil || f.BeforeID <= 0 {
				v.Errors = append(v.Errors, site.FieldError{Field: "subject", Message: "The page link is broken: search again from the first page"})
			}
			q.Before = f.BeforeID
		}
		if v.Errors != nil {
			return d.Site.Render(w, r, http.StatusBadRequest, "admin_audit", v)
		}
		evs, err := d.Accounts.AuditEvents(r.Context(), f)
		if err != nil {
			return err
		}
		more := len(evs) > auditPageSize
		if more {
			evs = evs[:auditPageSize]
		}
		people := mayUse(v.User, AreaPeople)
		for _, e := range evs {
			row := auditRow{AuditEvent: e, Label: kindLabel(e.Kind)}
			if people && e.Subject != "" && !strings.HasPrefix(e.Subject, "token ") {
				row.SubjectLink = personLink(e.Subject)
			}
			v.Events = append(v.Events, row)
		}
		vals := q.values()
		if more {
			next := q.values()
			next.Set("before", strconv.FormatInt(evs[len(evs)-1].ID, 10))
			v.NextPage = "/admin/audit?" + next.Encode()
		}
		if q.Before > 0 {
			v.FirstPage = "/admin/audit"
			if len(vals) > 0 {
				v.FirstPage += "?" + vals.Encode()
			}
		}
		return d.Site.Render(w, r, http.StatusOK, "admin_audit", v)
	}
}

// auditDay reads a day in the display zone and returns its start, moved
// on by days (1 makes an inclusive last day an exclusive bound).
func auditDay(st *site.Site, in string, days int) (time.Time, error) {
	if in == "" {
		return time.Time{}, nil
	}
	d, err := parseDay(in)
	if err != nil {
		return time.Time{}, err
	}
	return rollout.StartOfDay(d.AddDate(0, 0, days), st.Loc()), nil
}

func (q auditQuery) values() url.Values {
	v := url.Values{}
	for _, p := range []struct{ k, v string }{{"subject", q.Subject}, {"actor", q.Actor}, {"kind", q.Kind}, {"since", q.Since}, {"until", q.Until}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	return v
}

// formField is one text field of a filter form, for a shared template.
type formField struct {
	ID, Label, Hint, Value, Error string
}

// Field describes a filter field with its value and error, if any.
func (v auditView) Field(id, label, hint, value string) formField {
	return formField{ID: id, Label: label, Hint: hint, Value: value, Error: v.For(id)}
}
