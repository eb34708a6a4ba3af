package account

import (
	"context"
	"fmt"

	"github.com/mfagate/mfagate"
)

// Security alerts — a refused replay, wrong codes after a right password,
// a lock — can come by the dozen when someone attacks an account. Each
// kind is emailed to a person at most once per mfagate.NoticeEvery: the
// first at once, later ones held back and counted, and the count told in
// the next email of that kind, or, when no more come, in a summary that
// the scheduled job SendHeldAlerts sends once the quiet period is over.

// alertKind is one kind of coalesced security email.
type alertKind struct {
	notice notice
	// one and many name the event in summaries: "refused code(s)".
	one, many string
	// detail fills the notice's variable phrase, if it has one.
	detail func(s *Service) string
}

var alertKinds = map[string]alertKind{
	mfagate.NoticeReplay:      {notice: codeReplayed, one: "refused code", many: "refused codes"},
	mfagate.NoticeFailedCodes: {notice: failedCodes, one: "wrong code", many: "wrong codes"},
	mfagate.NoticePasswordLock: {notice: accountLocked, one: "lock", many: "locks",
		detail: func(s *Service) string { return humanDuration(s.throttle.LockFor) }},
	mfagate.NoticeCodeLock: {notice: codesLocked, one: "lock", many: "locks",
		detail: func(s *Service) string { return humanDuration(s.throttle.LockFor) }},
	mfagate.NoticeHardLock: {notice: accountHardLocked, one: "lock", many: "locks"},
}

// noun names n events of the kind: "refused code" or "refused codes".
func (k alertKind) noun(n int) string {
	if n == 1 {
		return k.one
	}
	return k.many
}

// heldBefore tells, in the next email of the kind, of the held events
// before it: "there was 1 more" or "there were 2 more".
func (k alertKind) heldBefore(held int, since string) string {
	verb := "were"
	if held == 1 {
		verb = "was"
	}
	return fmt.Sprintf("Before this there %s %d more %s since %s. We did not email you about each one, so as not to flood your inbox.",
		verb, held, k.noun(held), since)
}

// heldAll tells, in the summary sent once events stop, how many there
// were in all.
func (k alertKind) heldAll(held int, since string) string {
	return fmt.Sprintf("That makes %d %s since %s. We sent one email for them all, so as not to flood your inbox.",
		held, k.noun(held), since)
}

func (k alertKind) data(s *Service) noticeData {
	var d noticeData
	if k.detail != nil {
		d.Detail = k.detail(s)
	}
	return d
}

// alert records one security event of kind for u and emails the person
// about it, unless an email of that kind went in the last
// mfagate.NoticeEvery: then the event is held for the next one.
func (s *Service) alert(tx *txn, u *mfagate.User, kind string, by Actor) error {
	k, ok := alertKinds[kind]
	if !ok {
		return fmt.Errorf("alert: unknown kind %q", kind)
	}
	now := tx.now
	st, err := tx.HoldNotice(u.ID, kind)
	if err != nil {
		return err
	}
	if !st.SentAt.IsZero() && now.Sub(st.SentAt) < mfagate.NoticeEvery {
		if st.Held == 0 {
			st.HeldSince = now
		}
		st.Held++
		st.HeldLastAt, st.HeldFrom = now, by.ClientAddr
		return tx.SaveNotice(st)
	}
	d := k.data(s)
	d.When, d.From = s.when(now), by.ClientAddr
	if st.Held > 0 {
		d.Summary = k.heldBefore(st.Held, s.clockTime(st.HeldSince))
	}
	*st = mfagate.NoticeState{UserID: u.ID, Kind: kind, SentAt: now}
	if err := tx.SaveNotice(st); err != nil {
		return err
	}
	return s.writeNotice(tx, tx.now, u, k.notice, d)
}

// SendHeldAlerts emails the summaries of security events held back for
// longer than mfagate.NoticeEvery since the last email of their kind, and
// returns how many it sent. It is scheduled work: the summary of each
// person's events goes once, whichever replica runs it.
func (s *Service) SendHeldAlerts(ctx context.Context, limit int) (int, error) {
	now := s.now()
	var due []*mfagate.NoticeState
	if err := s.view(ctx, func(tx *txn) (err error) {
		due, err = tx.NoticesDue(now.Add(-mfagate.NoticeEvery), limit)
		return err
	}); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		var ok bool
		err := s.update(ctx, func(tx *txn) error {
			ok = false
			k, known := alertKinds[d.Kind]
			if !known {
				return nil // an unknown kind is left for a release that knows it
			}
			// The person before their notices, as a sign-in that alerts
			// holds them (see doc.go).
			u, err := tx.UserByID(d.UserID)
			if err != nil {
				return err
			}
			st, err := tx.HoldNotice(d.UserID, d.Kind)
			if err != nil {
				return err
			}
			// Another replica, or a new event, may have sent it meanwhile.
			if st.Held == 0 || tx.now.Sub(st.SentAt) < mfagate.NoticeEvery {
				return nil
			}
			data := k.data(s)
			data.When, data.From = s.when(st.HeldLastAt), st.HeldFrom
			if st.Held > 1 {
				data.Summary = k.heldAll(st.Held, s.clockTime(st.HeldSince))
			}
			if err := s.writeNotice(tx, tx.now, u, k.notice, data); err != nil {
				return err
			}
			ok = true
			return tx.SaveNotice(&mfagate.NoticeState{UserID: st.UserID, Kind: st.Kind, SentAt: tx.now})
		})
		if err != nil {
			return sent, fmt.Errorf("send held alerts: %w", err)
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}
