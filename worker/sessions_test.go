package worker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/worker"
)

func TestSessionCleanupRemovesOnlyStaleSessions(t *testing.T) {
	now := start
	// Each session's hash is its name.
	sessions := []struct {
		name     string
		created  time.Duration // before now
		lastSeen time.Duration // before now
	}{
		{name: "fresh", created: time.Hour, lastSeen: time.Minute},
		{name: "idle", created: 2 * time.Hour, lastSeen: 31 * time.Minute},
		{name: "old", created: 13 * time.Hour, lastSeen: time.Minute},
	}
	tests := []struct {
		name        string
		idle        time.Duration
		maxAge      time.Duration
		wantDeleted int
		wantLeft    []string
	}{
		{name: "both limits", idle: 30 * time.Minute, maxAge: 12 * time.Hour, wantDeleted: 2, wantLeft: []string{"fresh"}},
		{name: "idle only", idle: 30 * time.Minute, wantDeleted: 1, wantLeft: []string{"fresh", "old"}},
		{name: "max age only", maxAge: 12 * time.Hour, wantDeleted: 1, wantLeft: []string{"fresh", "idle"}},
		{name: "no limits", wantDeleted: 0, wantLeft: []string{"fresh", "idle", "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := mustStore(t, dbPath(t))
			var userID int64
			err := store.Update(ctx, func(tx mfagate.Tx) error {
				u := &mfagate.User{Username: "alice", Email: "alice@example.com", CreatedAt: now.Add(-24 * time.Hour)}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				userID = u.ID
				for _, s := range sessions {
					err := tx.CreateSession(&mfagate.Session{
						Hash: []byte(s.name), UserID: u.ID, Stage: mfagate.StageFull,
						CreatedAt: now.Add(-s.created), LastSeenAt: now.Add(-s.lastSeen),
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("set up: %v", err)
			}

			c := &worker.SessionCleanup{Store: store, Clock: mfagate.NewManualClock(now), Idle: tt.idle, MaxAge: tt.maxAge}
			n, err := c.RunOnce(ctx)
			if err != nil || n != tt.wantDeleted {
				t.Fatalf("RunOnce: got %d, %v, want %d, nil", n, err, tt.wantDeleted)
			}

			var left []string
			err = store.View(ctx, func(tx mfagate.Tx) error {
				ss, err := tx.UserSessions(userID)
				for _, s := range ss {
					left = append(left, string(s.Hash))
				}
				return err
			})
			if err != nil {
				t.Fatalf("list sessions: %v", err)
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("sessions left: got %q, want %q", left, tt.wantLeft)
			}
		})
	}
}
