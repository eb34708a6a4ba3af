package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// minimal holds the sections without which no file is valid.
var minimal = map[string]string{
	"database": "database:\n  driver: sqlite\n  dsn: /tmp/mfagate.db\n",
	"secrets":  "secrets:\n  key_file: /tmp/secret.key\n",
	"mail":     "mail:\n  from: signin@example.com\n  driver: outbox\n",
}

var topKey = regexp.MustCompile(`(?m)^([a-z_]+):`)

// withMinimal returns src followed by each minimal section src lacks, so
// that line numbers inside src stay what they look like.
func withMinimal(src string) string {
	have := make(map[string]bool)
	for _, m := range topKey.FindAllStringSubmatch(src, -1) {
		have[m[1]] = true
	}
	out := src
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	for _, k := range []string{"database", "secrets", "mail"} {
		if !have[k] {
			out += minimal[k]
		}
	}
	return out
}

// lineOf returns the 1-based line of the first line of doc containing s.
func lineOf(tb testing.TB, doc, s string) int {
	tb.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	tb.Fatalf("marker %q not in document:\n%s", s, doc)
	return 0
}

func mustParse(tb testing.TB, src string, env map[string]string) *Config {
	tb.Helper()
	cfg, err := Parse([]byte(src), mapEnv(env))
	if err != nil {
		tb.Fatalf("Parse: %v\n%s", err, src)
	}
	return cfg
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, withMinimal(""), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"server.addr", cfg.Server.Addr, "127.0.0.1:8080"},
		{"server.base_url", cfg.Server.BaseURL, ""},
		{"server.dev_insecure_cookies", cfg.Server.DevInsecureCookies, false},
		{"server.session_idle_timeout", cfg.Server.SessionIdleTimeout, 30 * time.Minute},
		{"server.session_max_age", cfg.Server.SessionMaxAge, 12 * time.Hour},
		{"server.shutdown_delay", cfg.Server.ShutdownDelay, 5 * time.Second},
		{"server.session_cache_size", cfg.Server.SessionCacheSize, 100_000},
		{"mail.smtp.port", cfg.Mail.SMTP.Port, 587},
		{"mail.smtp.tls", cfg.Mail.SMTP.TLS, "starttls"},
		{"mail.from parsed", cfg.Mail.FromAddress.Address, "signin@example.com"},
		{"mfa.issuer", cfg.MFA.Issuer, "mfagate"},
		{"mfa.email.code_ttl", cfg.MFA.Email.CodeTTL, 10 * time.Minute},
		{"mfa.email.max_attempts", cfg.MFA.Email.MaxAttempts, 5},
		{"mfa.email.resend_cooldown", cfg.MFA.Email.ResendCooldown, 30 * time.Second},
		{"mfa.email.hourly_cap", cfg.MFA.Email.HourlyCap, 10},
		{"mfa.totp.skew_steps", cfg.MFA.TOTP.SkewSteps, 1},
		{"mfa.recovery_codes.count", cfg.MFA.RecoveryCodes.Count, 10},
		{"mfa.checkup", cfg.MFA.Checkup, 28 * 24 * time.Hour},
		{"rollout.timezone", cfg.Rollout.Timezone, "UTC"},
		{"rollout.location", cfg.Rollout.Location, time.UTC},
		{"warnings", len(cfg.Warnings), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// TestShutdownDelayZero keeps "shutdown_delay: 0s" meaning no delay
// rather than the default: a server with no balancer in front of it
// need not wait.
func TestShutdownDelayZero(t *testing.T) {
	cfg := mustParse(t, withMinimal("server:\n  shutdown_delay: 0s\n"), nil)
	if cfg.Server.ShutdownDelay != 0 {
		t.Fatalf("got %v, want 0", cfg.Server.ShutdownDelay)
	}
	cfg = mustParse(t, withMinimal(""), map[string]string{"MFAGATE_SERVER_SHUTDOWN_DELAY": "0s"})
	if cfg.Server.ShutdownDelay != 0 {
		t.Fatalf("from the environment: got %v, want 0", cfg.Server.ShutdownDelay)
	}
}

// TestCheckupZero keeps "checkup: 0" meaning no check-up rather than
// the default.
func TestCheckupZero(t *testing.T) {
	cfg := mustParse(t, withMinimal("mfa:\n  checkup: 0s\n"), nil)
	if cfg.MFA.Checkup != 0 {
		t.Fatalf("got %v, want 0", cfg.MFA.Checkup)
	}
	cfg = mustParse(t, withMinimal(""), map[string]string{"MFAGATE_MFA_CHECKUP": "14d"})
	if cfg.MFA.Checkup != 14*24*time.Hour {
		t.Fatalf("from the environment: got %v, want 14d", cfg.MFA.Checkup)
	}
}

// TestDatabaseDefaults checks the pool and deadline defaults of each
// driver, and that a smaller pool takes the idle connections down with it.
func TestDatabaseDefaults(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Database
	}{
		{"sqlite", "", Database{Driver: "sqlite", DSN: "/tmp/mfagate.db",
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 8, MaxIdleConns: 8,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"postgres", "database:\n  driver: postgres\n  dsn: x\n", Database{Driver: "postgres", DSN: "x",
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 20, MaxIdleConns: 20,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"smaller pool", "database:\n  driver: postgres\n  dsn: x\n  max_open_conns: 6\n", Database{Driver: "postgres", DSN: "x",
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 6, MaxIdleConns: 6,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"zero and empty mean the default", "database:\n  driver: postgres\n  dsn: x\n  max_open_conns: 0\n  request_timeout:\n", Database{Driver: "postgres", DSN: "x",
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 20, MaxIdleConns: 20,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, withMinimal(tt.src), nil).Database; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExplicitZeroAndNullKeepMeaning(t *testing.T) {
	// skew_steps 0 is a choice, not "unset"; an empty key keeps the default.
	cfg := mustParse(t, withMinimal("mfa:\n  totp:\n    skew_steps: 0\n  issuer:\n"), nil)
	if got := cfg.MFA.TOTP.SkewSteps; got != 0 {
		t.Errorf("skew_steps: got %v, want %v", got, 0)
	}
	if got := cfg.MFA.Issuer; got != "mfagate" {
		t.Errorf("issuer: got %v, want %v", got, "mfagate")
	}
}

func TestParsedForms(t *testing.T) {
	src := withMinimal(`server:
  base_url: https://login.example.com/auth
  cookie_domain: .Example.com
  trusted_proxies: [127.0.0.1, "10.1.2.3/8", "::1", "::ffff:192.0.2.1"]
rollout:
  timezone: Europe/London
  phases:
    - name: one
      starts: 2027-07-13
      audience: [admin]
      requirement: required
      methods: [email]
      reminders: [7d, 12h, 90m]
    - name: two
      starts: 2027-07-31T09:30:00+02:00
      audience: [all]
      requirement: notify
`)
	cfg := mustParse(t, src, nil)
	london, _ := time.LoadLocation("Europe/London")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"base url host", cfg.Server.ParsedBaseURL.Host, "login.example.com"},
		{"base url path", cfg.Server.ParsedBaseURL.Path, "/auth"},
		{"proxies", cfg.Server.TrustedProxyPrefixes, []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("::1/128"),
			netip.MustParsePrefix("192.0.2.1/32"),
		}},
		{"location", cfg.Rollout.Location.String(), "Europe/London"},
		{"date start is midnight local", cfg.Rollout.Phases[0].Start, time.Date(2027, 7, 13, 0, 0, 0, 0, london)},
		{"date start in UTC", cfg.Rollout.Phases[0].Start.UTC().Format(time.RFC3339), "2027-07-12T23:00:00Z"},
		{"rfc3339 start", cfg.Rollout.Phases[1].Start.UTC().Format(time.RFC3339), "2027-07-31T07:30:00Z"},
		{"reminders", cfg.Rollout.Phases[0].ReminderOffsets, []time.Duration{7 * 24 * time.Hour, 12 * time.Hour, 90 * time.Minute}},
		{"no notice", cfg.Rollout.Phases[0].Notice, (*Notice)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestExampleFile(t *testing.T) {
	cfg, err := Load("../examples/mfagate.yaml", nil)
	if err != nil {
		t.Fatalf("got %v, want no error", err)
	}
	if err := cfg.CheckServe(); err != nil {
		t.Errorf("CheckServe: got %v, want nil", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: got %v, want none", cfg.Warnings)
	}
	var names []string
	for _, p := range cfg.Rollout.Phases {
		names = append(names, p.Name+" "+p.Start.Format(time.DateOnly)+" "+p.Requirement)
	}
	want := []string{
		"Communication 2027-05-26 notify",
		"Optional enrollment 2027-06-11 optional",
		"Email verification required 2027-07-13 required",
		"Full enforcement 2027-07-31 required",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("phases: got %v, want %v", names, want)
	}
	if got := cfg.Rollout.Location.String(); got != "Europe/London" {
		t.Errorf("timezone: got %v, want %v", got, "Europe/London")
	}
}

// TestExampleUsesEveryKey keeps examples/mfagate.yaml complete: every key
// that has an environment variable, and the phase and account keys, must
// appear in it.
func TestExampleUsesEveryKey(t *testing.T) {
	data, err := os.ReadFile("../examples/mfagate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"phases", "notice", "subject", "body", "default_method", "reminders",
		"bootstrap", "username", "roles", "password_file", "forward_auth", "rules", "host", "path"}
	for _, v := range EnvVars() {
		keys = append(keys, v.Key[strings.LastIndex(v.Key, ".")+1:])
	}
	for _, k := range keys {
		if !regexp.MustCompile(`(?m)^\s*(- )?` + k + `:`).Match(data) {
			t.Errorf("examples/mfagate.yaml: got no %q key, want every key used", k)
		}
	}
}

// TestDocsDescribeEveryKey keeps docs/configuration.md in step with the
// keys: each variable and each key path must be mentioned.
func TestDocsDescribeEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, v := range EnvVars() {
		for _, s := range []string{v.Name, "`" + v.Key + "`"} {
			if !strings.Contains(doc, s) {
				t.Errorf("docs/configuration.md: got no mention of %s, want one", s)
			}
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "read config: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a read config error wrapping os.ErrNotExist", err)
	}
}

func TestErrorJoinsProblemsOnOneLine(t *testing.T) {
	_, err := Parse([]byte("database:\n  driver: mysql\n"), nil)
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) < 3 {
		t.Fatalf("got %v, want an *Error with several problems", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q, want one line", err.Error())
	}
	want := `config line 2: database.driver "mysql" is not one of sqlite, postgres`
	if got := cerr.Problems[0].String(); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPacingKeys(t *testing.T) {
	src := withMinimal(`rollout:
  timezone: Europe/London
  phases:
    - name: offered
      starts: 2027-06-11
      audience: [admin]
      requirement: optional
      methods: [email, totp]
      max_skips: 3
      reprompt_after: 1d
      then: required
    - name: required
      starts: 2027-07-13
      audience: [all]
      requirement: required
      methods: [email, totp]
      grace: 14d
      grace_until: 2027-08-31
`)
	cfg := mustParse(t, src, nil)
	r, err := cfg.Plan()
	if err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	offered, required := r.Phases[0], r.Phases[1]
	if offered.MaxSkips != 3 || offered.RepromptAfter != 24*time.Hour || offered.Then != rollout.Required {
		t.Errorf("offered: got max_skips %d, reprompt_after %v, then %v", offered.MaxSkips, offered.RepromptAfter, offered.Then)
	}
	// grace_until is a day: windows end when it does, at the next midnight.
	if required.Grace != 14*24*time.Hour || !required.GraceUntil.Equal(time.Date(2027, 9, 1, 0, 0, 0, 0, london)) {
		t.Errorf("required: got grace %v until %v", required.Grace, required.GraceUntil)
	}

	retiring := withMinimal(`rollout:
  timezone: UTC
  phases:
    - {name: apps, starts: 2027-10-01, audience: [admin], requirement: required, retire: [email]}
`)
	if r, err := mustParse(t, retiring, nil).Plan(); err != nil || !slices.Equal(r.Phases[0].Methods, []string{"totp"}) || !slices.Equal(r.Phases[0].Retire, []string{"email"}) {
		t.Errorf("retire: [email] with no methods: got %+v, %v; want methods [totp]", r, err)
	}
	everything := withMinimal(`rollout:
  timezone: UTC
  phases:
    - {name: none, starts: 2027-10-01, audience: [admin], requirement: required, retire: [email, totp]}
`)
	if _, err := mustParse(t, everything, nil).Plan(); err == nil || !strings.Contains(err.Error(), "retire leaves no method") {
		t.Errorf("retiring every method: got %v, want it refused", err)
	}

	for _, tt := range []struct{ key, value, want string }{
		{"retire", "[sms]", `retire names "sms", which is not one of email, totp`},
		{"grace", "two weeks", `grace "two weeks" is not a length of time such as 14d`},
		{"grace", "0d", `grace "0d" is not a length of time such as 14d`},
		{"grace_until", "31 August", `grace_until "31 August" is not a date such as 2027-08-31`},
		{"reprompt_after", "-1d", `reprompt_after "-1d" is not a length of time such as 1d`},
		{"then", "optional", `then "optional" is not required`},
		{"max_skips", "-2", `max_skips -2 is negative`},
	} {
		bad := withMinimal("rollout:\n  timezone: UTC\n  phases:\n    - name: p\n      starts: 2027-06-11\n      audience: [all]\n      requirement: optional\n      methods: [email]\n      " + tt.key + ": " + tt.value + "\n")
		if _, err := Parse([]byte(bad), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %s: got %v, want %q", tt.key, tt.value, err, tt.want)
		}
	}
}
