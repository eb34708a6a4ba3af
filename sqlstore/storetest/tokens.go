package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func newToken(name, role string, created time.Time) *mfagate.Token {
	return &mfagate.Token{Name: name, Role: role, Hash: hashOf("token " + name), CreatedAt: created}
}

func mustCreateToken(tb testing.TB, s mfagate.Store, tok *mfagate.Token) *mfagate.Token {
	tb.Helper()
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateToken(tok) })
	if tok.ID <= 0 {
		tb.Fatalf("CreateToken(%q): got ID %d, want > 0", tok.Name, tok.ID)
	}
	return tok
}

func mustTokenByHash(tb testing.TB, s mfagate.Store, hash []byte) *mfagate.Token {
	tb.Helper()
	var tok *mfagate.Token
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		tok, err = tx.TokenByHash(hash)
		return err
	})
	return tok
}

func mustTokens(tb testing.TB, s mfagate.Store) []mfagate.Token {
	tb.Helper()
	var toks []*mfagate.Token
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		toks, err = tx.Tokens()
		return err
	})
	out := []mfagate.Token{}
	for _, tok := range toks {
		out = append(out, *tok)
	}
	return out
}

func checkToken(tb testing.TB, got, want *mfagate.Token) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("got token %+v, want %+v", got, want)
	}
	checkUTC(tb, "CreatedAt", got.CreatedAt)
	checkUTC(tb, "LastUsedAt", got.LastUsedAt)
	checkUTC(tb, "RevokedAt", got.RevokedAt)
}

func testTokens(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	if got := mustTokens(t, s); len(got) != 0 {
		t.Errorf("Tokens of an empty store: got %v, want none", got)
	}
	// Created newest first, to see that the list is sorted oldest first.
	ci := mustCreateToken(t, s, newToken("ci", mfagate.RoleOperator, base.Add(time.Hour)))
	desk := mustCreateToken(t, s, newToken("help desk", mfagate.RoleSupport, base.Add(1500*time.Microsecond)))
	if ci.ID == desk.ID {
		t.Errorf("IDs: got %d twice, want different", ci.ID)
	}
	wantDesk := *desk
	wantDesk.CreatedAt = stored(desk.CreatedAt)
	checkToken(t, mustTokenByHash(t, s, desk.Hash), &wantDesk)
	if got, want := mustTokens(t, s), []mfagate.Token{wantDesk, *ci}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tokens: got %+v, want %+v", got, want)
	}

	// Used twice: the latest use is kept.
	for _, at := range []time.Time{base.Add(2 * time.Hour), base.Add(3 * time.Hour)} {
		mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.TouchToken(ci.ID, at) })
	}
	wantCI := *ci
	wantCI.LastUsedAt = base.Add(3 * time.Hour)
	checkToken(t, mustTokenByHash(t, s, ci.Hash), &wantCI)

	// Revoked, it is still found (the caller refuses it) and still listed;
	// revoking again keeps the first time.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RevokeToken("ci", base.Add(4*time.Hour)) })
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.RevokeToken("ci", base.Add(5*time.Hour)) })
	wantCI.RevokedAt = base.Add(4 * time.Hour)
	checkToken(t, mustTokenByHash(t, s, ci.Hash), &wantCI)
	if got, want := mustTokens(t, s), []mfagate.Token{wantDesk, wantCI}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tokens after revoking: got %+v, want %+v", got, want)
	}
	// The other token is untouched.
	checkToken(t, mustTokenByHash(t, s, desk.Hash), &wantDesk)
}

func testTokenErrors(t *testing.T, newStore func(*testing.T) mfagate.Store) {
	s := newStore(t)
	first := mustCreateToken(t, s, newToken("ci", mfagate.RoleOperator, base))

	// A taken name is a conflict, and the transaction goes on (it must not
	// be aborted on PostgreSQL).
	mustUpdate(t, s, func(tx mfagate.Tx) error {
		again := newToken("ci", mfagate.RoleSupport, base)
		again.Hash = hashOf("another")
		wantCode(t, "CreateToken with a taken name", tx.CreateToken(again), mfagate.ECONFLICT)
		if again.ID != 0 {
			t.Errorf("ID after a conflict: got %d, want 0", again.ID)
		}
		return tx.CreateToken(newToken("deploy", mfagate.RoleOperator, base))
	})
	if got := mustTokens(t, s); len(got) != 2 || got[0].ID != first.ID || got[0].Role != mfagate.RoleOperator {
		t.Errorf("Tokens after a conflict: got %+v, want ci (operator) and deploy", got)
	}

	wantCode(t, "TokenByHash of an unknown hash", view(s, func(tx mfagate.Tx) error {
		_, err := tx.TokenByHash(hashOf("unknown"))
		return err
	}), mfagate.ENOTFOUND)
	wantCode(t, "RevokeToken of an unknown name", update(s, func(tx mfagate.Tx) error {
		return tx.RevokeToken("nobody", base)
	}), mfagate.ENOTFOUND)
	// Names are exact: another case is another name.
	wantCode(t, "RevokeToken in another case", update(s, func(tx mfagate.Tx) error {
		return tx.RevokeToken("CI", base)
	}), mfagate.ENOTFOUND)
	// A use of a token deleted meanwhile is not an error.
	mustUpdate(t, s, func(tx mfagate.Tx) error { return tx.TouchToken(first.ID+1000, base) })
	if got := mustTokenByHash(t, s, first.Hash); !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Errorf("token after failed calls: got %+v, want unused and valid", got)
	}
}
