package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	src := withMinimal("server:\n  trusted_proxies: [192.0.2.1]\nmail:\n  from: a@example.com\n  driver: smtp\n  smtp:\n    host: mx\n")
	tests := []struct {
		name string
		env  map[string]string
		got  func(*Config) any
		want any
	}{
		{"string", map[string]string{"MFAGATE_DATABASE_DSN": "/srv/x.db"}, func(c *Config) any { return c.Database.DSN }, "/srv/x.db"},
		{"nested string", map[string]string{"MFAGATE_MAIL_SMTP_PASSWORD": "s3cret", "MFAGATE_MAIL_SMTP_USERNAME": "me"}, func(c *Config) any { return c.Mail.SMTP.Password }, "s3cret"},
		{"int", map[string]string{"MFAGATE_MAIL_SMTP_PORT": " 465 "}, func(c *Config) any { return c.Mail.SMTP.Port }, 465},
		{"int zero", map[string]string{"MFAGATE_MFA_TOTP_SKEW_STEPS": "0"}, func(c *Config) any { return c.MFA.TOTP.SkewSteps }, 0},
		{"bool", map[string]string{"MFAGATE_SERVER_BASE_URL": "http://127.0.0.1:9000", "MFAGATE_SERVER_DEV_INSECURE_COOKIES": "TRUE"}, func(c *Config) any { return c.Server.DevInsecureCookies }, true},
		{"duration", map[string]string{"MFAGATE_SERVER_SESSION_IDLE_TIMEOUT": "15m"}, func(c *Config) any { return c.Server.SessionIdleTimeout }, 15 * time.Minute},
		{"duration in days", map[string]string{"MFAGATE_SERVER_SESSION_MAX_AGE": "2d"}, func(c *Config) any { return c.Server.SessionMaxAge }, 48 * time.Hour},
		{"database duration", map[string]string{"MFAGATE_DATABASE_REQUEST_TIMEOUT": "2s"}, func(c *Config) any { return c.Database.RequestTimeout }, 2 * time.Second},
		{"database int", map[string]string{"MFAGATE_DATABASE_MAX_OPEN_CONNS": "12"}, func(c *Config) any { return c.Database.MaxOpenConns }, 12},
		{
			"list",
			map[string]string{"MFAGATE_SERVER_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,,"},
			func(c *Config) any { return c.Server.TrustedProxyPrefixes },
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")},
		},
		{"empty means unset", map[string]string{"MFAGATE_SERVER_ADDR": ""}, func(c *Config) any { return c.Server.Addr }, "127.0.0.1:8080"},
		{"test variables ignored", map[string]string{"MFAGATE_TEST_POSTGRES_DSN": "x"}, func(c *Config) any { return c.Database.DSN }, "/tmp/mfagate.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, src, tt.env)
			if got := tt.got(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad int", map[string]string{"MFAGATE_MAIL_SMTP_PORT": "smtp"}, `MFAGATE_MAIL_SMTP_PORT: mail.smtp.port: expected a whole number, got "smtp"`},
		{"bad bool", map[string]string{"MFAGATE_SERVER_DEV_INSECURE_COOKIES": "maybe"}, `MFAGATE_SERVER_DEV_INSECURE_COOKIES: server.dev_insecure_cookies: expected true or false, got "maybe"`},
		{"bad duration", map[string]string{"MFAGATE_MFA_EMAIL_CODE_TTL": "10"}, `MFAGATE_MFA_EMAIL_CODE_TTL: mfa.email.code_ttl: expected a duration such as 30s, 10m, 12h or 7d, got "10"`},
		// A value that parses but fails validation names the variable too.
		{"invalid value", map[string]string{"MFAGATE_DATABASE_DRIVER": "mysql"}, `MFAGATE_DATABASE_DRIVER: database.driver "mysql" is not one of sqlite, postgres`},
		{"invalid pool size", map[string]string{"MFAGATE_DATABASE_MAX_OPEN_CONNS": "2000"}, `MFAGATE_DATABASE_MAX_OPEN_CONNS: database.max_open_conns is 2000; it must be between 3 and 1000`},
		{"invalid list item", map[string]string{"MFAGATE_SERVER_TRUSTED_PROXIES": "10.0.0.0/8,nope"}, `MFAGATE_SERVER_TRUSTED_PROXIES: server.trusted_proxies: "nope" is not an IP address`},
		{"invalid range", map[string]string{"MFAGATE_MFA_RECOVERY_CODES_COUNT": "100"}, "MFAGATE_MFA_RECOVERY_CODES_COUNT: mfa.recovery_codes.count is 100"},
	}
	src := withMinimal("server:\n  trusted_proxies: [192.0.2.1]\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(src), mapEnv(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEnvVars(t *testing.T) {
	vars := EnvVars()
	seen := make(map[string]bool)
	for _, v := range vars {
		if seen[v.Name] {
			t.Errorf("got %s twice, want each name once", v.Name)
		}
		seen[v.Name] = true
		if want := EnvPrefix + strings.ToUpper(strings.ReplaceAll(v.Key, ".", "_")); v.Name != want {
			t.Errorf("got %v, want %v", v.Name, want)
		}
	}
	for _, name := range []string{
		"MFAGATE_SERVER_ADDR", "MFAGATE_SERVER_TRUSTED_PROXIES", "MFAGATE_DATABASE_DSN",
		"MFAGATE_SECRETS_KEY_FILE", "MFAGATE_MAIL_SMTP_PASSWORD", "MFAGATE_MFA_EMAIL_HOURLY_CAP",
		"MFAGATE_MFA_RECOVERY_CODES_COUNT", "MFAGATE_MFA_CHECKUP", "MFAGATE_ROLLOUT_TIMEZONE", "MFAGATE_SUPPORT_HOURS",
		"MFAGATE_RETENTION_SENT_MAIL", "MFAGATE_RETENTION_IDLE_THROTTLES",
	} {
		if !seen[name] {
			t.Errorf("got no %s, want it listed", name)
		}
	}
	for name := range seen {
		if strings.Contains(name, "PHASES") || strings.Contains(name, "BOOTSTRAP") {
			t.Errorf("got %s, want no variables for lists of records", name)
		}
	}
	if got, want := len(vars), 50; got != want {
		t.Errorf("count: got %v, want %v", got, want)
	}
}

func TestUnknownEnv(t *testing.T) {
	environ := []string{
		"PATH=/bin",
		"MFAGATE_DATABASE_DSN=x",
		"MFAGATE_DATABSE_DSN=x",
		"MFAGATE_TEST_POSTGRES_DSN=x",
		"MFAGATE_WHATEVER=1",
		"MFAGATE_WHATEVER=2",
	}
	got := UnknownEnv(environ)
	want := []string{
		"environment variable MFAGATE_DATABSE_DSN matches no configuration key and is ignored, did you mean MFAGATE_DATABASE_DSN?",
		"environment variable MFAGATE_WHATEVER matches no configuration key and is ignored",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLoadEnviron(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfagate.yaml")
	if err := os.WriteFile(path, []byte(withMinimal("")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadEnviron(path, []string{"MFAGATE_DATABASE_DSN=/a", "MFAGATE_DATABASE_DSN=/b", "MFAGATE_NOPE=1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.DSN != "/b" {
		t.Errorf("dsn: got %v, want %v", cfg.Database.DSN, "/b")
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "MFAGATE_NOPE") {
		t.Errorf("warnings: got %v, want one about MFAGATE_NOPE", cfg.Warnings)
	}
}

// FuzzEnvOverrides: whatever two MFAGATE_* variables say, Parse does
// not panic, and either sets each key to its value read as the key's
// type (a string as it is, a number, true or false, a duration, a
// comma-separated list; 0 for a database key is its default) or fails with a one-line error whose problems
// each say where they are and at least one of which names a variable
// given or its key.
func FuzzEnvOverrides(f *testing.F) {
	vars := envFields()
	index := func(name string) uint8 {
		for i, v := range vars {
			if v.Name == name {
				return uint8(i)
			}
		}
		f.Fatalf("no variable %s", name)
		return 0
	}
	for _, s := range []struct {
		a, b   string
		va, vb string
	}{
		{"MFAGATE_MAIL_SMTP_PORT", "MFAGATE_SERVER_DEV_INSECURE_COOKIES", " 465 ", "TRUE"},
		{"MFAGATE_MAIL_SMTP_PORT", "MFAGATE_MAIL_SMTP_PORT", "99999999999", "-1"},
		{"MFAGATE_SERVER_SESSION_MAX_AGE", "MFAGATE_MFA_EMAIL_CODE_TTL", "2d", "-5m"},
		{"MFAGATE_SERVER_SESSION_IDLE_TIMEOUT", "MFAGATE_SERVER_SESSION_MAX_AGE", "99999999d", "9223372036854775807ns"},
		{"MFAGATE_SERVER_TRUSTED_PROXIES", "MFAGATE_SERVER_BASE_URL", "10.0.0.0/8, ,::1", "http://127.0.0.1:9000"},
		{"MFAGATE_DATABASE_DRIVER", "MFAGATE_DATABASE_DSN", "mysql", "\x00"},
		{"MFAGATE_ROLLOUT_TIMEZONE", "MFAGATE_SERVER_ADDR", "Europe/Nowhere", "\n"},
		{"MFAGATE_MAIL_DRIVER", "MFAGATE_MAIL_FROM", "smtp", "a@example.com\r\nBcc: x"},
		{"MFAGATE_SERVER_COOKIE_DOMAIN", "MFAGATE_SERVER_BASE_URL", ".example.com", "https://login.example.com"},
	} {
		f.Add(index(s.a), s.va, index(s.b), s.vb)
	}
	src := []byte(withMinimal("server:\n  trusted_proxies: [192.0.2.1]\n"))
	f.Fuzz(func(t *testing.T, ia uint8, va string, ib uint8, vb string) {
		a, b := vars[int(ia)%len(vars)], vars[int(ib)%len(vars)]
		env := map[string]string{a.Name: va}
		if b.Name != a.Name {
			env[b.Name] = vb
		}
		cfg, err := Parse(src, mapEnv(env))
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) == 0 || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("%v: got %q, want an *Error of one line", env, err)
			}
			named := false
			for _, p := range ce.Problems {
				if p.Message == "" || (p.Env == "" && p.Line == 0 && !strings.Contains(p.Message, ".")) {
					t.Fatalf("%v: got problem %+v, which does not say where it is", env, p)
				}
				for _, v := range []envField{a, b} {
					named = named || p.Env == v.Name || strings.Contains(p.Message, v.Key)
				}
			}
			if !named {
				t.Fatalf("%v: got %q, which names neither variable nor its key", env, err)
			}
			return
		}
		root := reflect.ValueOf(cfg).Elem()
		for _, v := range []envField{a, b} {
			s := env[v.Name]
			if s == "" {
				continue
			}
			got := root.FieldByIndex(v.index)
			var want any
			var perr error
			switch {
			case got.Type() == durationType:
				want, perr = parseDuration(s)
			case got.Kind() == reflect.String:
				want = s
			case got.Kind() == reflect.Int:
				want, perr = parseInt(s)
			case got.Kind() == reflect.Bool:
				want, perr = parseBool(s)
			case got.Kind() == reflect.Slice:
				want = parseList(s)
			}
			if perr != nil {
				t.Fatalf("%v: %s = %q does not parse (%v), yet Parse accepted it", env, v.Name, s, perr)
			}
			if reflect.ValueOf(want).IsZero() && strings.HasPrefix(v.Key, "database.") {
				continue // 0 means the default there (TestDatabaseDefaults)
			}
			if !reflect.DeepEqual(got.Interface(), want) {
				t.Fatalf("%v: %s = %q set %s to %#v, want %#v", env, v.Name, s, v.Key, got.Interface(), want)
			}
		}
	})
}
