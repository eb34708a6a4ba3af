package account_test

import (
	"context"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

// TestSeedSessions: the load tests' sessions are real ones, each its own
// token, each signed in as the account, across more than one batch; an
// unknown or disabled account and a count below one are refused.
func TestSeedSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := f.mustUser(t, "alice", pw)
	tokens, err := f.svc.SeedSessions(ctx, "alice", 1001, client)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1001 {
		t.Fatalf("got %d tokens, want 1001", len(tokens))
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		if seen[tok] {
			t.Fatalf("token %q given twice", tok)
		}
		seen[tok] = true
	}
	for _, tok := range []string{tokens[0], tokens[1000]} {
		cur, err := f.svc.CheckSession(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if cur.UserID != alice.ID || !cur.Full {
			t.Fatalf("got %s, fully signed in %v; want alice fully signed in", cur.Username, cur.Full)
		}
	}
	var n int
	if err := f.store.View(ctx, func(tx mfagate.Tx) error {
		ss, err := tx.UserSessions(alice.ID)
		n = len(ss)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1001 {
		t.Fatalf("alice has %d sessions, want 1001", n)
	}

	if _, err := f.svc.SeedSessions(ctx, "nobody", 1, client); mfagate.ErrorCode(err) != mfagate.ENOTFOUND {
		t.Errorf("unknown account: got %v, want ENOTFOUND", err)
	}
	if _, err := f.svc.SeedSessions(ctx, "alice", 0, client); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Errorf("no sessions: got %v, want EINVALID", err)
	}
	f.mustUser(t, "bob", pw)
	if err := f.svc.SetDisabled(ctx, account.Actor{Name: "test", AtServer: true}, "bob", true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SeedSessions(ctx, "bob", 1, client); mfagate.ErrorCode(err) != mfagate.EINVALID {
		t.Errorf("disabled account: got %v, want EINVALID", err)
	}
}
