package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
)

// invitations reads the invitations queued in cfg's database, by
// address.
func invitations(t *testing.T, cfg string) map[string][]string {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), sqlstore.DriverSQLite, filepath.Join(filepath.Dir(cfg), "db", "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out := map[string][]string{}
	err = store.View(context.Background(), func(tx mfagate.Tx) error {
		ms, err := tx.Mail(0)
		for _, m := range ms {
			if m.Subject == "Set up your account" {
				out[m.To] = append(out[m.To], m.Text)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUserImportInvite: an import with --invite queues one invitation per
// person, with a link to the configured base URL; user show says the
// invitation waits; user invite sends a new link and --revoke withdraws
// it; a bad row imports nobody and invites nobody.
func TestUserImportInvite(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, "", "user", "add", "old", "--email", "old@example.com", "--roles", "user", "--no-password", "--config", cfg)
	csv := filepath.Join(t.TempDir(), "people.csv")
	write := func(body string) {
		if err := os.WriteFile(csv, []byte("username,email,name,roles\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ann,ann@example.com,Ann,user\nbo,bo@example.com,Bo,admin\ncy,old@example.com,Cy,user\n")
	r := run(t, "", "user", "import", "--invite", csv, "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "line 4: The address old@example.com is already used by the account old") ||
		!strings.Contains(r.stderr, "nothing was imported") {
		t.Fatalf("import inviting an address in use: %d %q", r.code, r.stderr)
	}
	write("ann,ann@example.com,Ann,user\nbo,bo@example.com,Bo,admn\ncy,cy@example.com,Cy,user\n")
	if r := run(t, "", "user", "import", "--invite", csv, "--config", cfg); r.code != 1 ||
		!strings.Contains(r.stderr, `line 3: Role "admn" is not one of the roles`) || !strings.Contains(r.stderr, `Did you mean "admin"?`) {
		t.Fatalf("import with a role off the list: %d %q", r.code, r.stderr)
	}
	if got := invitations(t, cfg); len(got) != 0 {
		t.Fatalf("refused imports queued invitations: %v", got)
	}

	write("ann,ann@example.com,Ann,user\nbo,bo@example.com,Bo,admin\ncy,cy@example.com,Cy,user\n")
	out := mustRun(t, "", "user", "import", "--invite", csv, "--config", cfg)
	if !strings.Contains(out, "Imported 3 accounts. Their invitations are on their way") {
		t.Fatalf("import --invite: %q", out)
	}
	if !strings.Contains(out, "7 days") {
		t.Errorf("import --invite does not say how long the links work: %q", out)
	}
	got := invitations(t, cfg)
	link := regexp.MustCompile(`http://127\.0\.0\.1:8080/invite/[A-Za-z0-9_-]{43}`)
	for _, who := range []string{"ann", "bo", "cy"} {
		texts := got[who+"@example.com"]
		if len(texts) != 1 || !link.MatchString(texts[0]) || !strings.Contains(texts[0], "Your username is "+who) {
			t.Errorf("invitations to %s: %q", who, texts)
		}
	}
	show := mustRun(t, "", "user", "show", "bo", "--config", cfg)
	if !regexp.MustCompile(`(?m)^Invitation:\s+sent .*, not yet accepted; its link works until `).MatchString(show) ||
		!regexp.MustCompile(`(?m)^Password:\s+not set$`).MatchString(show) {
		t.Errorf("user show of an invited person:\n%s", show)
	}

	out = mustRun(t, "", "user", "invite", "bo", "--reason", "lost the email", "--config", cfg)
	if !strings.Contains(out, "Sent bo a new invitation; the earlier link no longer works.") {
		t.Errorf("user invite: %q", out)
	}
	if texts := invitations(t, cfg)["bo@example.com"]; len(texts) != 2 || link.FindString(texts[0]) == link.FindString(texts[1]) {
		t.Errorf("after sending again, bo's invitations: %q", texts)
	}
	mustRun(t, "", "user", "invite", "cy", "--revoke", "--config", cfg)
	if show := mustRun(t, "", "user", "show", "cy", "--config", cfg); strings.Contains(show, "Invitation:") {
		t.Errorf("user show after revoking:\n%s", show)
	}
	if r := run(t, "", "user", "invite", "cy", "--revoke", "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "no invitation waiting") {
		t.Errorf("revoking twice: %d %q", r.code, r.stderr)
	}
	if r := run(t, "", "user", "add", "dee", "--email", "dee@example.com", "--roles", "user", "--invite", "--no-password", "--config", cfg); r.code != 2 {
		t.Errorf("--invite with --no-password: %d %q", r.code, r.stderr)
	}
	out = mustRun(t, "", "user", "add", "dee", "--email", "dee@example.com", "--roles", "user", "--invite", "--config", cfg)
	if !strings.Contains(out, "An invitation is on its way") || len(invitations(t, cfg)["dee@example.com"]) != 1 {
		t.Errorf("user add --invite: %q", out)
	}
}
