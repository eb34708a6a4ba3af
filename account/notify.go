package account

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/mfagate/mfagate"
)

// notice is one kind of email telling a person that something happened to
// their account. Every notice says what happened, when, from where, and
// whom to contact if it was not them.
type notice struct {
	subject  string
	body     *template.Template
	priority int // mfagate.MailSecurity, or MailAccount for news that can wait
}

// newNotice is a security notice: it goes out before anything else but
// codes, on the security sender.
func newNotice(subject, body string) notice {
	return notice{subject: subject, body: template.Must(template.New(subject).Parse(body + noticeSummary + noticeFooter)),
		priority: mfagate.MailSecurity}
}

// newAccountNotice is news about the account that does not warn of a
// threat: it goes out after security mail, before campaigns.
func newAccountNotice(subject, body string) notice {
	n := newNotice(subject, body)
	n.priority = mfagate.MailAccount
	return n
}

// noticeSummary tells, in a coalesced notice, about the events of its
// kind that were not emailed one by one.
const noticeSummary = `{{with .Summary}}
{{.}}
{{end}}`

const noticeFooter = `
If this was not you, contact your support team straight away{{with .Support.Email}}: {{.}}{{end}}{{with .Support.Phone}}{{if $.Support.Email}} or{{else}}:{{end}} {{.}}{{end}}{{with .Support.Hours}} ({{.}}){{end}}.

This email was sent by {{.Product}}. We only send you a link when you or your organisation asked for one, and we never ask for your password or a security code by email.
`

var (
	passwordChanged = newNotice("Your password was changed", `Hello {{.Name}},

The password for your account {{.Username}} was changed on {{.When}}{{with .From}} from the address {{.}}{{end}}.
You have been signed out everywhere else.
`)
	passwordSetByStaff = newNotice("Your password was reset", `Hello {{.Name}},

A new password was set for your account {{.Username}} by {{.By}} on {{.When}}.
You have been signed out everywhere. Sign in again with the new password you were given.
`)

	accountLocked = newNotice("Your account has been locked for a while", `Hello {{.Name}},

Someone entered a wrong password for your account {{.Username}} too many times in a row, the last time on {{.When}}{{with .From}} from the address {{.}}{{end}}.
To keep your account safe, signing in is blocked for {{.Detail}}. After that you can sign in as usual.
`)
	codesLocked = newNotice("Your account has been locked for a while", `Hello {{.Name}},

Someone who knows your password for {{.Username}} entered wrong security codes too many times in a row, the last time on {{.When}}{{with .From}} from the address {{.}}{{end}}.
To keep your account safe, signing in is blocked for {{.Detail}}. If this was not you, someone knows your password: change it as soon as you can sign in again.
`)
	accountHardLocked = newNotice("Your account has been locked", `Hello {{.Name}},

Someone entered a wrong password or security code for your account {{.Username}} many times, the last time on {{.When}}{{with .From}} from the address {{.}}{{end}}.
To keep your account safe, signing in is blocked until your support team unlocks it. Contact them to get back in.
`)
	accountUnlocked = newAccountNotice("Your account has been unlocked", `Hello {{.Name}},

Your account {{.Username}} was unlocked by {{.By}} on {{.When}}. You can sign in again.
`)
	factorAdded = newNotice("A new way to confirm it's you was added", `Hello {{.Name}},

Your account {{.Username}} has a new way to confirm it's you: {{.Detail}}. It was set up on {{.When}}{{with .From}} from the address {{.}}{{end}}.
From now on you will be asked for a security code when you sign in.
`)
	factorRemoved = newNotice("A way to confirm it's you was removed", `Hello {{.Name}},

A way to confirm it's you was removed from your account {{.Username}}: {{.Detail}}. It was removed on {{.When}}{{with .From}} from the address {{.}}{{end}}.
`)
	mfaReset = newNotice("Your sign-in security was reset", `Hello {{.Name}},

{{.Actor}} removed the security codes set up for your account {{.Username}} on {{.When}}.
You have been signed out everywhere. {{.Detail}}
`)
	recoveryUsed = newNotice("A recovery code was used to sign in", `Hello {{.Name}},

One of your recovery codes was used to sign in to your account {{.Username}} on {{.When}}{{with .From}} from the address {{.}}{{end}}. Each code works only once: you have {{.Detail}} left.
If you have lost your phone, set up your authenticator app again from your account page.
`)
	recoveryRenewed = newNotice("You have new recovery codes", `Hello {{.Name}},

New recovery codes were made for your account {{.Username}} on {{.When}}{{with .From}} from the address {{.}}{{end}}. The old codes no longer work.
`)
	failedCodes = newNotice("Someone entered wrong security codes for your account", `Hello {{.Name}},

Someone signed in to your account {{.Username}} with the right password on {{.When}}{{with .From}} from the address {{.}}{{end}}, then entered wrong security codes.
If this was you, there is nothing to do. If not, someone knows your password: change it straight away from your account page.
`)
	sessionsEnded = newAccountNotice("You have been signed out everywhere", `Hello {{.Name}},

{{.Actor}} signed your account {{.Username}} out on every device on {{.When}}. Sign in again to carry on.
`)
	rolesChanged = newAccountNotice("Your roles have changed", `Hello {{.Name}},

{{.Actor}} changed the roles of your account {{.Username}} on {{.When}}. They are now: {{.Detail}}.
What you can reach follows them from your next visit.
`)
	extended = newAccountNotice("You have more time to set up security codes", `Hello {{.Name}},

Your support team has given you until {{.Detail}} to set up a second step for signing in to your account {{.Username}}. Until then you can still sign in without it.
It takes about two minutes: sign in and follow the steps after your password.
`)
	codeReplayed = newNotice("A security code was used twice", `Hello {{.Name}},

On {{.When}}{{with .From}} from the address {{.}}{{end}}, someone signing in to your account {{.Username}} entered an authenticator code that had already been used, and it was refused.
If this was you, there is nothing to do: wait for your app to show a new code. If not, someone may have seen one of your codes and knows your password: change your password straight away.
`)
)

// noticeData is what notice templates can use. Actor and By name the
// staff member who acted, as a sentence's subject ("sam from your support
// team", "Your support team") and after "by" ("your support team"); a
// username is written as it is, lowercase or not.
type noticeData struct {
	Name, Username, When, From, Actor, By string
	Detail                                string
	Summary                               string // held-back events, in a coalesced notice
	Product, SiteURL                      string
	Support                               Contacts
}

// notify writes a notice for u into the outbox, as of at (the
// transaction's now). detail fills the notice's one variable phrase, where
// it has one.
func (s *Service) notify(q mfagate.MailQueue, at time.Time, u *mfagate.User, n notice, by Actor, detail ...string) error {
	who := staffWords(by)
	subject := who
	if rest, ok := strings.CutPrefix(who, "your "); ok {
		subject = "Your " + rest
	}
	return s.writeNotice(q, at, u, n, noticeData{When: s.when(at), From: by.ClientAddr,
		Actor: subject, By: who, Detail: strings.Join(detail, " ")})
}

// staffWords names who acted for the person told of it: a staff member by
// their username, from the support team; the server's command line
// (mfagate.ActorCLI), the server itself (mfagate.ActorSystem) and API
// tokens ("token:NAME") as the support team, never by those internal
// names.
func staffWords(by Actor) string {
	if by.AtServer || by.Name == "" || by.Name == mfagate.ActorCLI || by.Name == mfagate.ActorSystem || strings.Contains(by.Name, ":") {
		return "your support team"
	}
	return by.Name + " from your support team"
}

// writeNotice fills in d's account and contact fields and queues n,
// created at at.
func (s *Service) writeNotice(q mfagate.MailQueue, at time.Time, u *mfagate.User, n notice, d noticeData) error {
	d.Name, d.Username = u.Name, u.Username
	d.Product, d.SiteURL, d.Support = s.product, s.siteURL, s.support
	var b strings.Builder
	if err := n.body.Execute(&b, d); err != nil {
		return fmt.Errorf("write %q email: %w", n.subject, err)
	}
	// While an address set by staff waits to be confirmed, the address
	// before hears of everything too: its owner may not have asked.
	to := []string{u.Email}
	if u.EmailUnconfirmed() && u.PreviousEmail != "" && !strings.EqualFold(u.PreviousEmail, u.Email) {
		to = append(to, u.PreviousEmail)
	}
	for _, addr := range to {
		m := &mfagate.Message{To: addr, Subject: n.subject, Text: b.String(), CreatedAt: at,
			Priority: n.priority, UserID: u.ID}
		if err := q.EnqueueMail(m); err != nil {
			return fmt.Errorf("queue %q email: %w", n.subject, err)
		}
	}
	return nil
}

// when writes a time for an email.
func (s *Service) when(t time.Time) string { return t.In(s.loc).Format("2 January 2006 at 15:04 MST") }

// humanDuration writes a duration as people say it: "10 minutes".
// HumanDuration writes a length of time as people say it, in its
// largest whole unit: "1 day", "12 hours", "90 seconds". Pages use it too.
func HumanDuration(d time.Duration) string { return humanDuration(d) }

func humanDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return mfagate.Plural(int(d/(24*time.Hour)), "day", "days")
	case d >= time.Hour && d%time.Hour == 0:
		return mfagate.Plural(int(d/time.Hour), "hour", "hours")
	case d >= time.Minute && d%time.Minute == 0:
		return mfagate.Plural(int(d/time.Minute), "minute", "minutes")
	default:
		return mfagate.Plural(int(d.Round(time.Second)/time.Second), "second", "seconds")
	}
}

// clockTime writes a time of day in the service's zone, for "you can ask
// again from 14:05:30".
func (s *Service) clockTime(t time.Time) string {
	return t.In(s.loc).Format("15:04:05 MST")
}
