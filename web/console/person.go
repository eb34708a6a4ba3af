package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// The person page: everything support needs to help one person (never a
// secret), and the support actions. Each action asks for a reason, runs
// the account use case as the staff member, and comes back here with a
// notice, or with the error next to the field.

const historyLen = 50

type personView struct {
	consolePage
	Person       *mfagate.User
	Roles        string
	Tags         []string
	Factors      []factorRow
	RecoveryLeft int
	Sessions     []staffSessionRow
	Locked       string // "" when not locked
	Today        string
	TodayPhase   string
	AtNext       string
	NextWhen     string
	NextPhase    string
	ExtendedTo   string
	ExtendReason string
	History      []auditRow
	FullHistory  string // link to the audit log, for those who may read it
	Actions      []actionForm
	// FixAddress is the form to mark a refused address as fixed, shown
	// with the unreached panel; nil while their address takes our mail.
	FixAddress *actionForm
	Self       bool
	// ChangeEmail is the form to give them another address (email.go).
	ChangeEmail *emailForm
	// RolesForm changes their roles; nil for a staff account, whose roles
	// change only at the server.
	RolesForm *rolesForm
	RolesPath string
	// Invitation is where their invitation stands, with its actions; nil
	// for someone who has chosen a password.
	Invitation *invitationView
}

// invitationView is the person page's invitation panel.
type invitationView struct {
	Sent    time.Time // zero when no invitation waits
	Until   time.Time
	Expired bool
	Actions []actionForm
}

type factorRow struct {
	Method     string
	Added      time.Time
	LastUsedAt time.Time
	Unused     bool // set up and not used since (account.Unused)
}

type staffSessionRow struct {
	Stage      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ClientAddr string
	Device     string // "Chrome on Linux"
}

// actionForm is one support action's form on the person page.
type actionForm struct {
	Path, Title, Hint, Button string
	Example                   string // a reason that fits the action, for its hint
	Field                     string // id of the reason field
	Reason                    string // as typed, after an error
	Error                     string
	Until                     bool // the extension also asks for a date
	UntilValue, UntilError    string
	Warning                   bool // a destructive action
}

// personAction is a support action.
type personAction struct {
	title, hint, button string
	// confirm asks on a page of its own, naming the person and what will
	// happen, before a destructive action runs.
	confirm        bool
	example        string // a reason that fits, shown in the reason's hint
	warning, until bool
	notice         string // shown on success
	// counted actions report a number on success, which the page's
	// notice gives (noticeN, taking the number and the person) in place
	// of notice.
	noticeN func(n int, u *mfagate.User) string
	run     func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, until time.Time) (int, error)
}

// FixAddress is the key of the action on a refused address, which the
// page shows with the panel about it rather than among the others.
const FixAddress = "address-fixed"

// The keys of the invitation's actions, shown with its panel.
const (
	Invite       = "invite"
	RevokeInvite = "revoke-invite"
)

// personActions in the order the page shows them; their keys are the last
// part of each action's path.
var personActionOrder = []string{"resend-code", "unlock", "end-sessions", "extend", "reset-mfa"}

var personActions = map[string]personAction{
	Invite: {
		title: "Send a new invitation", button: "Send a new invitation",
		example: "Their first invitation went to their spam folder and expired",
		hint:    "Emails them a new link to choose their password, for example when the first one expired or went astray. The earlier link stops working at once.",
		notice:  "A new invitation is on its way to them. The earlier link no longer works.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			return 0, accounts.Reinvite(ctx, by, username, reason)
		},
	},
	RevokeInvite: {
		title: "Withdraw the invitation", button: "Withdraw the invitation", warning: true,
		example: "Invited by mistake: they left before starting",
		hint:    "Its link stops working at once. Use this when the invitation went to the wrong person or is no longer wanted.",
		notice:  "The invitation is withdrawn: its link no longer works.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			return 0, accounts.RevokeInvite(ctx, by, username, reason)
		},
	},
	"resend-code": {
		title: "Send a new email code", button: "Send a new code",
		example: "Called to say the code never arrived",
		hint:    "For someone part-way through signing in or setting up email codes who did not get their code. The usual wait between codes applies.",
		notice:  "A new code was sent to the address they are signing in or setting up with.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			_, err := accounts.ResendCode(ctx, by, username, reason)
			return 0, err
		},
	},
	"unlock": {
		title: "Unlock the account", button: "Unlock",
		example: "Locked out after mistyping; identity checked by call-back",
		hint:    "Lifts a lock after too many wrong passwords or codes, and forgets the failed attempts. Check who you are talking to first.",
		notice:  "The account is unlocked. An email is on its way to tell them.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			return 0, accounts.Unlock(ctx, by, username, reason)
		},
	},
	"end-sessions": {
		title: "Sign them out everywhere", button: "Sign out everywhere",
		example: "Laptop stolen on the train, reported by phone",
		hint:    "Ends every session, for example after a lost or stolen device. They can sign in again straight away.",
		notice:  "They have been signed out everywhere. An email is on its way to tell them.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			_, err := accounts.EndSessions(ctx, by, username, reason)
			return 0, err
		},
	},
	"extend": {
		title: "Give more time to set up", button: "Give more time", until: true,
		example: "On leave until the end of the month, agreed with their manager",
		hint:    "Until the end of the day you choose, a phase that requires security codes lets them skip setting up. Someone who has set up is still asked for a code.",
		notice:  "The extension is saved. An email is on its way to tell them.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, until time.Time) (int, error) {
			return 0, accounts.Extend(ctx, by, username, until, reason)
		},
	},
	"reset-mfa": {
		title: "Reset security codes", button: "Reset security codes", warning: true, confirm: true,
		example: "Lost phone, no recovery codes; identity checked by call-back",
		hint:    "For someone who lost their phone and has no recovery code. Removes every way they get security codes and their recovery codes, and signs them out. They set up again at their next sign-in. Check who you are talking to first.",
		notice:  "Security codes reset and they have been signed out. An email is on its way to tell them.",
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			return 0, accounts.ResetMFA(ctx, by, username, reason)
		},
	},
	FixAddress: {
		title:   "Mark the address as fixed and send their emails again",
		example: "Mailbox restored by their IT team, checked by phone",
		button:  "Mark as fixed and send again",
		notice:  "The address is marked as fixed. Their emails are queued to be sent again.",
		hint: "Do this once their mailbox takes email again, for example after their email team has restored it or lifted a block. " +
			"Check with them first, by phone. The emails we could not deliver to them are sent again to the address above; " +
			"security codes are not, as they have expired. If the address is still refused, this panel comes back.",
		noticeN: func(n int, u *mfagate.User) string {
			switch n {
			case 0:
				return "The address is marked as fixed. There were no emails to send again."
			case 1:
				return "The address is marked as fixed. 1 email is queued to be sent again to " + u.Email + "."
			}
			return fmt.Sprintf("The address is marked as fixed. %d emails are queued to be sent again to %s.", n, u.Email)
		},
		run: func(accounts *account.Service, ctx context.Context, by account.Actor, username, reason string, _ time.Time) (int, error) {
			return accounts.MarkAddressFixed(ctx, by, username, reason)
		},
	},
}

// Person is a person's page (GET /admin/people/{username}).
func Person(d Deps) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		v, err := newPersonView(d, r, u)
		if err != nil {
			return err
		}
		switch r.URL.Query().Get("done") {
		case "roles":
			v.Notice = rolesNotice
		case "added":
			v.Notice = addedNotice
		case emailDone:
			v.Notice = "The new address is saved, to be confirmed by them at their next sign-in. They have been signed out, and an email is on its way to both addresses."
		}
		if a, ok := personActions[r.URL.Query().Get("done")]; ok {
			v.Notice = a.notice
			if r.URL.Query().Get("done") == "reset-mfa" {
				// What the rollout, not the reset, asks of them now.
				v.Notice += " When they next sign in: " + lowerFirst(v.Today) + "."
			}
			// The count comes back in the link; a mangled one gets no number.
			if n, err := strconv.Atoi(r.URL.Query().Get("n")); a.noticeN != nil && err == nil && n >= 0 {
				v.Notice = a.noticeN(n, u)
			}
		}
		return d.Site.Render(w, r, http.StatusOK, "admin_person", v)
	}
}

func newPersonView(d Deps, r *http.Request, u *mfagate.User) (personView, error) {
	ctx := r.Context()
	v := personView{consolePage: newConsolePage(d.Site, r, u.Name, AreaPeople), Person: u, Roles: strings.Join(u.Roles, ", ")}
	v.Self = mfagate.UsernameKey(v.User.Username) == mfagate.UsernameKey(u.Username)
	factors, err := d.Accounts.Factors(ctx, u.ID)
	if err != nil {
		return v, err
	}
	var methods []string
	for _, f := range factors {
		v.Factors = append(v.Factors, factorRow{Method: f.Method, Added: f.CreatedAt, LastUsedAt: f.LastUsedAt, Unused: account.Unused(f)})
		methods = append(methods, f.Method)
	}
	if v.RecoveryLeft, err = d.Accounts.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return v, err
	}
	sessions, err := d.Accounts.UserSessions(ctx, u.ID)
	if err != nil {
		return v, err
	}
	for _, sess := range sessions {
		stage := "Signed in"
		if sess.Stage != mfagate.StageFull {
			stage = "Part-way: password entered"
		}
		v.Sessions = append(v.Sessions, staffSessionRow{Stage: stage, CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt,
			ClientAddr: sess.ClientAddr, Device: site.Device(sess.UserAgent)})
	}
	locked, hard, err := d.Accounts.Locked(ctx, u.Username)
	if err != nil {
		return v, err
	}
	switch {
	case hard:
		v.Locked = "Locked until support unlocks it"
	case locked:
		v.Locked = "Locked for a while after failed attempts"
	}
	v.Tags = statusTags(u, methods, locked)

	now := d.Accounts.RolloutNow()
	dec := d.Accounts.DecideAt(u, factors, now)
	v.Today, v.TodayPhase = decisionText(d.Site, dec), phaseName(dec.Phase)
	if n := dec.NextPhase; n != nil {
		v.NextWhen, v.NextPhase = d.Site.PhaseDate(n.Start), n.Name
		v.AtNext = decisionText(d.Site, d.Accounts.DecideAt(u, factors, n.Start))
	}
	if !u.ExtendedUntil.IsZero() {
		v.ExtendedTo, v.ExtendReason = d.Site.ExtensionEnds(u.ExtendedUntil), u.ExtensionReason
		if !u.ExtendedUntil.After(now) {
			v.ExtendedTo += " (over)"
		}
	}

	evs, err := d.Accounts.AuditEvents(ctx, mfagate.AuditFilter{Subject: u.Username, Limit: historyLen})
	if err != nil {
		return v, err
	}
	for _, e := range evs {
		v.History = append(v.History, auditRow{AuditEvent: e, Label: kindLabel(e.Kind)})
	}
	if mayUse(v.User, AreaAudit) {
		v.FullHistory = "/admin/audit?" + url.Values{"subject": {u.Username}}.Encode()
	}
	base := personLink(u.Username)
	form := func(key string) actionForm {
		a := personActions[key]
		return actionForm{Path: base + "/" + key, Title: a.title, Hint: a.hint, Button: a.button, Example: a.example,
			Field: key + "-reason", Until: a.until, Warning: a.warning}
	}
	partWay := slices.ContainsFunc(sessions, func(s *mfagate.Session) bool { return s.Stage != mfagate.StageFull })
	applies := map[string]bool{ // only the actions that would do something
		"resend-code":  partWay,
		"unlock":       locked || hard,
		"end-sessions": len(sessions) > 0,
		// More time to set up helps only someone with nothing set up (or
		// an extension to change); staff set up whatever the schedule.
		"extend":    !account.IsStaff(u) && (len(factors) == 0 || !u.ExtendedUntil.IsZero()),
		"reset-mfa": len(factors) > 0 || v.RecoveryLeft > 0,
	}
	for _, key := range personActionOrder {
		if applies[key] {
			v.Actions = append(v.Actions, form(key))
		}
	}
	if !u.UnreachedAt.IsZero() {
		f := form(FixAddress)
		v.FixAddress = &f
	}
	if !account.IsStaff(u) {
		v.RolesForm, v.RolesPath = newRolesForm(d.Accounts, u), base+"/roles"
	}
	if u.PasswordHash == "" && !u.Disabled {
		inv, err := d.Accounts.PendingInvitation(ctx, u)
		if err != nil {
			return v, err
		}
		v.Invitation = &invitationView{Actions: []actionForm{form(Invite)}}
		if inv != nil {
			v.Invitation.Sent, v.Invitation.Until = inv.SentAt, inv.ExpiresAt
			v.Invitation.Expired = inv.Expired(d.Accounts.Now())
			v.Invitation.Actions = append(v.Invitation.Actions, form(RevokeInvite))
		} else {
			a := &v.Invitation.Actions[0]
			a.Title, a.Button = "Send an invitation", "Send an invitation"
			a.Hint = "They have no password yet, so they cannot sign in. This emails them a link to choose one."
		}
	}
	v.ChangeEmail = newEmailForm(u)
	return v, nil
}

func phaseName(p string) string {
	if p == "" {
		return "no phase yet"
	}
	return p
}

// decisionText says in words what happens to someone after their password.
func decisionText(st *site.Site, d account.Decision) string {
	var t string
	switch d.Outcome {
	case rollout.Allow:
		t = "Signs in with their password only"
	case rollout.Challenge:
		t = "Asked for a security code: " + mfagate.MethodPhrases(d.Methods)
	case rollout.OfferEnrollment:
		t = "Asked to set up security codes after their password; they can skip it"
	case rollout.RequireEnrollment:
		t = "Must set up " + mfagate.MethodPhrases(d.Methods) + " before they can sign in"
	default:
		t = d.Outcome.String()
	}
	if !d.ExtendedUntil.IsZero() {
		t += " (extended until " + st.ExtensionEnds(d.ExtendedUntil) + ")"
	}
	return t
}

// PersonAction runs one support action, key, from the person page (POST
// /admin/people/{username}/KEY).
func PersonAction(d Deps, key string) site.HandlerFunc {
	a := personActions[key]
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := site.ParseForm(w, r); err != nil {
			return err
		}
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		form := actionForm{Field: key + "-reason", Reason: r.PostForm.Get("reason"), UntilValue: strings.TrimSpace(r.PostForm.Get("until"))}
		reason := strings.TrimSpace(form.Reason)
		var until time.Time
		status := http.StatusBadRequest
		switch {
		case key == FixAddress && u.UnreachedAt.IsZero():
			form.Error = "Emails to " + u.Username + " are not being refused, so there is nothing to send again"
		default:
			form.Error = reasonError(reason)
		}
		if a.until {
			if until, err = endOfDay(d.Site, form.UntilValue); err != nil {
				form.UntilError = mfagate.ErrorMessage(err)
			}
		}
		// Staff accounts and one's own are refused by the use case, audited:
		// nothing to confirm there.
		self := mfagate.UsernameKey(site.CurrentFrom(r).User.Username) == mfagate.UsernameKey(u.Username)
		if a.confirm && r.PostForm.Get("confirm") != "yes" && form.Error == "" && !account.IsStaff(u) && !self {
			return confirmAction(d, w, r, u, key, reason)
		}
		if form.Error == "" && form.UntilError == "" {
			n, err := a.run(d.Accounts, r.Context(), d.Site.Actor(r), u.Username, reason, until)
			code := mfagate.ErrorCode(err)
			switch {
			case err == nil:
				done := url.Values{"done": {key}}
				if a.noticeN != nil {
					done.Set("n", strconv.Itoa(n))
				}
				http.Redirect(w, r, personLink(u.Username)+"?"+done.Encode(), http.StatusSeeOther)
				return nil
			case code == mfagate.EINVALID && a.until:
				form.UntilError = mfagate.ErrorMessage(err)
			case code == mfagate.EINVALID || code == mfagate.EFORBIDDEN || code == mfagate.ETHROTTLED:
				form.Error, status = mfagate.ErrorMessage(err), site.Status(code)
			case code == mfagate.ENOTFOUND || code == mfagate.ECONFLICT: // the person is there; what the action needs is not
				form.Error, status = mfagate.ErrorMessage(err), http.StatusConflict
			default:
				return err
			}
		}
		v, err := newPersonView(d, r, u)
		if err != nil {
			return err
		}
		forms := make([]*actionForm, 0, len(v.Actions)+1)
		for i := range v.Actions {
			forms = append(forms, &v.Actions[i])
		}
		if v.Invitation != nil {
			for i := range v.Invitation.Actions {
				forms = append(forms, &v.Invitation.Actions[i])
			}
		}
		if v.FixAddress != nil {
			forms = append(forms, v.FixAddress)
		} else if key == FixAddress {
			// No longer marked (fixed meanwhile, or the address changed):
			// there is no form to put the message next to.
			v.Errors = append(v.Errors, site.FieldError{Field: "help-them", Message: form.Error})
		}
		placed := false
		for _, f := range forms {
			if f.Field != form.Field {
				continue
			}
			placed = true
			f.Reason, f.Error, f.UntilValue, f.UntilError = form.Reason, form.Error, form.UntilValue, form.UntilError
			if f.UntilError != "" {
				v.Errors = append(v.Errors, site.FieldError{Field: key + "-until", Message: f.UntilError})
			}
			if f.Error != "" {
				v.Errors = append(v.Errors, site.FieldError{Field: f.Field, Message: f.Error})
			}
		}
		if !placed && form.Error != "" && key != FixAddress {
			// The action no longer applies (unlocked meanwhile, say), so
			// the page has no form to put the message next to.
			v.Errors = append(v.Errors, site.FieldError{Field: "help-them", Message: form.Error})
		}
		return d.Site.Render(w, r, status, "admin_person", v)
	}
}

// lowerFirst lowers a sentence's first letter, to go after a colon.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// reasonError is what is wrong with the reason of a support action, ""
// when nothing is (it is trimmed already).
func reasonError(reason string) string {
	switch {
	case reason == "":
		return "Enter a reason; it is kept in the audit log"
	case utf8.RuneCountInString(reason) > account.MaxReason:
		return fmt.Sprintf("The reason must be %d characters or fewer", account.MaxReason)
	}
	return ""
}
