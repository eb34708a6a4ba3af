package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
)

// withAnApp installs mfagate with a rollout that asks everyone for an
// authenticator app, and has alice set hers up on a server that then
// stops. The server's log must not say its key is another.
func withAnApp(t *testing.T) (cfg string, alice *visitor) {
	t.Helper()
	cfg = install(t, "")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(text, totpForEveryone...), 0o600)
	mustRun(t, forwardAuthPass+"\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := newLines(), newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--config", cfg}, func(string) string { return "" }, strings.NewReader(""), out, errOut)
	}()
	login, _ := url.Parse("http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1] + "/login")
	jar, _ := cookiejar.New(nil)
	alice = &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: map[string][]byte{}}
	if _, body := alice.signIn(login, "alice", forwardAuthPass); !strings.Contains(body, "You are signed in") {
		t.Fatalf("alice setting up her authenticator app:\n%s", body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	if strings.Contains(errOut.String(), keyIsAnother) {
		t.Fatalf("the server with the right key said its key is another:\n%s", errOut.String())
	}
	return cfg, alice
}

// keyIsAnother is what a server logs when its key opens none of the
// database's authenticator-app secrets.
const keyIsAnother = "the secret key opens none of the authenticator-app secrets in the database"

// TestRestoreRefusesAnotherKey: rebuilding a lost server by the book
// (install, "mfagate keygen", restore) leaves a new key beside a backup
// sealed with the old one, and every authenticator app would then end
// in "Something went wrong". Restore checks the key against the
// backup's sealed secrets first, refuses with a sentence that says what
// to do, and changes nothing; with the key that made the backup it
// restores, and alice signs in with her app; with the key moved away (it
// is lost for good) it restores and says the key is missing.
func TestRestoreRefusesAnotherKey(t *testing.T) {
	cfg, alice := withAnApp(t)
	backup := filepath.Join(t.TempDir(), "mfagate.db")
	mustRun(t, "", "backup", backup, "--config", cfg)

	// The new machine: its own new key, as the install steps make one.
	newCfg := install(t, "")
	text, _ := os.ReadFile(newCfg)
	os.WriteFile(newCfg, append(text, totpForEveryone...), 0o600)
	newKey := filepath.Join(filepath.Dir(newCfg), "secret.key")
	r := run(t, "", "restore", backup, "--config", newCfg)
	want := "the secret key file " + newKey + " is not the key this backup was made with"
	if r.code != 1 || !containsFold(r.stderr, want) || !containsFold(r.stderr, "nothing was changed") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Fatalf("restore with another key: got %d %q, want 1 with %q on one line", r.code, r.stderr, want)
	}
	t.Logf("restore with another key: %s", r.stderr)
	if _, err := os.Stat(filepath.Dir(dbPath(newCfg))); !os.IsNotExist(err) {
		t.Fatalf("the refused restore made the database's folder: %v", err)
	}

	// The key kept with the backup, put in place.
	oldKey, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "secret.key"))
	os.WriteFile(newKey, oldKey, 0o600)
	if got := mustRun(t, "", "restore", backup, "--config", newCfg); !strings.Contains(got, "the key this backup was made with") {
		t.Fatalf("restore with the backup's key said:\n%s", got)
	}
	out2, _ := start(t, "serve", "--config", newCfg)
	signInAgain(t, alice, "http://"+out2.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1])

	// The key lost for good: moved away, the restore goes ahead.
	lost := install(t, "")
	os.Remove(filepath.Join(filepath.Dir(lost), "secret.key"))
	got := mustRun(t, "", "restore", backup, "--config", lost)
	if !strings.Contains(got, "does not exist yet") || !bytes.Contains([]byte(got), []byte("Restored "+backup)) {
		t.Fatalf("restore with no key file said:\n%s", got)
	}
}

// TestServeSaysWhenTheKeyIsAnother: a server started with a key other
// than the one that sealed the database's authenticator-app secrets
// still starts (passwords and email codes work, and support can reset
// people), but says at once, in its log, why app codes will fail.
func TestServeSaysWhenTheKeyIsAnother(t *testing.T) {
	cfg, alice := withAnApp(t)
	other := filepath.Join(t.TempDir(), "other.key")
	mustRun(t, "", "keygen", other)
	key, _ := os.ReadFile(other)
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut := start(t, "serve", "--config", cfg)
	errOut.await(t, regexp.MustCompile(`msg="mfagate is listening"`)) // logged after the check
	if line := grepLines(errOut.String(), keyIsAnother); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "accounts_with_an_app=1") {
		t.Fatalf("the server with another key logged:\n%s", errOut.String())
	}

	// What alice sees: a page that says something went wrong, in plain
	// sentences, with a reference for support.
	login, _ := url.Parse("http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1] + "/login")
	jar, _ := cookiejar.New(nil)
	alice.c = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, body := alice.signIn(login, "alice", forwardAuthPass)
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "Something went wrong. Try again later.") ||
		strings.Contains(body, "later..") || !strings.Contains(body, "give them this reference") {
		t.Fatalf("alice's code step with another key: got %d:\n%s", res.StatusCode, body)
	}
}
