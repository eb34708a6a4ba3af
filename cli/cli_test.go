package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
)

// result is what one run of the command left behind.
type result struct {
	code           int
	stdout, stderr string
}

func run(tb testing.TB, stdin string, args ...string) result {
	tb.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestUsageAndVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"version", []string{"version"}, 0, "mfagate dev"},
		{"version with an argument", []string{"version", "now"}, 2, "version takes no arguments"},
		{"help", []string{"help"}, 0, "Commands:"},
		{"no command", nil, 2, "Commands:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"serve without config", []string{"serve"}, 2, "--config FILE is required"},
		{"keygen without file", []string{"keygen"}, 2, "give exactly one file"},
		{"user without subcommand", []string{"user"}, 2, "name a user subcommand"},
		{"unknown user subcommand", []string{"user", "delete"}, 2, `unknown user subcommand "delete"`},
		{"demo off loopback", []string{"demo", "--addr", "0.0.0.0:0"}, 2, "only on this machine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code || !containsFold(r.stdout+r.stderr, tt.want) {
				t.Fatalf("got %d, stdout %q, stderr %q; want %d with %q", r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
			if r.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && tt.name != "no command" {
				t.Fatalf("stderr is more than one line: %q", r.stderr)
			}
		})
	}
}

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if r := run(t, "", "keygen", path); r.code != 0 {
		t.Fatalf("got %d: %s", r.code, r.stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("got mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		t.Fatalf("got %q, want base64 of 32 bytes", data)
	}
	r := run(t, "", "keygen", path)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("second keygen: got %d %q, want 1 refusing to overwrite", r.code, r.stderr)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("the key file changed")
	}

	// A folder that does not exist is made, readable by its owner only.
	nested := filepath.Join(t.TempDir(), "etc", "mfagate", "secret.key")
	if r := run(t, "", "keygen", nested); r.code != 0 {
		t.Fatalf("keygen into a new folder: got %d: %s", r.code, r.stderr)
	}
	if fi, err := os.Stat(filepath.Dir(nested)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the key's new folder: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
}

// install writes a key and a configuration for a fresh installation and
// returns the configuration's path. extra is appended to the file.
func install(tb testing.TB, mail string) string {
	tb.Helper()
	dir := tb.TempDir()
	key := filepath.Join(dir, "secret.key")
	if r := run(tb, "", "keygen", key); r.code != 0 {
		tb.Fatal(r.stderr)
	}
	if mail == "" {
		mail = "  driver: outbox\n"
	}
	cfg := fmt.Sprintf(`server:
  addr: "127.0.0.1:0"
  base_url: "http://127.0.0.1:8080"
  dev_insecure_cookies: true
  shutdown_delay: 0s
database:
  driver: sqlite
  dsn: %q
secrets:
  key_file: %q
mail:
  from: "Sign-in <signin@example.com>"
%s`, filepath.Join(dir, "db", "mfagate.db"), key, mail)
	path := filepath.Join(dir, "mfagate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestStartUpRefusesBadSetups(t *testing.T) {
	good := install(t, "")
	dir := filepath.Dir(good)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	goodText, _ := os.ReadFile(good)
	tests := []struct {
		name, config, want string
	}{
		{"unknown key", write("a.yaml", strings.Replace(string(goodText), "  addr:", "  adress:", 1)), `line 2: unknown key "adress"`},
		{"wrong type", write("b.yaml", strings.Replace(string(goodText), "dev_insecure_cookies: true", "dev_insecure_cookies: [1]", 1)), "line 4"},
		{"missing file", filepath.Join(dir, "nope.yaml"), "read config"},
		{"missing key file", write("c.yaml", strings.Replace(string(goodText), "secret.key", "missing.key", 1)), "does not exist; create it with"},
		{"damaged key file", write("d.yaml", strings.Replace(string(goodText), "secret.key", "bad.key", 1)), "does not hold a key"},
		{"not YAML", write("e.yaml", "\xff\xfe{{{"), "config"},
	}
	write("bad.key", "not base64 at all")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", "serve", "--config", tt.config)
			if r.code != 1 || !containsFold(r.stderr, tt.want) {
				t.Fatalf("got %d %q, want 1 with %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); !os.IsNotExist(err) {
		t.Fatal("a refused start-up created the database")
	}
}

func TestUserCommands(t *testing.T) {
	cfg := install(t, "")
	ok := func(stdin string, args ...string) string {
		t.Helper()
		r := run(t, stdin, append(args, "--config", cfg)...)
		if r.code != 0 {
			t.Fatalf("%v: got %d %q", args, r.code, r.stderr)
		}
		return r.stdout
	}
	fails := func(code int, want string, stdin string, args ...string) {
		t.Helper()
		r := run(t, stdin, append(args, "--config", cfg)...)
		if r.code != code || !containsFold(r.stderr, want) {
			t.Fatalf("%v: got %d %q, want %d with %q", args, r.code, r.stderr, code, want)
		}
	}
	ok("plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "admin,user", "--name", "Alice Smith", "--password-stdin")
	fails(1, "already taken", "plum orchard lantern\n", "user", "add", "ALICE", "--email", "a2@example.com", "--roles", "user", "--password-stdin")
	fails(1, "too common", "password1\n", "user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--password-stdin")
	fails(2, "not a terminal", "", "user", "add", "bob", "--email", "bob@example.com", "--roles", "user")

	show := ok("", "user", "show", "alice")
	for _, want := range []string{"Alice Smith", "alice@example.com", "admin,user", "active", "Password:", "set"} {
		if !strings.Contains(show, want) {
			t.Errorf("user show lacks %q:\n%s", want, show)
		}
	}

	dir := filepath.Dir(cfg)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("username,email,name,roles\ncarol,carol@example.com,Carol,user\ndave,dave-at-example,Dave,user\n"), 0o600)
	fails(1, "line 3: Enter an email address", "", "user", "import", bad)
	if list := ok("", "user", "list"); strings.Contains(list, "carol") {
		t.Fatal("a failed import left carol behind")
	}
	// An internal error names its cause for the operator at the server,
	// not only "Something went wrong".
	r := run(t, "", "user", "import", dir, "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "Something went wrong: read CSV: read "+dir+": is a directory; nothing was imported") ||
		strings.Contains(r.stderr, "Try again later") {
		t.Fatalf("importing a folder: got %d %q, want 1 with the cause", r.code, r.stderr)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("username,email,name,roles\ncarol,carol@example.com,Carol,user\ndave,dave@example.com,Dave,\"admin,user\"\n"), 0o600)
	if out := ok("", "user", "import", good); !strings.Contains(out, "Imported 2 accounts") {
		t.Fatalf("got %q", out)
	}
	list := ok("", "user", "list", "--role", "admin")
	if !strings.Contains(list, "alice") || !strings.Contains(list, "dave") || strings.Contains(list, "carol") {
		t.Fatalf("admins: got\n%s", list)
	}
	fails(2, "give a --reason", "", "user", "disable", "carol")
	ok("", "user", "disable", "carol", "--reason", "left the company")
	if show := ok("", "user", "show", "carol"); !strings.Contains(show, "disabled") {
		t.Fatalf("carol is not shown as disabled:\n%s", show)
	}
	ok("violet harbour compass\n", "user", "set-password", "carol", "--password-stdin")
	fails(1, `user "nobody" not found`, "violet harbour compass\n", "user", "set-password", "nobody", "--password-stdin")
	if out := run(t, "", "migrate", "--config", cfg); out.code != 0 || !strings.Contains(out.stdout, "up to date") {
		t.Fatalf("migrate: got %d %q %q", out.code, out.stdout, out.stderr)
	}
}

// lines is a concurrency-safe writer whose lines can be awaited.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func newLines() *lines { return &lines{more: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits until re matches the output and returns its submatches.
func (l *lines) await(tb testing.TB, re *regexp.Regexp) []string {
	tb.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(l.String()); m != nil {
			return m
		}
		select {
		case <-l.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("waited 30s for %v in output:\n%s", re, l.String())
		}
	}
}

// start runs the command in the background until the test ends, when it
// must stop cleanly with status 0.
func start(tb testing.TB, args ...string) (*lines, *lines) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := newLines(), newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, args, func(string) string { return "" }, strings.NewReader(""), out, errOut)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				tb.Errorf("%v exited with %d: %s", args, code, errOut.String())
			}
		case <-time.After(20 * time.Second):
			tb.Errorf("%v did not stop within 20s of being told to", args)
		}
	})
	return out, errOut
}

// signIn signs in with a password, skips setting up MFA when offered,
// and returns the page it lands on.
func signIn(tb testing.TB, c *http.Client, base, user, pass string) string {
	tb.Helper()
	res, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pass}})
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Request.URL.Path == "/mfa/setup" {
		if res, err = c.PostForm(base+"/mfa/setup/skip", nil); err != nil {
			tb.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	return string(body)
}

func browser(tb testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func mustGet(tb testing.TB, c *http.Client, u string) (int, string) {
	tb.Helper()
	res, err := c.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var accountLine = regexp.MustCompile(`(?m)^account: (\w+) password: (\S+) roles: (\S+)$`)

func TestDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, _ := start(t, "demo", "--addr", "127.0.0.1:0", "--data", data)
	base := out.await(t, regexp.MustCompile(`running at (http://127\.0\.0\.1:\d+)\n`))[1]
	out.await(t, regexp.MustCompile(`/dev/outbox`))
	accounts := map[string][2]string{}
	for _, m := range accountLine.FindAllStringSubmatch(out.String(), -1) {
		accounts[m[1]] = [2]string{m[2], m[3]}
	}
	if !strings.Contains(out.String(), "The console ("+base+"/admin) opens for sam, the operator and support account") {
		t.Errorf("the demo does not say which account opens the console:\n%s", out.String())
	}
	wantRoles := map[string]string{"ada": "admin", "uma": "user", "sam": "operator,support"}
	for name, roles := range wantRoles {
		if accounts[name][1] != roles {
			t.Errorf("account %s: got roles %q, want %q", name, accounts[name][1], roles)
		}
	}
	c := browser(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := mustGet(t, c, base+p); code != 200 {
			t.Fatalf("%s: got %d, want 200", p, code)
		}
	}
	if body := signIn(t, c, base, "ada", accounts["ada"][0]); !strings.Contains(body, "You are signed in") || !strings.Contains(body, "Ada Administrator") {
		t.Fatalf("signing in as ada:\n%s", body)
	}
	if code, page := mustGet(t, c, base+"/dev/outbox"); code != 200 || !strings.Contains(page, "<h1>Outbox</h1>") {
		t.Fatalf("outbox: got %d", code)
	}
	passwords, _ := os.ReadFile(filepath.Join(data, "demo-passwords.txt"))
	sc := bufio.NewScanner(bytes.NewReader(passwords))
	n := 0
	for sc.Scan() {
		n++
	}
	if n != 3 {
		t.Fatalf("got %d saved demo passwords, want 3", n)
	}
}

func TestDemoKeepsItsPasswordsAcrossRestarts(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	first := func() string {
		ctx, cancel := context.WithCancel(context.Background())
		out := newLines()
		done := make(chan int, 1)
		go func() {
			done <- cli.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", data}, os.Getenv, strings.NewReader(""), out, io.Discard)
		}()
		out.await(t, regexp.MustCompile(`/dev/outbox`))
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("demo exited with %d", code)
		}
		return strings.Join(regexpAll(accountLine, out.String()), "\n")
	}
	a, b := first(), first()
	if a == "" || a != b {
		t.Fatalf("account lines changed across a restart:\n%s\n---\n%s", a, b)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func regexpAll(re *regexp.Regexp, s string) []string { return re.FindAllString(s, -1) }

func TestResetAndUnlockFromTheCommandLine(t *testing.T) {
	cfg := install(t, "")
	run(t, "plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	for _, args := range [][]string{{"user", "reset-mfa", "alice"}, {"user", "unlock", "alice"}} {
		if r := run(t, "", append(args, "--config", cfg)...); r.code != 2 || !containsFold(r.stderr, "give a --reason") {
			t.Fatalf("%v without a reason: got %d %q, want 2", args, r.code, r.stderr)
		}
	}
	if r := run(t, "", "user", "reset-mfa", "nobody", "--reason", "x", "--config", cfg); r.code != 1 || !containsFold(r.stderr, `user "nobody" not found`) {
		t.Fatalf("unknown user: got %d %q", r.code, r.stderr)
	}
	r := run(t, "", "user", "reset-mfa", "alice", "--reason", "lost phone", "--config", cfg)
	// No rollout here: the reset does not make her set up again.
	if r.code != 0 || !strings.Contains(r.stdout, "Removed the security codes of alice") ||
		!strings.Contains(r.stdout, "At their next sign-in, alice signs in with the password alone.") {
		t.Fatalf("reset: got %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "", "user", "unlock", "alice", "--reason", "called support", "--config", cfg); r.code != 0 {
		t.Fatalf("unlock: got %d %q", r.code, r.stderr)
	}
	show := run(t, "", "user", "show", "alice", "--config", cfg).stdout
	if !strings.Contains(show, "MFA:") || !strings.Contains(show, "not set up") {
		t.Fatalf("user show does not give the MFA state:\n%s", show)
	}
}

// TestStaffAccountsAtTheCommandLine: the command line at the server is
// the one door that may reset, unlock and disable staff accounts (the
// console and the API refuse: web.TestSupportCannotTouchStaffAccounts).
func TestStaffAccountsAtTheCommandLine(t *testing.T) {
	cfg := install(t, "")
	run(t, "plum orchard lantern\n", "user", "add", "olga", "--email", "olga@example.com", "--roles", "operator", "--password-stdin", "--config", cfg)
	for _, args := range [][]string{
		{"user", "reset-mfa", "olga", "--reason", "lost phone"},
		{"user", "unlock", "olga", "--reason", "called in"},
		{"user", "disable", "olga", "--reason", "left"},
		{"user", "enable", "olga", "--reason", "back"},
	} {
		if r := run(t, "", append(args, "--config", cfg)...); r.code != 0 {
			t.Errorf("%v: got %d %q, want done", args, r.code, r.stderr)
		}
	}
}
