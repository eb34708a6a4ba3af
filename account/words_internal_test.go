package account

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/web/webtest"
)

// TestEmailsWithCountsSayThemInWords writes every email the use cases
// send — each notice, with the summary of held events, the invitation, the
// code, reset and shared-address mails, the rollout's notices and
// reminders — with 0, 1 and 2 of each thing they count, and
// holds the text to plain words: no name from the code, and every count
// agreeing with its noun.
func TestEmailsWithCountsSayThemInWords(t *testing.T) {
	store := sqltest.SQLite().New(t)
	at := time.Date(2027, 6, 1, 9, 30, 0, 0, time.UTC)
	units := []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour}

	// detail is each notice's variable phrase for a count n, as its
	// caller writes it.
	methods := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	notices := map[string]struct {
		n      notice
		detail func(n int) []string
	}{
		"addressChanged":     {addressChanged, func(int) []string { return []string{"new@example.com"} }},
		"addressConfirmed":   {addressConfirmed, nil},
		"addressSetByStaff":  {addressSetByStaff, func(int) []string { return []string{"new@example.com"} }},
		"passwordChanged":    {passwordChanged, nil},
		"passwordSetByStaff": {passwordSetByStaff, nil},
		"accountLocked":      {accountLocked, func(n int) []string { return []string{humanDuration(time.Duration(n) * time.Minute)} }},
		"codesLocked":        {codesLocked, func(n int) []string { return []string{humanDuration(time.Duration(n) * time.Hour)} }},
		"accountHardLocked":  {accountHardLocked, nil},
		"accountUnlocked":    {accountUnlocked, nil},
		"factorAdded":        {factorAdded, func(n int) []string { return []string{mfagate.MethodPhrase(methods[n%2])} }},
		"factorRemoved":      {factorRemoved, func(n int) []string { return []string{mfagate.MethodPhrase(methods[n%2])} }},
		"mfaReset":           {mfaReset, nil},
		"recoveryUsed":       {recoveryUsed, func(n int) []string { return []string{strconv.Itoa(n)} }},
		"recoveryRenewed":    {recoveryRenewed, nil},
		"failedCodes":        {failedCodes, nil},
		"sessionsEnded":      {sessionsEnded, nil},
		"rolesChanged":       {rolesChanged, func(n int) []string { return []string{strings.Join([]string{"user", "admin"}[:n], ", ")} }},
		"extended":           {extended, func(int) []string { return []string{"1 July 2027"} }},
		"codeReplayed":       {codeReplayed, nil},
	}
	// Every notice declared in the package has a case above, and no
	// count is formatted straight before a plural noun: audit details
	// (shown in the console) and emails alike write counts with
	// mfagate.Plural.
	declared := regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*new(Account)?Notice\(`)
	countedPlural := regexp.MustCompile(`"[^"\n]*%d (?:[a-z]+ )?(?:[a-z]+s|people)\b[^"\n]*"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range countedPlural.FindAllString(string(src), -1) {
			t.Errorf("%s: %s reads wrong for 1: write the count with mfagate.Plural", f, m)
		}
		for _, m := range declared.FindAllStringSubmatch(string(src), -1) {
			if _, ok := notices[m[1]]; !ok {
				t.Errorf("%s: notice %s has no case here: add one, so that its words are checked", f, m[1])
			}
		}
	}

	check := func(t *testing.T, where string, msgs []*mfagate.Message) {
		t.Helper()
		if len(msgs) == 0 {
			t.Fatalf("%s: no email written", where)
		}
		for _, m := range msgs {
			for _, p := range webtest.WordProblems(m.Subject + "\n" + m.Text) {
				t.Errorf("%s: %s in:\n%s\n%s", where, p, m.Subject, m.Text)
			}
		}
	}
	staff := []Actor{{Name: mfagate.ActorCLI}, {Name: mfagate.ActorSystem}, {Name: "token:deploy"}, {Name: "sam", ClientAddr: "192.0.2.1"}, {AtServer: true}}
	for n := range 3 {
		o := Options{Store: store, Key: []byte("0123456789abcdef0123456789abcdef"), Clock: mfagate.NewManualClock(at),
			Product: "Example Sign-in", SiteURL: "https://mfa.example.com/", Support: Contacts{Email: "help@example.com", Phone: "+44 20 7946 0000"}}
		if n > 0 {
			o.ResetTTL, o.MFA.CodeTTL, o.Throttle.LockFor = time.Duration(n)*time.Hour, time.Duration(n)*time.Minute, time.Duration(n)*time.Minute
		}
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		u := &mfagate.User{ID: 1, Username: "ada", Name: "Ada Lovelace", Email: "ada@example.com"}
		for name, c := range notices {
			for _, by := range staff {
				q := &outbox{}
				var detail []string
				if c.detail != nil {
					detail = c.detail(n)
				}
				if err := s.notify(q, at, u, c.n, by, detail...); err != nil {
					t.Fatal(err)
				}
				check(t, name+" n="+strconv.Itoa(n)+" by "+by.Name, q.mail)
			}
		}
		for kind, k := range alertKinds {
			for _, summary := range []string{k.heldBefore(n, s.clockTime(at)), k.heldAll(n, s.clockTime(at))} {
				q := &outbox{}
				d := k.data(s)
				d.When, d.Summary = s.when(at), summary
				if err := s.writeNotice(q, at, u, k.notice, d); err != nil {
					t.Fatal(err)
				}
				check(t, kind+" held "+strconv.Itoa(n), q.mail)
				if !strings.Contains(q.mail[0].Text, summary) {
					t.Errorf("%s: the summary %q is not in the email", kind, summary)
				}
			}
		}
		for _, unit := range units {
			// As sendLink fills it, for a link lasting n units.
			d := linkData{Name: u.Name, Username: u.Username, Link: s.linkURL(mfagate.LinkInvite, "tok"), Until: s.when(at),
				Lasts: humanDuration(time.Duration(n) * unit), Product: s.product, SiteURL: s.siteURL, Support: s.support}
			var b strings.Builder
			if err := invitation.body.Execute(&b, d); err != nil {
				t.Fatal(err)
			}
			check(t, "invitation lasting "+d.Lasts, []*mfagate.Message{{Subject: invitation.subject, Text: b.String()}})
			code := fmt.Sprintf(codeEmailText, u.Name, "123456", "to sign in", humanDuration(time.Duration(n)*unit), " at help@example.com", s.product)
			check(t, "code lasting "+d.Lasts, []*mfagate.Message{{Subject: "Your security code", Text: code}})
		}
		// The rollout's notices and reminders, for each requirement, with
		// n methods, to someone who has signed in and to someone invited.
		for req := rollout.Notify; req <= rollout.Required; req++ {
			p := &rollout.Phase{Name: "phase-" + strconv.Itoa(n), Start: at.AddDate(0, 0, 7), Audience: []string{"all"}, Requirement: req,
				Methods: methods[:n], Notice: &rollout.Notice{Subject: "Security codes are coming", Body: "From next week you will need a code."}}
			for _, reminder := range []bool{false, true} {
				for _, invitedAt := range []time.Time{{}, at} {
					who := *u
					who.InvitedAt = invitedAt
					m := s.campaignMail(Campaign{Key: "notice/" + p.Name, Reminder: reminder, Phase: p, Due: at}, &who, nil, at)
					check(t, fmt.Sprintf("campaign %v reminder=%v invited=%v n=%d", req, reminder, who.Invited(), n), []*mfagate.Message{m})
				}
			}
		}
		check(t, "reset n="+strconv.Itoa(n), []*mfagate.Message{s.resetMail(u, "tok", at.Add(s.resetTTL), Actor{ClientAddr: "192.0.2.1"}, at)})
		if n > 0 {
			others := []*mfagate.User{u, {Username: "ada2", Email: u.Email}}[:n]
			check(t, "shared address n="+strconv.Itoa(n), []*mfagate.Message{s.sharedAddressMail(others, at)})
		}
	}
}

// outbox is a mail queue that keeps what it is given; it has nothing
// else (its other methods would panic).
type outbox struct {
	queue
	mail []*mfagate.Message
}

type queue = mfagate.MailQueue

func (o *outbox) EnqueueMail(m *mfagate.Message) error { o.mail = append(o.mail, m); return nil }
