package cli_test

import (
	"crypto/tls"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/mail/mailtest"
)

// Sizes of the three-replica test.
const (
	haPeople   = 400   // the campaign's audience, besides the accounts below
	haWorkers  = 8     // load workers
	haSenders  = 4 + 2 // SMTP senders per replica: mail.connections + the two for security mail
	haPassword = "plum orchard lantern"
	haNotice   = "Signing in now takes a code from your phone"
)

// haSite is examples/ha running: the replicas, HAProxy in front of them
// at base, their database and the SMTP server they send to.
type haSite struct {
	base     string
	tls      *tls.Config // trusts HAProxy's certificate
	db       *sql.DB
	smtp     *mailtest.Server
	replicas []*replica
	hap      *haproxy

	targets  []string      // the campaign's audience, whom staff look up and sign out
	signIns  []credentials // one account per load worker
	everyone int           // every account, all in the campaign's audience

	// firstStart and started bound when the three replicas first started.
	firstStart, started time.Time
}

// newHASite installs mfagate as examples/ha/README.md says, with the
// people of the test, starts the three replicas and HAProxy, and returns
// once HAProxy reports all three UP.
func newHASite(t *testing.T, haBin, dsn string) *haSite {
	t.Helper()
	s := &haSite{smtp: mailtest.NewServer(t, mailtest.Auth("mfagate@example.com", "smtp secret"))}
	bin := buildMfagate(t)
	dir := t.TempDir()
	front := freePort(t)
	s.base = fmt.Sprintf("https://127.0.0.1:%d", front)
	key := filepath.Join(dir, "secret.key")
	runWith(t, nil, "", "keygen", key)

	// The shared configuration, and what the operator sets around it.
	example, err := os.ReadFile(filepath.Join("..", "examples", "ha", "mfagate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "mfagate.yaml")
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	rolloutYAML := fmt.Sprintf(`rollout:
  phases:
    - name: "Everyone"
      starts: %s
      audience: [all]
      requirement: required
      methods: [totp]
      default_method: totp
      notice:
        subject: %q
        body: "From today, signing in asks for a code from an authenticator app as well as your password."
`, yesterday, haNotice)
	if err := os.WriteFile(cfg, append(example, rolloutYAML...), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MFAGATE_SERVER_BASE_URL":    s.base,
		"MFAGATE_DATABASE_DSN":       dsn,
		"MFAGATE_SECRETS_KEY_FILE":   key,
		"MFAGATE_MAIL_SMTP_HOST":     s.smtp.Host(),
		"MFAGATE_MAIL_SMTP_PORT":     fmt.Sprint(s.smtp.Port()),
		"MFAGATE_MAIL_SMTP_TLS":      "none",
		"MFAGATE_MAIL_SMTP_PASSWORD": "smtp secret",
	}
	s.db, err = sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })

	// The people: a campaign audience, a person and a staff member who
	// sign in with TOTP, and one account per load worker for sign-ins.
	var csvText strings.Builder
	csvText.WriteString("username,email,name,roles\n")
	for i := range haPeople {
		u := fmt.Sprintf("person%03d", i)
		s.targets = append(s.targets, u)
		fmt.Fprintf(&csvText, "%s,%s@example.com,Person %d,user\n", u, u, i)
	}
	people := filepath.Join(dir, "people.csv")
	os.WriteFile(people, []byte(csvText.String()), 0o600)
	runWith(t, env, "", "user", "import", people, "--config", cfg)
	addUser := func(name, roles string) {
		runWith(t, env, haPassword+"\n", "user", "add", name, "--email", name+"@example.com", "--name", name,
			"--roles", roles, "--password-stdin", "--config", cfg)
	}
	addUser("alice", "user")
	addUser("sam", "operator,support")
	for w := range haWorkers {
		name := fmt.Sprintf("load%d", w)
		addUser(name, "user")
		s.signIns = append(s.signIns, credentials{name, haPassword})
	}
	s.everyone = haPeople + 2 + haWorkers

	// Three replicas, then the balancer.
	for i := range 3 {
		r := &replica{name: fmt.Sprintf("mfagate%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			metrics: fmt.Sprintf("127.0.0.1:%d", freePort(t)), bin: bin, cfg: cfg, env: map[string]string{}, out: newLines()}
		for k, v := range env {
			r.env[k] = v
		}
		r.env["MFAGATE_SERVER_ADDR"] = r.addr
		r.env["MFAGATE_SERVER_METRICS_ADDR"] = r.metrics
		s.replicas = append(s.replicas, r)
	}
	stopAll(t, s.replicas)
	s.firstStart = time.Now()
	for _, r := range s.replicas {
		r.start(t)
	}
	s.started = time.Now()
	pem, clientTLS := tlsFile(t, dir)
	s.tls = clientTLS
	userName, groupName := currentUser(t)
	s.hap = startHAProxy(t, haBin, map[string]string{
		"MFAGATE_HA_USER":         userName,
		"MFAGATE_HA_GROUP":        groupName,
		"MFAGATE_HA_BIND":         fmt.Sprintf("127.0.0.1:%d", front),
		"MFAGATE_HA_CERT":         pem,
		"MFAGATE_HA_REPLICA1":     s.replicas[0].addr,
		"MFAGATE_HA_REPLICA2":     s.replicas[1].addr,
		"MFAGATE_HA_REPLICA3":     s.replicas[2].addr,
		"MFAGATE_HA_STATS_SOCKET": filepath.Join(dir, "haproxy.sock"),
	}, front)
	for _, r := range s.replicas {
		s.hap.waitStatus(t, r.name, "UP", 20*time.Second)
	}
	return s
}

// browser returns a new browser that trusts HAProxy's certificate.
func (s *haSite) browser(t *testing.T) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, secrets: map[string][]byte{},
		c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tls.Clone()}}}
}

// campaignMail counts the campaign's messages in the outbox with status.
func (s *haSite) campaignMail(t *testing.T, status string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM mail_outbox WHERE campaign <> '' AND status = $1`, status).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// currentUser is the user and group the test runs as, for HAProxy to
// keep running as.
func currentUser(t *testing.T) (name, group string) {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatalf("the test's group %s: %v", u.Gid, err)
	}
	return u.Username, g.Name
}

// sessionCookie returns the Cookie header of v's session at base.
func sessionCookie(t *testing.T, v *visitor, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, c := range v.c.Jar.Cookies(u) {
		if strings.Contains(c.Name, "mfagate_session") {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie for %s", base)
	return ""
}

// mailFigures are what checkMail counted.
type mailFigures struct {
	queued, received, duplicates int
	reached                      int // people the campaign reached
}

// checkMail waits until the outbox has sent everything, then checks it
// against what the SMTP server received: every message arrived, copies
// only within one per sender of the one killed replica and with the same
// Message-ID (by which they are counted), and the campaign reached every
// person exactly once.
func (s *haSite) checkMail(t *testing.T) mailFigures {
	t.Helper()
	waitFor(t, 90*time.Second, "every queued email to be sent", func() bool {
		var n int
		s.db.QueryRow(`SELECT count(*) FROM mail_outbox WHERE status <> 'sent'`).Scan(&n)
		return n == 0
	})
	rows, err := s.db.Query(`SELECT id, created_at, to_addr, subject, campaign FROM mail_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	type queued struct{ to, subject, campaign string }
	outbox := map[string]queued{} // by Message-ID
	for rows.Next() {
		var id, created int64
		var q queued
		if err := rows.Scan(&id, &created, &q.to, &q.subject, &q.campaign); err != nil {
			t.Fatal(err)
		}
		outbox[mail.MessageID(&mfagate.Message{ID: id, CreatedAt: time.UnixMilli(created)}, "example.com")] = q
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	msgs := s.smtp.Messages()
	received := map[string]int{}
	for _, m := range msgs {
		id := m.MessageID()
		q, ok := outbox[id]
		switch {
		case !ok:
			t.Errorf("the SMTP server got %q to %v, Message-ID %q, which is not in the outbox", m.Subject, m.To, id)
		case len(m.To) != 1 || m.To[0] != q.to || m.Subject != q.subject:
			t.Errorf("Message-ID %q arrived as %q to %v, but was queued as %q to %s", id, m.Subject, m.To, q.subject, q.to)
		}
		received[id]++
	}
	f := mailFigures{queued: len(outbox), received: len(msgs)}
	campaignTo := map[string]int{}
	for id, q := range outbox {
		if received[id] == 0 {
			t.Errorf("lost: %q to %s (Message-ID %s) is marked sent but never reached the SMTP server", q.subject, q.to, id)
		}
		f.duplicates += max(received[id]-1, 0)
		if q.campaign != "" {
			campaignTo[q.to]++
			if q.subject != haNotice {
				t.Errorf("campaign email to %s: got subject %q, want %q", q.to, q.subject, haNotice)
			}
		}
	}
	if f.duplicates > haSenders {
		t.Errorf("%d emails arrived twice, more than one per sender of the killed replica (%d)", f.duplicates, haSenders)
	}
	f.reached = len(campaignTo)
	if f.reached != s.everyone {
		t.Errorf("the campaign reached %d people, want all %d", f.reached, s.everyone)
	}
	for to, n := range campaignTo {
		if n != 1 {
			t.Errorf("the campaign queued %d emails to %s, want 1", n, to)
		}
	}
	var marked int
	if err := s.db.QueryRow(`SELECT count(*) FROM campaign_sends`).Scan(&marked); err != nil || marked != s.everyone {
		t.Errorf("campaign_sends holds %d people (%v), want %d", marked, err, s.everyone)
	}
	return f
}

// checkJobs checks that the scheduled jobs ran once per turn across the
// seven starts of a replica, each of which asks for every job's turn:
// the retention job (every 5 minutes) ran once, at the first start, so
// its next turn is 4.5 minutes after that.
func (s *haSite) checkJobs(t *testing.T) {
	t.Helper()
	var next int64
	if err := s.db.QueryRow(`SELECT next_run_at FROM jobs WHERE name = 'retention'`).Scan(&next); err != nil {
		t.Fatalf("the retention job's turn: %v", err)
	}
	turn := time.UnixMilli(next).Add(-(5*time.Minute - 30*time.Second))
	if turn.Before(s.firstStart.Add(-time.Second)) || turn.After(s.started.Add(time.Second)) {
		t.Errorf("the retention job last ran at %s, want once, at the first start (%s to %s)",
			turn.Format("15:04:05.000"), s.firstStart.Format("15:04:05.000"), s.started.Format("15:04:05.000"))
	}
}
