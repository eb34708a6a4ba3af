package cli_test

// The Grafana dashboard and the Prometheus alerts in examples/ name
// metrics; a name that the server does not export draws an empty panel or
// an alert that never fires, silently. This test runs a real server, uses
// it so that the metrics have samples, and checks every name against its
// /metrics; then promtool checks the files and runs the alerts' unit
// tests.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/totp"
	"github.com/mfagate/mfagate/web/webtest"
)

// outsideMetrics are the names the files may use that mfagate does not
// export: Prometheus' own.
var outsideMetrics = []string{"up"}

// wantedMetrics are what the dashboard and the alerts together must show:
// the operator's questions of docs/operations.md.
var wantedMetrics = []string{
	"mfagate_signins_total", "mfagate_mfa_failures_total", "mfagate_locks_total",
	"mfagate_enrollments_total", "mfagate_forced_enrollments_total",
	"mfagate_mail_queue_messages", "mfagate_mail_queue_oldest_age_seconds", "mfagate_mail_failures_total",
	"mfagate_forward_auth_decisions_total", "mfagate_forward_auth_duration_seconds_bucket",
	"mfagate_db_request_duration_seconds_bucket", "mfagate_ready", "mfagate_http_requests_total",
}

func TestDashboardAndAlertsNameRealMetrics(t *testing.T) {
	exported := exercisedServerMetrics(t)

	dashboard := dashboardQueries(t, filepath.Join("..", "examples", "grafana", "mfagate.json"))
	rules := alertRules(t, filepath.Join("..", "examples", "prometheus", "alerts.yml"))
	used := map[string][]string{} // metric name → where
	for where, expr := range dashboard {
		for _, name := range metricNames(t, expr) {
			used[name] = append(used[name], "dashboard "+where)
		}
	}
	for _, r := range rules {
		for _, name := range metricNames(t, r.Expr) {
			used[name] = append(used[name], "alert "+r.Alert)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if !exported[name] && !slices.Contains(outsideMetrics, name) {
			t.Errorf("%s is not exported by a running server, yet used by: %s", name, strings.Join(used[name], "; "))
		}
	}
	for _, name := range wantedMetrics {
		if len(used[name]) == 0 {
			t.Errorf("neither the dashboard nor the alerts use %s", name)
		}
	}
	if len(used) < len(wantedMetrics) || len(dashboard) < 15 || len(rules) < 8 {
		t.Fatalf("read %d metric names from %d dashboard queries and %d alerts: is the parsing right?", len(used), len(dashboard), len(rules))
	}
	for _, r := range rules {
		if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("alert %s: want a for:, a severity and a summary and description, got %+v", r.Alert, r)
		}
	}

	// The names are checked; promtool's part needs promtool.
	promtool := findProgram(t, "promtool", "prometheus", "promtool's check of the dashboard and alerts")
	dir := filepath.Join("..", "examples", "prometheus")
	promtoolOK(t, promtool, dir, "check", "rules", "alerts.yml")
	promtoolOK(t, promtool, dir, "check", "config", "prometheus.yml")
	out := promtoolOK(t, promtool, dir, "test", "rules", "alerts_test.yml")
	t.Logf("promtool test rules alerts_test.yml:\n%s", out)
	firing := firingInTests(t, filepath.Join(dir, "alerts_test.yml"))
	for _, r := range rules {
		if !firing[r.Alert] {
			t.Errorf("alerts_test.yml never shows %s firing", r.Alert)
		}
	}

	// The dashboard's PromQL, checked as promtool checks rules: each query
	// becomes a recording rule, with Grafana's variables given values.
	var recorded strings.Builder
	recorded.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")
	for i, where := range slices.Sorted(maps.Keys(dashboard)) {
		expr := dashboard[where]
		if strings.HasPrefix(expr, "label_values(") {
			continue // a Grafana function, not PromQL
		}
		q, _ := json.Marshal(grafana.Replace(expr))
		fmt.Fprintf(&recorded, "      - record: dashboard:query_%d\n        expr: %s\n", i, q)
	}
	rulesFile := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(rulesFile, []byte(recorded.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	promtoolOK(t, promtool, ".", "check", "rules", rulesFile)
}

// promtoolOK runs promtool in dir and fails the test unless it succeeds.
func promtoolOK(t *testing.T, promtool, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// exercisedServerMetrics starts mfagate as in production, with its
// metrics on a listener of their own, a rollout that requires an
// authenticator app and a real SMTP server; signs people in, gets a code
// wrong and a password wrong, asks forward-auth; checks that the counts
// moved by exactly that; and returns the names /metrics exports (the
// names of samples, histograms' _bucket, _sum and _count included, and
// of families).
func exercisedServerMetrics(t *testing.T) map[string]bool {
	t.Helper()
	smtp := mailtest.NewServer(t)
	cfg := install(t, fmt.Sprintf("  driver: smtp\n  smtp:\n    host: %q\n    port: %d\n    tls: none\n", smtp.Host(), smtp.Port()))
	withMetricsAddr(t, cfg, "127.0.0.1:0")
	appendConfig(t, cfg, totpForEveryone)
	for _, u := range [][2]string{{"alice", "admin,user"}, {"bob", "user"}} {
		if r := run(t, forwardAuthPass+"\n", "user", "add", u[0], "--email", u[0]+"@example.com", "--roles", u[1], "--password-stdin", "--config", cfg); r.code != 0 {
			t.Fatalf("user add %s: %s", u[0], r.stderr)
		}
	}
	out, _ := start(t, "serve", "--config", cfg)
	base := "http://" + out.await(t, listeningLine)[1]
	metricsURL := "http://" + out.await(t, metricsLine)[1] + "/metrics"
	login, _ := url.Parse(base + "/login")
	secrets := map[string][]byte{} // the authenticator secrets set up, by person
	newVisitor := func() *visitor {
		jar, _ := cookiejar.New(nil)
		return &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: secrets}
	}

	// alice and bob: the password, then the app they must set up.
	alice := newVisitor()
	if res, _ := alice.signIn(login, "alice", forwardAuthPass); res.StatusCode != 200 {
		t.Fatalf("alice signing in: got %d at %s", res.StatusCode, res.Request.URL)
	}
	newVisitor().signIn(login, "bob", forwardAuthPass)
	// alice again, with a code from her app at the challenge.
	if res, _ := newVisitor().signIn(login, "alice", forwardAuthPass); res.StatusCode != 200 {
		t.Fatalf("alice signing in again: got %d at %s", res.StatusCode, res.Request.URL)
	}
	// bob gets his code wrong; someone tries alice's password and a name
	// nobody has.
	bob := newVisitor()
	if res, _ := bob.post(base+"/login", url.Values{"username": {"bob"}, "password": {forwardAuthPass}}); res.Request.URL.Path != "/mfa/challenge" {
		t.Fatalf("bob's password: got %s, want the challenge", res.Request.URL)
	}
	bob.post(base+"/mfa/challenge", url.Values{"method": {"totp"}, "code": {wrongCode(secrets["bob"])}})
	stranger := newVisitor()
	stranger.post(base+"/login", url.Values{"username": {"alice"}, "password": {"not her password"}})
	stranger.post(base+"/login", url.Values{"username": {"nobody"}, "password": {forwardAuthPass}})
	// Forward-auth: alice is let through, the stranger is not.
	if res, _ := alice.get(base + "/auth/verify"); res.StatusCode != 200 {
		t.Fatalf("forward-auth for alice: got %d", res.StatusCode)
	}
	if res, _ := stranger.get(base + "/auth/verify"); res.StatusCode != 401 {
		t.Fatalf("forward-auth for the stranger: got %d", res.StatusCode)
	}
	// Each new app was announced by a security email.
	smtp.WaitMessages(t, 2, 15*time.Second)

	var body string
	var s map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, text := mustGet(t, http.DefaultClient, metricsURL)
		if code != 200 {
			t.Fatalf("the metrics listener: got %d", code)
		}
		body, s = text, webtest.Samples(t, text)
		// The delivery worker records a message as sent right after the
		// mail server accepts it: wait for that record.
		if s[`mfagate_mail_sent_total{priority="security"}`] >= 2 || time.Now().After(deadline) {
			break
		}
	}
	for k, want := range map[string]float64{
		`mfagate_signins_total{method="password",outcome="success"}`:        4,
		`mfagate_signins_total{method="password",outcome="wrong_password"}`: 2,
		`mfagate_signins_total{method="totp",outcome="success"}`:            1,
		`mfagate_signins_total{method="totp",outcome="wrong_code"}`:         1,
		`mfagate_mfa_failures_total{method="totp",step="challenge"}`:        1,
		`mfagate_enrollments_total{method="totp"}`:                          2,
		`mfagate_forced_enrollments_total`:                                  2,
		`mfagate_forward_auth_decisions_total{decision="allowed"}`:          1,
		`mfagate_forward_auth_decisions_total{decision="sign_in_needed"}`:   1,
		`mfagate_forward_auth_duration_seconds_count`:                       2,
		`mfagate_mail_sent_total{priority="security"}`:                      2,
		`mfagate_ready`: 1,
	} {
		if got, ok := s[k]; !ok || got != want {
			t.Errorf("%s: got %g (present: %v), want %g", k, got, ok, want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(body, "mfagate_"))
	}
	names := map[string]bool{}
	for k := range s {
		name, _, _ := strings.Cut(k, "{")
		names[name] = true
	}
	for _, m := range typeLine.FindAllStringSubmatch(body, -1) {
		names[m[1]] = true
	}
	return names
}

var typeLine = regexp.MustCompile(`(?m)^# TYPE (\S+) `)

// wrongCode is a code the app of secret does not show now, nor a step
// either side.
func wrongCode(secret []byte) string {
	step := totp.Step(time.Now())
	near := []string{totp.Code(secret, step-1), totp.Code(secret, step), totp.Code(secret, step+1), totp.Code(secret, step+2)}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444"} {
		if !slices.Contains(near, c) {
			return c
		}
	}
	panic("no wrong code")
}
