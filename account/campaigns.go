package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// The rollout's emails: each phase's notice when it starts and its
// reminders before, queued once per person across every replica.

// noticeGrace is how long after a phase starts its notice may still go
// out: a server down on the day catches up, but a schedule written after
// the fact does not mail people about phases long past.
const noticeGrace = 7 * 24 * time.Hour

// campaignBatch is how many people one transaction reaches.
const campaignBatch = 200

// campaignBatchTimeout is the deadline of one batch's transaction. A batch
// takes milliseconds, but nobody waits on it: on a loaded database it may
// take longer than a request may, and it should then go on rather than
// fail every minute. A campaign of any size is many short batches, each
// committed, so the run as a whole needs no deadline: stopped, it resumes.
const campaignBatchTimeout = 30 * time.Second

// Campaign is one rollout communication: a phase's notice, sent when it
// starts to everyone in its audience, or one of its reminders, sent before
// it starts to those in its audience without a factor.
type Campaign struct {
	Key      string // unique and stable: "notice/PHASE" or "reminder/PHASE/7d"
	Reminder bool
	Phase    *rollout.Phase
	Due      time.Time
}

// Campaigns lists every campaign of r, due or not, in the order they fall
// due.
func Campaigns(r *rollout.Rollout) []Campaign {
	var cs []Campaign
	for i := range r.Phases {
		p := &r.Phases[i]
		if p.Notice != nil {
			cs = append(cs, Campaign{Key: "notice/" + p.Name, Phase: p, Due: p.Start})
		}
		for _, d := range p.Reminders {
			cs = append(cs, Campaign{Key: "reminder/" + p.Name + "/" + shortDuration(d), Reminder: true, Phase: p, Due: p.Start.Add(-d)})
		}
	}
	slices.SortStableFunc(cs, func(a, b Campaign) int { return a.Due.Compare(b.Due) })
	return cs
}

// DueCampaigns lists the campaigns to send at now: notices from their
// phase's start for a week, reminders from their time until the phase
// starts.
func DueCampaigns(r *rollout.Rollout, now time.Time) []Campaign {
	var due []Campaign
	for _, c := range Campaigns(r) {
		if now.Before(c.Due) {
			continue
		}
		if (c.Reminder && now.Before(c.Phase.Start)) || (!c.Reminder && now.Before(c.Phase.Start.Add(noticeGrace))) {
			due = append(due, c)
		}
	}
	return due
}

// RunCampaigns queues every due campaign's emails for the people it has
// not reached yet and returns how many it queued. Each person is marked
// in the same transaction as their email, so a crash resumes where it
// stopped and several replicas never reach anyone twice.
func (s *Service) RunCampaigns(ctx context.Context) (int, error) {
	if s.rollout == nil {
		return 0, nil
	}
	total := 0
	for _, c := range DueCampaigns(s.rollout, s.RolloutNow()) {
		n, err := s.runCampaign(ctx, c)
		total += n
		if err != nil {
			return total, fmt.Errorf("campaign %s: %w", c.Key, err)
		}
	}
	return total, nil
}

func (s *Service) runCampaign(ctx context.Context, c Campaign) (int, error) {
	queued, after := 0, int64(0)
	for {
		var page int
		bctx, cancel := context.WithTimeout(ctx, campaignBatchTimeout)
		err := s.update(bctx, func(tx *txn) error {
			now := tx.now
			// Reminders go to everyone without a factor the phase counts,
			// so also to those whose only factor it retires.
			people, err := tx.CampaignRecipients(c.Key, c.Phase.Audience, c.Reminder, c.Phase.Methods, after, campaignBatch)
			if err != nil {
				return err
			}
			page = len(people)
			n := 0
			for _, u := range people {
				after = u.ID
				first, err := tx.MarkCampaignSent(c.Key, u.ID, now)
				if err != nil {
					return err
				}
				if !first { // another replica got there first
					continue
				}
				var has []string // a factor the phase does not count, if any
				if c.Reminder && len(c.Phase.Retire) > 0 {
					fs, err := tx.UserFactors(u.ID)
					if err != nil {
						return err
					}
					has = methodsOf(fs)
				}
				if err := tx.EnqueueMail(s.campaignMail(c, u, has, now)); err != nil {
					return err
				}
				n++
			}
			if n == 0 {
				return nil
			}
			queued += n
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditCampaign, Outcome: mfagate.OutcomeSuccess,
				Actor: mfagate.ActorSystem, Detail: c.Key + ": " + mfagate.Plural(n, "email", "emails") + " queued"})
		})
		cancel()
		if err != nil || page < campaignBatch {
			return queued, err
		}
	}
}

// campaignMail writes one person's email for c: plain and friendly, naming
// the date, what they must do, and where to get help. has are the
// methods they have set up that the phase does not count (a reminder of
// a phase that retires them), or nil.
func (s *Service) campaignMail(c Campaign, u *mfagate.User, has []string, now time.Time) *mfagate.Message {
	p := c.Phase
	day := p.Start.In(s.loc).Format("Monday 2 January 2006")
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", u.Name)
	subject := ""
	if u.Invited() {
		// Not "sign in as usual": they have no password to sign in with.
		b.WriteString("Your account is waiting for you: use the link in your invitation email to choose your password. " +
			"If the link has expired or you cannot find the email, get a new one with \"Forgotten your password?\" on the sign-in page, or ask your support team.\n\n")
	}
	if c.Reminder {
		// What applies to them, not only what the phase says: someone
		// required since an earlier phase, for whom this one changes
		// nothing, or given more time beyond its start, is not told that
		// it starts then.
		at := s.RolloutNow()
		now := rollout.Decide(s.rollout, personOf(u, nil), at)
		switch {
		case len(has) > 0:
			subject = fmt.Sprintf("Reminder: %s will stop working for you on %s (%s)", mfagate.MethodPhrases(has), p.Start.In(s.loc).Format("2 January"), timeLeft(p.Start, at, s.loc))
			fmt.Fprintf(&b, "From %s, %s will no longer be accepted when you sign in to your account %s: you will need %s.\n\n",
				day, mfagate.MethodPhrases(has), u.Username, mfagate.MethodPhrases(p.Methods))
		case p.Requirement == rollout.Required && u.ExtendedUntil.After(p.Start):
			until := ExtensionEnds(u.ExtendedUntil, s.rolloutLoc())
			subject = "Reminder: you have until " + until + " to set up your security codes"
			fmt.Fprintf(&b, "Your support team has given you until %s to set up a second step for signing in. Until then you can still sign in without it.\n\n", until)
		case now.Outcome == rollout.RequireEnrollment && now.Active != nil && now.Next != p:
			subject = "Reminder: you need security codes to sign in"
			fmt.Fprintf(&b, "You already need %s.\n\n", phaseNeeds(now.Active.Methods, now.Active.DefaultMethod))
		default:
			subject = fmt.Sprintf("Reminder: set up your security codes before %s (%s)", p.Start.In(s.loc).Format("2 January"), timeLeft(p.Start, at, s.loc))
			fmt.Fprintf(&b, "From %s, %s.\n\n", day, PhaseAsks(p))
		}
		switch {
		case len(has) > 0:
			b.WriteString("Set it up before then from your account page: it takes about two minutes, and you keep signing in as you do now until that day.\n")
		case u.Invited():
			b.WriteString("You have not set this up yet. It takes about two minutes: once you have chosen your password, follow the steps after it.\n")
		default:
			b.WriteString("You have not set this up yet. It takes about two minutes: sign in as usual and follow the steps after your password.\n")
		}
	} else {
		subject = p.Notice.Subject
		b.WriteString(strings.TrimSpace(p.Notice.Body) + "\n\n")
		if p.Requirement > rollout.Notify {
			fmt.Fprintf(&b, "From %s, %s.\n", day, PhaseAsks(p))
		}
	}
	if p.Requirement == rollout.Notify || slices.Contains(p.Methods, mfagate.MethodEmail) {
		b.WriteString("\nNo smartphone? You can get the codes by email instead: that is enough.\n")
	}
	if s.siteURL != "" {
		fmt.Fprintf(&b, "Questions are answered at %s/help\n", strings.TrimSuffix(s.siteURL, "/"))
	}
	if s.support.Email != "" || s.support.Phone != "" {
		b.WriteString("Need a hand? Contact your support team:")
		for _, v := range []string{s.support.Email, s.support.Phone, s.support.Hours} {
			if v != "" {
				b.WriteString(" " + v + ";")
			}
		}
		b.WriteString("\n")
	}
	return &mfagate.Message{To: u.Email, Subject: subject, Text: strings.TrimSuffix(b.String(), ";\n") + "\n",
		CreatedAt: now, Campaign: c.Key, Priority: mfagate.MailCampaign, UserID: u.ID}
}

// shortDuration writes reminder offsets as configured: 7d, 12h, 30m.
func shortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}
