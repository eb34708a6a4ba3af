package account

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/mfagate/mfagate"
)

// notice is one kind of email telling a person that something happened to
// their account. Every notice says what happened, when, from where, and
// whom to contact if it was not them.
type notice struct {
	subject string
	body    *template.Template
}

func newNotice(subject, body string) notice {
	return notice{subject: subject, body: template.Must(template.New(subject).Parse(body + noticeFooter))}
}

const noticeFooter = `
If this was not you, contact your support team straight away{{with .Support.Email}}: {{.}}{{end}}{{with .Support.Phone}}{{if $.Support.Email}} or{{else}}:{{end}} {{.}}{{end}}{{with .Support.Hours}} ({{.}}){{end}}.

This email was sent by {{.Product}}{{with .SiteURL}} ({{.}}){{end}}. It never contains a link to sign in.
`

var (
	passwordChanged = newNotice("Your password was changed", `Hello {{.Name}},

The password for your account {{.Username}} was changed on {{.When}}{{with .From}} from the address {{.}}{{end}}.
You have been signed out everywhere else.
`)
	passwordSetByStaff = newNotice("Your password was reset", `Hello {{.Name}},

A new password was set for your account {{.Username}} by {{.Actor}} on {{.When}}.
You have been signed out everywhere. Sign in again with the new password you were given.
`)
)

// noticeData is what notice templates can use.
type noticeData struct {
	Name, Username, When, From, Actor string
	Product, SiteURL                  string
	Support                           Contacts
}

// notify writes a notice for u into the outbox inside tx.
func (s *Service) notify(tx mfagate.Tx, u *mfagate.User, n notice, by Actor) error {
	now := s.now()
	var b strings.Builder
	err := n.body.Execute(&b, noticeData{
		Name: u.Name, Username: u.Username,
		When:  now.In(s.loc).Format("2 January 2006 at 15:04 MST"),
		From:  by.ClientAddr,
		Actor: by.Name, Product: s.product, SiteURL: s.siteURL, Support: s.support,
	})
	if err != nil {
		return fmt.Errorf("write %q email: %w", n.subject, err)
	}
	m := &mfagate.Message{To: u.Email, Subject: n.subject, Text: b.String(), CreatedAt: now}
	if err := tx.EnqueueMail(m); err != nil {
		return fmt.Errorf("queue %q email: %w", n.subject, err)
	}
	return nil
}
