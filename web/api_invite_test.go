package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
)

// TestAPIInvite: a person made with "invite": true is emailed a link and
// shows invited_at; an invitation to an address another account has is a
// 409 that makes nobody; sending again and revoking answer with the
// person, and 409 when there is nothing to do; each is audited.
func TestAPIInvite(t *testing.T) {
	h := newHarness(t)
	h.mustUser(t, "bob", pw)
	tok := h.mustToken(t, "helpdesk-bot", mfagate.RoleSupport)
	invitations := func() int {
		n := 0
		err := h.store.View(context.Background(), func(tx mfagate.Tx) error {
			ms, err := tx.Mail(0)
			for _, m := range ms {
				if m.Subject == "Set up your account" {
					n++
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	res := h.api(t, "POST", "/api/v1/people", tok, `{"username": "carol", "email": "carol@example.com", "roles": ["user"], "invite": true}`)
	if res.StatusCode != 201 || res.json["invited_at"] == nil || res.json["password_set"] != false {
		t.Fatalf("create with invite: %d %s", res.StatusCode, res.body)
	}
	if n := invitations(); n != 1 {
		t.Fatalf("%d invitations queued, want 1", n)
	}
	wantError(t, h.api(t, "POST", "/api/v1/people", tok, `{"username": "dan", "email": "Bob@example.com", "roles": ["user"], "invite": true}`),
		409, "conflict", "already used by the account bob")
	wantError(t, h.api(t, "GET", "/api/v1/people/dan", tok, ""), 404, "not_found", "")
	if n := invitations(); n != 1 {
		t.Fatalf("refused creations queued invitations: %d in all, want 1", n)
	}

	if res := h.api(t, "POST", "/api/v1/people/carol/invite", tok, `{"reason": "lost the email"}`); res.StatusCode != 200 || res.json["invited_at"] == nil {
		t.Fatalf("send again: %d %s", res.StatusCode, res.body)
	}
	if n := invitations(); n != 2 {
		t.Errorf("after sending again: %d invitations, want 2", n)
	}
	wantError(t, h.api(t, "POST", "/api/v1/people/bob/invite", tok, `{"reason": "x"}`), 409, "conflict", "already chosen a password")
	if res := h.api(t, "POST", "/api/v1/people/carol/invite/revoke", tok, `{"reason": "joined by mistake"}`); res.StatusCode != 200 || res.json["invited_at"] != nil {
		t.Fatalf("revoke: %d %s", res.StatusCode, res.body)
	}
	wantError(t, h.api(t, "POST", "/api/v1/people/carol/invite/revoke", tok, `{"reason": "again"}`), 409, "conflict", "no invitation waiting")
	evs := h.audit(t, mfagate.AuditFilter{Kind: mfagate.AuditInvite})
	if len(evs) != 2 || evs[0].Actor != "token:helpdesk-bot" || !strings.Contains(evs[0].Detail, "revoked") || !strings.Contains(evs[1].Detail, "sent again") { // newest first
		for _, e := range evs {
			t.Errorf("audit: %+v", *e)
		}
	}
}
