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

	"go.yaml.in/yaml/v3"

	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/totp"
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
	appendConfig(t, cfg, `rollout:
  phases:
    - name: "Everyone"
      starts: 2020-01-01
      audience: [all]
      requirement: required
      methods: [totp]
      default_method: totp
`)
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
		body, s = text, samples(t, text)
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

// dashboardQueries reads a Grafana dashboard: each panel's queries and
// each template variable's, by where they are.
func dashboardQueries(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID, Title string
		Panels     []dashboardPanel
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query any
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: want a uid, a title and panels", path)
	}
	out := map[string]string{}
	var walk func(ps []dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", path, p.Title)
			}
			for _, q := range p.Targets {
				out[fmt.Sprintf("panel %q query %s", p.Title, q.RefID)] = q.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		out["variable "+v.Name] = q
	}
	return out
}

type dashboardPanel struct {
	Title, Type string
	Targets     []struct {
		RefID string `json:"refId"`
		Expr  string
	}
	Panels []dashboardPanel // a collapsed row's
}

// alertRule is one rule of a Prometheus rules file.
type alertRule struct {
	Alert, Expr, For    string
	Labels, Annotations map[string]string
}

func alertRules(t *testing.T, path string) []alertRule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// firingInTests lists the alerts a promtool test file expects to fire at
// least once.
func firingInTests(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]bool{}
	for _, tg := range f.Tests {
		for _, a := range tg.AlertRuleTest {
			out[a.Alertname] = out[a.Alertname] || len(a.ExpAlerts) > 0
		}
	}
	return out
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	labelValues  = regexp.MustCompile(`^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)`)
	promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
		"and", "or", "unless", "inf", "nan", "e"}
)

// metricNames returns the metric names a PromQL expression (or Grafana's
// label_values) reads: what is left of it once strings, label matchers,
// ranges, grouping clauses, function names, keywords and numbers are
// taken out.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	if strings.HasPrefix(expr, "label_values(") {
		m := labelValues.FindStringSubmatch(expr)
		if m == nil {
			t.Errorf("cannot read the metric of %q", expr)
			return nil
		}
		return []string{m[1]}
	}
	rest := promString.ReplaceAllString(expr, `""`)
	rest = promMatchers.ReplaceAllString(rest, " ")
	rest = promRange.ReplaceAllString(rest, " ")
	rest = promGrouping.ReplaceAllString(rest, " ")
	var names []string
	for _, m := range promIdent.FindAllStringIndex(rest, -1) {
		tok := rest[m[0]:m[1]]
		if strings.HasSuffix(tok, "(") || (m[0] > 0 && (rest[m[0]-1] >= '0' && rest[m[0]-1] <= '9' || rest[m[0]-1] == '.')) {
			continue // a function or aggregation, or the exponent of a number
		}
		tok = strings.TrimSpace(tok)
		if slices.Contains(promKeywords, strings.ToLower(tok)) {
			continue
		}
		names = append(names, tok)
	}
	if len(names) == 0 {
		t.Errorf("no metric found in %q", expr)
	}
	return names
}
