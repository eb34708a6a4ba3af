package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
)

// mailsTo reads the emails queued in cfg's database for address.
func mailsTo(t *testing.T, cfg, address string) []*mfagate.Message {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), sqlstore.DriverSQLite, dbPath(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var out []*mfagate.Message
	err = store.View(context.Background(), func(tx mfagate.Tx) error {
		ms, err := tx.Mail(0)
		for _, m := range ms {
			if m.To == address {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStaffEmailsFromTheCommandLineNameTheSupportTeam: what the server's
// command line does to an account is told to its owner as done by their
// support team, never "by cli" (the audit log's name for the command
// line).
func TestStaffEmailsFromTheCommandLineNameTheSupportTeam(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, "", "user", "add", "ada", "--email", "ada@example.com", "--roles", "user", "--no-password", "--config", cfg)
	mustRun(t, "violet harbour compass\n", "user", "set-password", "ada", "--password-stdin", "--config", cfg)
	mustRun(t, "", "user", "reset-mfa", "ada", "--reason", "lost phone", "--config", cfg)
	mustRun(t, "", "user", "unlock", "ada", "--reason", "called in", "--config", cfg)
	mustRun(t, "", "user", "set-roles", "ada", "--roles", "admin,user", "--reason", "new job", "--config", cfg)
	mustRun(t, "", "user", "set-email", "ada", "--email", "ada@new.example.com", "--reason", "moved", "--config", cfg)

	want := map[string]string{
		"Your password was reset":                      "A new password was set for your account ada by your support team on ",
		"Your sign-in security was reset":              "Your support team removed the security codes set up for your account ada",
		"Your account has been unlocked":               "Your account ada was unlocked by your support team on ",
		"Your roles have changed":                      "Your support team changed the roles of your account ada",
		"A new email address was set for your account": "Your support team set ada@new.example.com as the email address",
	}
	seen := map[string]bool{}
	for _, m := range mailsTo(t, cfg, "ada@example.com") {
		for _, bad := range []string{"by cli", "cli ", "by system", "system "} {
			if strings.Contains(m.Text, bad) {
				t.Errorf("%q names the command line as %q:\n%s", m.Subject, bad, m.Text)
			}
		}
		if w, ok := want[m.Subject]; ok {
			seen[m.Subject] = true
			if !strings.Contains(m.Text, w) {
				t.Errorf("%q lacks %q:\n%s", m.Subject, w, m.Text)
			}
		}
	}
	for subject := range want {
		if !seen[subject] {
			t.Errorf("no %q email was queued", subject)
		}
	}
}

// TestAdministratorWords: what the command line prints to an
// administrator speaks of the account they act on ("The password must
// be…"), keeps a file name as it was typed, and counts in good English.
func TestAdministratorWords(t *testing.T) {
	cfg := install(t, "")
	dir := filepath.Dir(cfg)
	mustRun(t, "", "user", "add", "ada", "--email", "ada@example.com", "--roles", "user", "--no-password", "--config", cfg)

	for _, args := range [][]string{
		{"user", "add", "bea", "--email", "bea@example.com", "--roles", "user", "--password-stdin"},
		{"user", "set-password", "ada", "--password-stdin"},
	} {
		r := run(t, "short\n", append(args, "--config", cfg)...)
		if r.code != 1 || !strings.Contains(r.stderr, "mfagate: The password must be at least") || strings.Contains(r.stderr, "Your password") {
			t.Errorf("%v with a short password: got %d %q, want the password named as someone else's", args, r.code, r.stderr)
		}
	}
	r := run(t, "ada@example.com\n", "user", "set-password", "ada", "--password-stdin", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "The password must not be the account's username or email address") {
		t.Errorf("a password that is the address: got %d %q", r.code, r.stderr)
	}

	// A file named as typed, relative to where the command runs.
	t.Chdir(dir)
	os.WriteFile("bad.csv", []byte("username,email,name,roles\ncarol,carol@example.com,Carol,user\ndave,dave-at-example,Dave,user\n"), 0o600)
	r = run(t, "", "user", "import", "bad.csv", "--config", cfg)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "mfagate: bad.csv line 3: ") {
		t.Errorf("a bad import: got %d %q, want it to begin with the file name as typed", r.code, r.stderr)
	}

	os.WriteFile("one.csv", []byte("username,email,name,roles\ncarol,carol@example.com,Carol,user\n"), 0o600)
	out := mustRun(t, "", "user", "import", "one.csv", "--config", cfg)
	if !strings.Contains(out, "Imported 1 account. It has no password yet") {
		t.Errorf("importing one: %q", out)
	}
	os.WriteFile("two.csv", []byte("username,email,name,roles\ndan,dan@example.com,Dan,user\neve,eve@example.com,Eve,user\n"), 0o600)
	out = mustRun(t, "", "user", "import", "--invite", "two.csv", "--config", cfg)
	if !strings.Contains(out, "Imported 2 accounts. Their invitations are on their way") {
		t.Errorf("importing two: %q", out)
	}
}
