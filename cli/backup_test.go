package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
	_ "modernc.org/sqlite" // to look inside backups as an operator's sqlite3 would
)

// totpForEveryone is a rollout that asks everyone for an authenticator
// app (so that, for one, signing in after a restore needs the secret
// sealed in the backup).
const totpForEveryone = `rollout:
  phases:
    - name: "Everyone"
      starts: 2020-01-01
      audience: [all]
      requirement: required
      methods: [totp]
      default_method: totp
`

// mustRun runs the command and fails the test unless it succeeds.
func mustRun(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	r := run(tb, stdin, args...)
	if r.code != 0 {
		tb.Fatalf("%v: got %d %q", args, r.code, r.stderr)
	}
	return r.stdout
}

// dbPath is the database file install's configuration names.
func dbPath(cfg string) string { return filepath.Join(filepath.Dir(cfg), "db", "mfagate.db") }

// openSQLite opens a SQLite file read-only, closed when the test ends.
func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func queryInt(tb testing.TB, db *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// apiClient calls the JSON API with a token.
type apiClient struct {
	base, token string
	c           *http.Client
}

func (a apiClient) post(path string, body any) (int, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", a.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// load is the writing that goes on while backups are taken: accounts
// created through the API, security emails queued by resetting their
// MFA, and a person signing in with a password, each in its own
// goroutine, each bounded in count. A write that starts and ends while
// one backup runs is counted in during.
type load struct {
	t       *testing.T
	api     apiClient
	base    string
	epoch   atomic.Int64 // odd while a backup runs
	created atomic.Int64 // accounts load0..load(created-1) exist
	resets  atomic.Int64
	signIns atomic.Int64
	during  atomic.Int64
	writes  atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
	ended   sync.Once
}

const loadOps = 2000 // per goroutine, at most

func (l *load) start() {
	l.stop = make(chan struct{})
	// Stopped here at the latest, should the test stop early.
	l.t.Cleanup(l.end)
	l.loop(func(i int) (bool, error) { // accounts
		code, err := l.api.post("/api/v1/people", map[string]any{
			"username": fmt.Sprintf("load%d", i), "email": fmt.Sprintf("load%d@example.com", i),
			"name": fmt.Sprintf("Load %d", i), "roles": []string{"user"}})
		if err == nil && code != http.StatusCreated {
			err = fmt.Errorf("creating load%d: got %d, want 201", i, code)
		}
		if err == nil {
			l.created.Add(1)
		}
		return err == nil, err
	})
	l.loop(func(i int) (bool, error) { // security mail
		n := l.created.Load()
		for ; n == 0; n = l.created.Load() {
			select { // until the first account exists
			case <-l.stop:
				return false, nil
			case <-time.After(5 * time.Millisecond):
			}
		}
		code, err := l.api.post(fmt.Sprintf("/api/v1/people/load%d/reset-mfa", int64(i)%n), map[string]string{"reason": "backup test"})
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("resetting load%d: got %d, want 200", int64(i)%n, code)
		}
		if err == nil {
			l.resets.Add(1)
		}
		return err == nil, err
	})
	l.loop(func(i int) (bool, error) { // sign-ins
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		res, err := c.PostForm(l.base+"/login", url.Values{"username": {"bob"}, "password": {forwardAuthPass}})
		if err != nil {
			return false, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.Request.URL.Path != "/mfa/setup/totp" {
			return false, fmt.Errorf("bob signing in: got %d at %s, want the authenticator set-up", res.StatusCode, res.Request.URL)
		}
		l.signIns.Add(1)
		return true, nil
	})
}

// loop runs op until told to stop or loadOps times, counting its writes.
func (l *load) loop(op func(i int) (wrote bool, err error)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := range loadOps {
			select {
			case <-l.stop:
				return
			default:
			}
			before := l.epoch.Load()
			wrote, err := op(i)
			if err != nil {
				l.t.Errorf("load: %v", err)
				return
			}
			if !wrote {
				continue
			}
			l.writes.Add(1)
			if before%2 == 1 && l.epoch.Load() == before {
				l.during.Add(1)
			}
		}
	}()
}

func (l *load) end() {
	l.ended.Do(func() {
		close(l.stop)
		l.wg.Wait()
	})
}

// TestBackupUnderWritesRestoresAndSignsIn is the operator's whole round:
// backups taken while the server is busy writing, one of them restored on
// a new machine (a new folder, the same key file), served, and a person
// signs in there with password and authenticator app.
// busyServer adds rollout, accounts and an API token to the installation
// cfg, serves it, has alice set up an authenticator app, and starts the
// load, returning once every kind of write is under way. The load ends
// with the test, or earlier with l.end.
func busyServer(t *testing.T, cfg string) (*visitor, *load) {
	t.Helper()
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(text, totpForEveryone...), 0o600)
	for _, name := range []string{"alice", "bob"} {
		mustRun(t, forwardAuthPass+"\n", "user", "add", name, "--email", name+"@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	}
	// Enough accounts that a backup takes a while.
	var csv strings.Builder
	csv.WriteString("username,email,name,roles\n")
	for i := range 3000 {
		fmt.Fprintf(&csv, "seed%d,seed%d@example.com,Seed %d,user\n", i, i, i)
	}
	csvPath := filepath.Join(t.TempDir(), "seed.csv")
	os.WriteFile(csvPath, []byte(csv.String()), 0o600)
	mustRun(t, "", "user", "import", csvPath, "--config", cfg)
	token := mustToken(t, cfg, "loader", "support")

	out, _ := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	login, _ := url.Parse(base + "/login")
	jar, _ := cookiejar.New(nil)
	alice := &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: map[string][]byte{}}
	if _, body := alice.signIn(login, "alice", forwardAuthPass); !strings.Contains(body, "You are signed in") {
		t.Fatalf("alice setting up her authenticator app:\n%s", body)
	}

	l := &load{t: t, base: base, api: apiClient{base: base, token: token, c: &http.Client{Timeout: 10 * time.Second}}}
	l.start()
	for deadline := time.Now().Add(time.Minute); l.created.Load() < 20 || l.resets.Load() < 5 || l.signIns.Load() < 2; {
		if t.Failed() || time.Now().After(deadline) {
			l.end()
			t.Fatalf("the load did not get going within a minute: %d accounts, %d resets, %d sign-ins", l.created.Load(), l.resets.Load(), l.signIns.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return alice, l
}

// signInAgain has alice sign in at the server at base with her password
// and a code from the authenticator app she set up in busyServer.
func signInAgain(t *testing.T, alice *visitor, base string) {
	t.Helper()
	login, _ := url.Parse(base + "/login")
	jar, _ := cookiejar.New(nil)
	alice.c = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, body := alice.signIn(login, "alice", forwardAuthPass)
	if res.Request.URL.Path != "/" || !strings.Contains(body, "You are signed in") {
		t.Fatalf("alice signing in with her authenticator app after the restore: got %s:\n%s", res.Request.URL, body)
	}
}

func TestBackupUnderWritesRestoresAndSignsIn(t *testing.T) {
	cfg := install(t, "")
	alice, l := busyServer(t, cfg)
	// Back up again and again while the load goes on, until three backups
	// each had a write start and finish while it ran; check every one.
	backups := t.TempDir()
	var chosen string
	overlapped, tries := 0, 0
	for ; tries < 20 && overlapped < 3 && !t.Failed(); tries++ {
		target := filepath.Join(backups, fmt.Sprintf("mfagate-%d.db", tries))
		createdBefore := l.created.Load()
		during := l.during.Load()
		l.epoch.Add(1)
		r := run(t, "", "backup", target, "--config", cfg)
		l.epoch.Add(1)
		if r.code != 0 || !regexp.MustCompile(`^Wrote .+: [0-9.]+ [kMG]B, \d+ accounts, schema 0010_address; its integrity check passed\.\n`).MatchString(r.stdout) ||
			!strings.Contains(r.stdout, "Keep the secret key file") {
			t.Fatalf("backup under writes: got %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		checkConsistent(t, target, createdBefore)
		if l.during.Load() > during {
			overlapped++
			chosen = target
		}
	}
	l.end()
	t.Logf("%d writes by the load (%d accounts created, %d MFA resets emailed, %d sign-ins); %d finished while a backup ran; %d of %d backups had writes finish while they ran",
		l.writes.Load(), l.created.Load(), l.resets.Load(), l.signIns.Load(), l.during.Load(), overlapped, tries)
	if chosen == "" {
		t.Fatalf("no write started and finished while any of %d backups ran: this did not test a backup under writes", tries)
	}
	loaded := queryInt(t, openSQLite(t, chosen), "SELECT COUNT(*) FROM users WHERE username LIKE 'load%'")

	// A new machine: another folder, the same key file.
	fresh := filepath.Join(t.TempDir(), "restored", "mfagate.db")
	cfg2 := filepath.Join(t.TempDir(), "mfagate.yaml")
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg2, bytes.Replace(text, []byte(fmt.Sprintf("%q", dbPath(cfg))), []byte(fmt.Sprintf("%q", fresh)), 1), 0o600)
	r := run(t, "", "restore", chosen, "--config", cfg2)
	if r.code != 0 || !strings.Contains(r.stdout, "There was no database at "+fresh+" yet.") || !strings.Contains(r.stdout, "Restored "+chosen+" into "+fresh+".") {
		t.Fatalf("restore: got %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out2, _ := start(t, "serve", "--config", cfg2)
	base2 := "http://" + out2.await(t, regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`))[1]
	signInAgain(t, alice, base2)
	list := mustRun(t, "", "user", "list", "--config", cfg2)
	if n := strings.Count(list, "\nload"); n != loaded {
		t.Fatalf("the restored server lists %d load accounts, want the backup's %d", n, loaded)
	}
}

// checkConsistent checks a SQLite backup taken under the load: the file
// is private and whole, and holds each transaction whole (checkWhole).
func checkConsistent(t *testing.T, path string, createdBefore int64) {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file %s: %v; want mode 0600", path, err)
	}
	b := openSQLite(t, path)
	var check string
	if err := b.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of %s: %q %v", path, check, err)
	}
	if n := queryInt(t, b, "SELECT COUNT(*) FROM pragma_foreign_key_check"); n != 0 {
		t.Errorf("%s has %d rows referring to missing rows", filepath.Base(path), n)
	}
	checkWhole(t, b, filepath.Base(path), createdBefore)
}

// checkWhole checks a copy of the database taken under the load: it holds
// each transaction whole (an account with its role and its audit event,
// each MFA reset with its email), every account created before it began
// (load0 to load(createdBefore-1)), and alice's authenticator app.
func checkWhole(t *testing.T, b *sql.DB, name string, createdBefore int64) {
	t.Helper()
	for _, c := range []struct{ what, query string }{
		{"accounts without their role", "SELECT COUNT(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id)"},
		{"load accounts without their creation's audit event", "SELECT COUNT(*) FROM users u WHERE u.username LIKE 'load%' AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.kind = 'user.create' AND a.subject = u.username)"},
		{"creation events of load accounts that are missing", "SELECT COUNT(*) FROM audit_events a WHERE a.kind = 'user.create' AND a.subject LIKE 'load%' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.username = a.subject)"},
		{"load accounts whose MFA resets and emails disagree", `SELECT COUNT(*) FROM users u WHERE u.username LIKE 'load%' AND
			(SELECT COUNT(*) FROM audit_events a WHERE a.kind = 'mfa.reset' AND a.subject = u.username) !=
			(SELECT COUNT(*) FROM mail_outbox m WHERE m.to_addr = u.email)`},
	} {
		if n := queryInt(t, b, c.query); n != 0 {
			t.Errorf("%s has %d %s", name, n, c.what)
		}
	}
	if n := queryInt(t, b, "SELECT COUNT(*) FROM audit_events WHERE kind = 'mfa.reset'"); n == 0 {
		t.Errorf("%s has no MFA reset: its emails were not checked", name)
	}
	rows, err := b.Query("SELECT username FROM users WHERE username LIKE 'load%'")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names[n] = true
	}
	rows.Close()
	var have int64
	for i := range createdBefore {
		if names[fmt.Sprintf("load%d", i)] {
			have++
		}
	}
	if have != createdBefore {
		t.Errorf("%s has %d of the %d accounts created before it began", name, have, createdBefore)
	}
	if n := queryInt(t, b, "SELECT COUNT(*) FROM factors f JOIN users u ON u.id = f.user_id WHERE u.username = 'alice' AND f.method = 'totp'"); n != 1 {
		t.Errorf("alice has %d authenticator apps in %s, want 1", n, name)
	}
}

// dirNames lists a folder's entries.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// writeSQLite makes a SQLite file with the statements run in it.
func writeSQLite(tb testing.TB, path string, stmts ...string) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// TestRestoreRefuses: a restore that cannot be done safely says why in one
// sentence and changes nothing: not the database, nor its folder.
func TestRestoreRefuses(t *testing.T) {
	cfg := install(t, "")
	mustRun(t, forwardAuthPass+"\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	mustRun(t, "", "backup", good, "--config", cfg)

	junk := filepath.Join(dir, "notes.txt")
	os.WriteFile(junk, []byte(strings.Repeat("not a database at all\n", 200)), 0o600)
	damaged := filepath.Join(dir, "damaged.db")
	copyFile(t, good, damaged)
	f, _ := os.OpenFile(damaged, os.O_RDWR, 0)
	f.WriteAt(bytes.Repeat([]byte{0xAB}, 8192), 4096) // pages 2 and 3
	f.Close()
	other := filepath.Join(dir, "other.db")
	writeSQLite(t, other, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('hello')")
	newer := filepath.Join(dir, "newer.db")
	copyFile(t, good, newer)
	writeSQLite(t, newer, "INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_future.sql', 0)")

	db := dbPath(cfg)
	_, errOut := start(t, "serve", "--config", cfg)
	errOut.await(t, regexp.MustCompile(`mfagate is listening`))
	before, _ := os.Stat(db)
	names := dirNames(t, filepath.Dir(db))

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"server running", []string{good}, 1, "a server is using " + db + "; stop it first"},
		{"not SQLite", []string{junk}, 1, "the file " + junk + " is not an SQLite database"},
		{"damaged", []string{damaged}, 1, "the backup " + damaged + " is damaged"},
		{"not mfagate's", []string{other}, 1, "is an SQLite database but not an mfagate one"},
		{"newer schema", []string{newer}, 1, "comes from a newer mfagate: its database has migration 9999_future.sql, which this version does not know"},
		{"missing", []string{filepath.Join(dir, "nope.db")}, 1, "does not exist"},
		{"the database itself", []string{db}, 1, "is the database itself"},
		{"no backup named", nil, 2, "give exactly one backup file"},
		{"two backups", []string{good, newer}, 2, "give exactly one backup file"},
		{"empty name", []string{""}, 2, "give exactly one backup file"},
		{"config and data", []string{good, "--data", dir}, 2, "give --config or --data, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append(append([]string{"restore"}, tt.args...), "--config", cfg)...)
			if r.code != tt.code || !containsFold(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("got %d %q, want %d with %q on one line", r.code, r.stderr, tt.code, tt.want)
			}
			if after, err := os.Stat(db); err != nil || !os.SameFile(before, after) {
				t.Fatalf("the database was replaced: %v", err)
			}
			if got := dirNames(t, filepath.Dir(db)); !slices.Equal(got, names) {
				t.Fatalf("the database folder changed: got %v, want %v", got, names)
			}
		})
	}
}

// TestRestoreReplacesAStoppedDatabase: with no server running, restore
// puts the backup in place and keeps the database it replaced.
func TestRestoreReplacesAStoppedDatabase(t *testing.T) {
	cfg := install(t, "")
	add := func(name string) {
		mustRun(t, forwardAuthPass+"\n", "user", "add", name, "--email", name+"@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	}
	add("alice")
	backup := filepath.Join(t.TempDir(), "before-bob.db")
	mustRun(t, "", "backup", backup, "--config", cfg)
	add("bob")

	out := mustRun(t, "", "restore", backup, "--config", cfg)
	kept := regexp.MustCompile(`(?m)^Kept the database it replaces as (\S+)\.$`).FindStringSubmatch(out)
	if kept == nil || !strings.HasPrefix(kept[1], dbPath(cfg)+".before-restore-") || !strings.Contains(out, "Restored "+backup+" into "+dbPath(cfg)+".") {
		t.Fatalf("restore said:\n%s", out)
	}
	list := mustRun(t, "", "user", "list", "--config", cfg)
	if !strings.Contains(list, "alice") || strings.Contains(list, "bob") {
		t.Fatalf("after the restore, want alice without bob:\n%s", list)
	}
	if n := queryInt(t, openSQLite(t, kept[1]), "SELECT COUNT(*) FROM users WHERE username = 'bob'"); n != 1 {
		t.Fatalf("the kept database has %d bob, want 1", n)
	}
	if fi, _ := os.Stat(dbPath(cfg)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("the restored database has mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestBackupRefuses: a backup never replaces a file, needs a database to
// copy, and sends PostgreSQL to pg_dump; refusing leaves nothing behind.
func TestBackupRefuses(t *testing.T) {
	cfg := install(t, "")
	dir := t.TempDir()
	if r := run(t, "", "backup", filepath.Join(dir, "b.db"), "--config", cfg); r.code != 1 || !containsFold(r.stderr, "does not exist, so there is nothing to back up") {
		t.Fatalf("before any database: got %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(dbPath(cfg)); !os.IsNotExist(err) {
		t.Fatal("a refused backup created the database")
	}
	mustRun(t, forwardAuthPass+"\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--password-stdin", "--config", cfg)
	existing := filepath.Join(dir, "precious.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)

	text, _ := os.ReadFile(cfg)
	pg := filepath.Join(filepath.Dir(cfg), "pg.yaml")
	os.WriteFile(pg, bytes.Replace(bytes.Replace(text, []byte("driver: sqlite"), []byte("driver: postgres"), 1),
		[]byte(fmt.Sprintf("%q", dbPath(cfg))), []byte(`"postgres://mfagate@127.0.0.1:1/mfagate?sslmode=disable"`), 1), 0o600)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing file", []string{"backup", existing, "--config", cfg}, 1, "the file " + existing + " already exists; a backup never replaces a file"},
		{"missing folder", []string{"backup", filepath.Join(dir, "nope", "b.db"), "--config", cfg}, 1, "does not exist; create it first"},
		{"no file named", []string{"backup", "--config", cfg}, 2, "give exactly one file to write"},
		{"two files", []string{"backup", "a.db", "b.db", "--config", cfg}, 2, "give exactly one file to write"},
		{"empty name", []string{"backup", "", "--config", cfg}, 2, "give exactly one file to write"},
		{"a folder", []string{"backup", dir, "--config", cfg}, 1, dir + " is a folder; give the name of the backup file to write in it, as in " + dir + "/mfagate-"},
		{"postgres backup", []string{"backup", filepath.Join(dir, "pg.dump"), "--config", pg}, 1, "back up PostgreSQL with pg_dump, as docs/operations.md#backups describes"},
		{"postgres restore", []string{"restore", existing, "--config", pg}, 1, "restore PostgreSQL with pg_restore, as docs/operations.md#backups describes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code || !containsFold(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("got %d %q, want %d with %q on one line", r.code, r.stderr, tt.code, tt.want)
			}
			if got := dirNames(t, dir); !slices.Equal(got, []string{"precious.db"}) {
				t.Fatalf("the folder holds %v, want only precious.db", got)
			}
			if b, _ := os.ReadFile(existing); string(b) != "keep me" {
				t.Fatalf("the existing file now holds %q", b)
			}
		})
	}
}

// TestBackupAndRestoreTheDemo: --data reaches the demo's database, as the
// user commands do.
func TestBackupAndRestoreTheDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	out := newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", data}, func(string) string { return "" }, strings.NewReader(""), out, io.Discard)
	}()
	out.await(t, regexp.MustCompile(`/dev/outbox`))
	backup := filepath.Join(t.TempDir(), "demo.db")
	if got := mustRun(t, "", "backup", backup, "--data", data); !strings.Contains(got, ", 3 accounts, ") || !strings.Contains(got, filepath.Join(data, "secret.key")) {
		t.Fatalf("backup of the demo said:\n%s", got)
	}
	if r := run(t, "", "restore", backup, "--data", data); r.code != 1 || !containsFold(r.stderr, "a server is using") {
		t.Fatalf("restore under the running demo: got %d %q", r.code, r.stderr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exited with %d", code)
	}
	if got := mustRun(t, "", "restore", backup, "--data", data); !strings.Contains(got, "Kept the database it replaces as ") {
		t.Fatalf("restore of the demo said:\n%s", got)
	}
}
