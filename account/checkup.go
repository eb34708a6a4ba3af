package account

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

// The check-up of a new factor: someone who adds a second way to sign in
// (an authenticator app beside email codes) and goes on using the first
// would only learn that the new one does not work on the day they need
// it. So, mfa.checkup after it was added, while it is still unused, the
// challenge asks for it first (the other way stays one click away), and
// halfway there one reminder email says so.

// DefaultCheckup is mfa.checkup's default.
const DefaultCheckup = 28 * 24 * time.Hour

// checkupPrefix starts the campaign_sends key that records a factor's
// reminder: "checkup/<factor id>".
const checkupPrefix = "checkup/"

// Unused reports whether f has not been used since it was set up: setup
// stamps LastUsedAt with CreatedAt (enroll.go), and each sign-in with it
// moves LastUsedAt on.
func Unused(f *mfagate.Factor) bool { return !f.LastUsedAt.After(f.CreatedAt) }

// ChooseMethod is the method to ask for first at the challenge, among
// factors allowed (all when allowed is empty), at now: a factor added
// beside another and unused for checkup or longer (the oldest such, zero
// or negative checkup meaning none), returned as due, or else
// PreferredMethod's, the one used most recently. It is pure.
func ChooseMethod(factors []*mfagate.Factor, allowed []string, now time.Time, checkup time.Duration) (method string, due *mfagate.Factor) {
	if checkup > 0 {
		var usable []*mfagate.Factor
		for _, f := range factors {
			if len(allowed) == 0 || slices.Contains(allowed, f.Method) {
				usable = append(usable, f)
			}
		}
		if len(usable) > 1 {
			for _, f := range usable { // oldest first
				if Unused(f) && !now.Before(f.CreatedAt.Add(checkup)) {
					if due == nil || f.CreatedAt.Before(due.CreatedAt) {
						due = f
					}
				}
			}
		}
	}
	if due != nil {
		return due.Method, due
	}
	return PreferredMethod(factors, allowed), nil
}

// ChallengeMethod is ChooseMethod at the service's time and mfa.checkup.
// Factors are stamped with real time, so a rehearsal does not move it.
func (s *Service) ChallengeMethod(factors []*mfagate.Factor, allowed []string) (string, *mfagate.Factor) {
	return ChooseMethod(factors, allowed, s.now(), s.mfa.Checkup)
}

// Checkup is mfa.checkup, zero when it is off.
func (s *Service) Checkup() time.Duration { return max(s.mfa.Checkup, 0) }

// checkupBatch is how many reminders one transaction queues.
const checkupBatch = 200

var checkupReminder = newAccountNotice("Check your new way to sign in", `Hello {{.Name}},

{{.Detail}}
`)

// RunCheckups queues the check-up reminder of every factor added beside
// another between mfa.checkup and half of it ago and not used since, and
// returns how many it queued. Each is marked ("checkup/<factor id>") in
// the transaction that queues it, so every replica may run it and each
// factor's reminder goes out once.
func (s *Service) RunCheckups(ctx context.Context) (int, error) {
	if s.mfa.Checkup <= 0 {
		return 0, nil
	}
	queued, after := 0, int64(0)
	for {
		var page int
		bctx, cancel := context.WithTimeout(ctx, campaignBatchTimeout)
		err := s.update(bctx, func(tx *txn) error {
			now := tx.now
			fs, err := tx.CheckupFactors(now.Add(-s.mfa.Checkup), now.Add(-s.mfa.Checkup/2), checkupPrefix, after, checkupBatch)
			if err != nil {
				return err
			}
			page = len(fs)
			n := 0
			for _, f := range fs {
				after = f.ID
				first, err := tx.MarkCampaignSent(checkupPrefix+strconv.FormatInt(f.ID, 10), f.UserID, now)
				if err != nil {
					return err
				}
				if !first { // another replica got there first
					continue
				}
				u, err := tx.UserByID(f.UserID)
				if err != nil {
					return err
				}
				others, err := tx.UserFactors(f.UserID)
				if err != nil {
					return err
				}
				if err := s.writeNotice(tx, now, u, checkupReminder, noticeData{When: s.when(now),
					Detail: s.checkupWords(f, others)}); err != nil {
					return err
				}
				n++
			}
			if n == 0 {
				return nil
			}
			queued += n
			return tx.audit(mfagate.AuditEvent{Kind: mfagate.AuditCampaign, Outcome: mfagate.OutcomeSuccess,
				Actor: mfagate.ActorSystem, Detail: "checkup: " + mfagate.Plural(n, "email", "emails") + " queued"})
		})
		cancel()
		if err != nil {
			return queued, fmt.Errorf("check-up reminders: %w", err)
		}
		if page < checkupBatch {
			return queued, nil
		}
	}
}

// checkupWords is the reminder's message for f, one of the person's
// factors: what they set up and when, what to do, and what happens at
// the check-up if they do not.
func (s *Service) checkupWords(f *mfagate.Factor, factors []*mfagate.Factor) string {
	other := "the way you use now"
	for _, o := range factors {
		if o.ID != f.ID {
			other = mfagate.MethodPhrase(o.Method)
			break
		}
	}
	it, works, code := "it", "works", "enter a code from it"
	if f.Method == mfagate.MethodEmail {
		it, works, code = "them", "work", "enter the code we email you"
	}
	text := fmt.Sprintf("On %s you set up %s to sign in, but you have not used %s yet.\n"+
		"Next time you sign in, choose %s instead of %s and %s. Then you know %s %s before you need %s.\n"+
		"From %s you will be asked for %s first; %s will stay one click away.",
		s.day(f.CreatedAt), mfagate.MethodPhrase(f.Method), it, it, other, code, it, works, it,
		s.day(f.CreatedAt.Add(s.mfa.Checkup)), it, other)
	if s.siteURL != "" {
		text += "\n\nQuestions are answered at " + strings.TrimSuffix(s.siteURL, "/") + "/help"
	}
	return text
}

// CheckupWords says on the challenge page why the factor due is asked
// for first.
func (s *Service) CheckupWords(due *mfagate.Factor) string {
	if due.Method == mfagate.MethodEmail {
		return fmt.Sprintf("You set up email codes on %s but have not used them yet. Enter the code we emailed you now, so you know they work before you need them.",
			s.day(due.CreatedAt))
	}
	return fmt.Sprintf("You set up %s on %s but have not used it yet. Enter a code from it now, so you know it works before you need it.",
		mfagate.MethodPhrase(due.Method), s.day(due.CreatedAt))
}

// day writes a date for a sentence: "3 June 2027".
func (s *Service) day(t time.Time) string { return t.In(s.loc).Format("2 January 2006") }
