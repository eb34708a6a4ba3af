package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func testAppendAudit(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	e := &mfagate.AuditEvent{
		At:         time.Date(2026, 3, 1, 10, 30, 0, 123456789, time.FixedZone("CET", 3600)),
		Kind:       mfagate.AuditUserDisable,
		Outcome:    mfagate.OutcomeSuccess,
		Actor:      "support1",
		Subject:    "alice",
		ClientAddr: "192.0.2.1",
		Reason:     "left the company",
		Detail:     "ticket 42",
	}
	second := &mfagate.AuditEvent{At: base, Kind: mfagate.AuditSignOut, Actor: "alice", Subject: "alice"}
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		if err := tx.AppendAudit(e); err != nil {
			return err
		}
		return tx.AppendAudit(second)
	})
	if e.ID <= 0 || second.ID <= e.ID {
		t.Fatalf("IDs: got %d then %d, want positive and growing", e.ID, second.ID)
	}
	var got []*mfagate.AuditEvent
	mustView(t, s, func(tx mfagate.Tx) (err error) {
		got, err = tx.AuditEvents(mfagate.AuditFilter{})
		return err
	})
	wantE := *e
	wantE.At = stored(e.At)
	want := []*mfagate.AuditEvent{second, &wantE}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events: got %v, want %v", dumpEvents(got), dumpEvents(want))
	}
	for _, g := range got {
		checkUTC(t, "At", g.At)
	}
}

func testAuditEvents(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	mk := func(minute int, kind, actor, subject string) *mfagate.AuditEvent {
		return &mfagate.AuditEvent{
			At:      base.Add(time.Duration(minute) * time.Minute),
			Kind:    kind,
			Outcome: mfagate.OutcomeSuccess,
			Actor:   actor,
			Subject: subject,
		}
	}
	// Appended in time order, as the log grows.
	events := []*mfagate.AuditEvent{
		mk(0, mfagate.AuditSignInPassword, "alice", "alice"),          // 0
		mk(1, mfagate.AuditSignInPassword, "bob", "bob"),              // 1
		mk(2, mfagate.AuditUserDisable, "support1", "bob"),            // 2
		mk(3, mfagate.AuditSignOut, "alice", "alice"),                 // 3
		mk(4, mfagate.AuditUserEnable, "support1", "bob"),             // 4
		mk(5, mfagate.AuditPasswordChange, mfagate.ActorCLI, "alice"), // 5
	}
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		for _, e := range events {
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name   string
		filter mfagate.AuditFilter
		want   []int // indexes into events, newest first
	}{
		{"all", mfagate.AuditFilter{}, []int{5, 4, 3, 2, 1, 0}},
		{"subject", mfagate.AuditFilter{Subject: "bob"}, []int{4, 2, 1}},
		{"actor", mfagate.AuditFilter{Actor: "support1"}, []int{4, 2}},
		{"kind", mfagate.AuditFilter{Kind: mfagate.AuditSignInPassword}, []int{1, 0}},
		{"subject and actor", mfagate.AuditFilter{Subject: "alice", Actor: "alice"}, []int{3, 0}},
		{"since is inclusive", mfagate.AuditFilter{Since: base.Add(3 * time.Minute)}, []int{5, 4, 3}},
		{"until is exclusive", mfagate.AuditFilter{Until: base.Add(2 * time.Minute)}, []int{1, 0}},
		{"since and until", mfagate.AuditFilter{Since: base.Add(time.Minute), Until: base.Add(4 * time.Minute)}, []int{3, 2, 1}},
		{"before", mfagate.AuditFilter{BeforeID: events[3].ID}, []int{2, 1, 0}},
		{"limit", mfagate.AuditFilter{Limit: 2}, []int{5, 4}},
		{"before and limit", mfagate.AuditFilter{BeforeID: events[3].ID, Limit: 2}, []int{2, 1}},
		{"subject, before and limit", mfagate.AuditFilter{Subject: "bob", BeforeID: events[4].ID, Limit: 1}, []int{2}},
		{"nothing matches", mfagate.AuditFilter{Subject: "carol"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*mfagate.AuditEvent
			mustView(t, s, func(tx mfagate.Tx) (err error) {
				got, err = tx.AuditEvents(tt.filter)
				return err
			})
			var want []*mfagate.AuditEvent
			for _, i := range tt.want {
				want = append(want, events[i])
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", dumpEvents(got), dumpEvents(want))
			}
		})
	}
}

// dumpEvents makes a list of events readable in a failure message.
func dumpEvents(events []*mfagate.AuditEvent) []mfagate.AuditEvent {
	out := make([]mfagate.AuditEvent, len(events))
	for i, e := range events {
		out[i] = *e
	}
	return out
}
