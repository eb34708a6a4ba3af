package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestValidateErrors checks each validation rule. src gets the minimal
// sections it lacks appended; want must appear in the error, and when
// line is set, the problem must be reported at the line of src holding it.
func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
		line string // marker text on the line the problem must name; "" for none
	}{
		// server
		{"addr empty", "server:\n  addr: ''\n", "server.addr is required", "addr:"},
		{"addr no port", "server:\n  addr: localhost\n", `server.addr "localhost" is not a listen address`, "addr:"},
		{"addr bad port", "server:\n  addr: ':99999'\n", `server.addr ":99999" is not a listen address`, "addr:"},
		{"metrics_addr no port", "server:\n  metrics_addr: 127.0.0.1\n", `server.metrics_addr "127.0.0.1" is not a listen address such as 127.0.0.1:9090`, "metrics_addr"},
		{"metrics_addr bad port", "server:\n  metrics_addr: '127.0.0.1:http'\n", `server.metrics_addr "127.0.0.1:http" is not a listen address`, "metrics_addr"},
		{"metrics_addr is addr", "server:\n  addr: 127.0.0.1:8080\n  metrics_addr: 127.0.0.1:8080\n", `server.metrics_addr "127.0.0.1:8080" is server.addr too`, "metrics_addr"},
		{"base_url relative", "server:\n  base_url: /login\n", `server.base_url "/login" must be an absolute URL starting with https://`, "base_url"},
		{"base_url ftp", "server:\n  base_url: ftp://example.com\n", "must be an absolute URL starting with https://", "base_url"},
		{"base_url no host", "server:\n  base_url: 'https:///x'\n", "has no host name", "base_url"},
		{"base_url query", "server:\n  base_url: https://example.com/?a=b\n", "must not have a query (?...) or a fragment (#...)", "base_url"},
		{"base_url fragment", "server:\n  base_url: https://example.com/#top\n", "must not have a query", "base_url"},
		{"base_url userinfo", "server:\n  base_url: https://me:pw@example.com\n", "must not contain a user name or password", "base_url"},
		{"base_url bad port", "server:\n  base_url: https://example.com:70000\n", "has an invalid port", "base_url"},
		{"cookie_domain not a domain", "server:\n  cookie_domain: example\n", `server.cookie_domain "example" is not a domain name`, "cookie_domain"},
		{"cookie_domain with scheme", "server:\n  cookie_domain: https://example.com\n", "is not a domain name", "cookie_domain"},
		{
			"cookie_domain outside base_url",
			"server:\n  base_url: https://login.example.com\n  cookie_domain: .example.org\n",
			`server.cookie_domain ".example.org" does not contain the host of server.base_url (login.example.com)`, "cookie_domain",
		},
		{
			"cookie_domain suffix but not subdomain",
			"server:\n  base_url: https://badexample.com\n  cookie_domain: example.com\n",
			"does not contain the host", "cookie_domain",
		},
		{
			"trusted proxy",
			"server:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n",
			`server.trusted_proxies: "10.0.0.0/33" is not an IP address or CIDR range`, "/33",
		},
		{"trusted proxy name", "server:\n  trusted_proxies: [proxy.local]\n", `"proxy.local" is not an IP address`, "trusted_proxies"},
		{"trusted proxy zone", "server:\n  trusted_proxies: ['fe80::1%eth0']\n", `"fe80::1%eth0" is not an IP address`, "trusted_proxies"},
		{
			"insecure cookies on https",
			"server:\n  base_url: https://127.0.0.1:8080\n  dev_insecure_cookies: true\n",
			"server.dev_insecure_cookies is only allowed when server.base_url is http:// on a loopback host", "dev_insecure_cookies",
		},
		{
			"insecure cookies on a public host",
			"server:\n  base_url: http://login.example.com\n  dev_insecure_cookies: true\n",
			"because anywhere else a cookie without the Secure flag can be read on the network", "dev_insecure_cookies",
		},
		{"insecure cookies without base_url", "server:\n  dev_insecure_cookies: true\n", "only allowed when server.base_url is http://", "dev_insecure_cookies"},
		{"idle too short", "server:\n  session_idle_timeout: 30s\n", "server.session_idle_timeout is 30s; it must be between 1m and 30d", "idle"},
		{"max age too long", "server:\n  session_max_age: 31d\n", "server.session_max_age is 31d; it must be between 1m and 30d", "max_age"},
		{"shutdown delay too long", "server:\n  shutdown_delay: 2m\n", "server.shutdown_delay is 2m; it must be between 0s and 1m", "shutdown_delay"},
		{"session cache too small", "server:\n  session_cache_size: 999\n", "server.session_cache_size is 999; it must be between 1000 and 10000000 sessions (about 0.35 KB of memory each)", "session_cache_size"},
		{"session cache negative", "server:\n  session_cache_size: -5\n", "server.session_cache_size is -5; it must be between 1000 and 10000000", "session_cache_size"},
		{"session cache too big", "server:\n  session_cache_size: 20000000\n", "server.session_cache_size is 20000000; it must be between", "session_cache_size"},
		{"shutdown delay negative", "server:\n  shutdown_delay: -1s\n", "server.shutdown_delay is -1s; it must be between 0s and 1m", "shutdown_delay"},
		{
			"idle longer than max age",
			"server:\n  session_max_age: 1h\n  session_idle_timeout: 2h\n",
			"server.session_idle_timeout (2h) must not be longer than server.session_max_age (1h)", "idle",
		},
		// database, secrets
		{"driver missing", "database:\n  dsn: x\n", "config line 1: database.driver is required (sqlite or postgres)", ""},
		{"driver unknown", "database:\n  driver: mysql\n  dsn: x\n", `database.driver "mysql" is not one of sqlite, postgres`, "mysql"},
		{"dsn missing", "database:\n  driver: postgres\n", "database.dsn is required", "database:"},
		{"key_file missing", "secrets: {}\n", "secrets.key_file is required (create the file with: mfagate keygen FILE)", "secrets"},
		{"request_timeout too short", "database:\n  driver: sqlite\n  dsn: x\n  request_timeout: 500ms\n", "database.request_timeout is 500ms; it must be between 1s and 1m", "request_timeout"},
		{"request_timeout too long", "database:\n  driver: sqlite\n  dsn: x\n  request_timeout: 2m\n", "database.request_timeout is 2m; it must be between 1s and 1m", "request_timeout"},
		{"request_timeout negative", "database:\n  driver: sqlite\n  dsn: x\n  request_timeout: -5s\n", "database.request_timeout is -5s; it must be between 1s and 1m", "request_timeout"},
		{"connect_timeout too long", "database:\n  driver: postgres\n  dsn: x\n  connect_timeout: 5m\n", "database.connect_timeout is 5m; it must be between 1s and 1m", "connect_timeout"},
		{"max_open_conns too few", "database:\n  driver: sqlite\n  dsn: x\n  max_open_conns: 2\n", "database.max_open_conns is 2; it must be between 3 and 1000", "max_open_conns"},
		{"max_open_conns negative", "database:\n  driver: postgres\n  dsn: x\n  max_open_conns: -1\n", "database.max_open_conns is -1; it must be between 3 and 1000", "max_open_conns"},
		{"max_idle_conns negative", "database:\n  driver: postgres\n  dsn: x\n  max_idle_conns: -1\n", "database.max_idle_conns is -1; it must be at least 1", "max_idle_conns"},
		{
			"max_idle_conns above max_open_conns",
			"database:\n  driver: postgres\n  dsn: x\n  max_open_conns: 10\n  max_idle_conns: 11\n",
			"database.max_idle_conns (11) must not be more than database.max_open_conns (10)", "max_idle_conns",
		},
		{
			"idle above the default of open",
			"database:\n  driver: postgres\n  dsn: x\n  max_idle_conns: 30\n",
			"database.max_idle_conns (30) must not be more than database.max_open_conns (20)", "max_idle_conns",
		},
		{"conn_max_lifetime too short", "database:\n  driver: postgres\n  dsn: x\n  conn_max_lifetime: 10s\n", "database.conn_max_lifetime is 10s; it must be between 1m and 1d", "conn_max_lifetime"},
		{"conn_max_idle_time too long", "database:\n  driver: postgres\n  dsn: x\n  conn_max_idle_time: 2d\n", "database.conn_max_idle_time is 2d; it must be between 1m and 1d", "conn_max_idle_time"},
		{"max_open_conns not a number", "database:\n  driver: postgres\n  dsn: x\n  max_open_conns: many\n", "database.max_open_conns", "max_open_conns"},
		// mail
		{"from missing", "mail:\n  driver: outbox\n", "mail.from is required", "mail:"},
		{"from invalid", "mail:\n  from: not an address\n  driver: outbox\n", `mail.from "not an address" is not an email address`, "from:"},
		{"mail driver", "mail:\n  from: a@example.com\n  driver: sendmail\n", `mail.driver "sendmail" is not one of smtp, outbox`, "sendmail"},
		{"mail driver missing", "mail:\n  from: a@example.com\n", "mail.driver is required (smtp, or outbox", "mail:"},
		{"smtp host", "mail:\n  from: a@example.com\n  driver: smtp\n", "mail.smtp.host is required when mail.driver is smtp", "mail:"},
		{
			"smtp username without password",
			"mail:\n  from: a@example.com\n  driver: smtp\n  smtp:\n    host: mx\n    username: me\n",
			"mail.smtp.username and mail.smtp.password must be set together", "smtp:",
		},
		{"smtp port", "mail:\n  from: a@example.com\n  driver: smtp\n  smtp:\n    host: mx\n    port: 0\n", "mail.smtp.port is 0; it must be between 1 and 65535", "port"},
		{"smtp tls", "mail:\n  from: a@example.com\n  driver: smtp\n  smtp:\n    host: mx\n    tls: ssl\n", `mail.smtp.tls "ssl" is not one of starttls, tls, none`, "ssl"},
		{"retry for too short", "mail:\n  retry_for: 10m\n", "mail.retry_for is 10m; it must be between 1h and 30d", "retry_for"},
		{"max per second negative", "mail:\n  max_per_second: -1\n", "mail.max_per_second is -1; it must be between 0 and 100000", "max_per_second"},
		{"no connections", "mail:\n  connections: 0\n", "mail.connections is 0; it must be between 1 and 32", "connections"},
		// mfa
		{"issuer empty", "mfa:\n  issuer: ' '\n", "mfa.issuer is required", "issuer"},
		{"issuer colon", "mfa:\n  issuer: 'Acme: staff'\n", `mfa.issuer "Acme: staff" must not contain a colon`, "issuer"},
		{"code ttl", "mfa:\n  email:\n    code_ttl: 2h\n", "mfa.email.code_ttl is 2h; it must be between 1m and 1h", "code_ttl"},
		{"max attempts", "mfa:\n  email:\n    max_attempts: 0\n", "mfa.email.max_attempts is 0; it must be between 1 and 10", "max_attempts"},
		{"resend cooldown", "mfa:\n  email:\n    resend_cooldown: 0s\n", "mfa.email.resend_cooldown is 0s; it must be between 1s and 1h", "resend"},
		{"hourly cap", "mfa:\n  email:\n    hourly_cap: 1000\n", "mfa.email.hourly_cap is 1000; it must be between 1 and 100", "hourly"},
		{"skew", "mfa:\n  totp:\n    skew_steps: 2\n", "mfa.totp.skew_steps is 2; it must be 0 or 1", "skew"},
		{"recovery count", "mfa:\n  recovery_codes:\n    count: 7\n", "mfa.recovery_codes.count is 7; it must be between 8 and 20", "count"},
		{"checkup too short", "mfa:\n  checkup: 12h\n", "mfa.checkup is 12h; it must be between 1d and 365d", "checkup"},
		{"checkup too long", "mfa:\n  checkup: 400d\n", "mfa.checkup is 400d; it must be between 1d and 365d", "checkup"},
		// retention
		{"sent mail kept too briefly", "retention:\n  sent_mail: 1h\n", "retention.sent_mail", "sent_mail"},
		{"throttles forgotten inside a lock", "throttle:\n  lock_for: 2h\nretention:\n  idle_throttles: 90m\n", "retention.idle_throttles", "idle_throttles"},
		// rollout
		{"timezone unknown", "rollout:\n  timezone: Mars/Olympus\n", `rollout.timezone "Mars/Olympus" is not a known time zone name`, "timezone"},
		{"timezone local", "rollout:\n  timezone: Local\n", `rollout.timezone "Local" depends on the machine`, "timezone"},
		{"timezone empty", "rollout:\n  timezone: ''\n", "rollout.timezone is required", "timezone"},
		{"phase name", phase("name: ''"), "rollout.phases[0]: name is required", "name:"},
		{"phase starts missing", phase("starts: ''"), `rollout.phases[0] ("p"): starts is required`, "starts"},
		{"phase starts bad", phase("starts: 13/07/2027"), `rollout.phases[0] ("p"): starts "13/07/2027" is not a date such as 2027-07-13`, "starts"},
		{"phase starts no zone", phase("starts: 2027-07-13T09:00:00"), `starts "2027-07-13T09:00:00" is not a date`, "starts"},
		{"phase audience missing", phase("audience: []"), `rollout.phases[0] ("p"): audience is required`, "audience"},
		{"phase audience empty entry", phase("audience: [admin, '']"), `rollout.phases[0] ("p"): audience has an empty entry`, "audience"},
		// roles
		{"phase audience unknown role", phase("audience: [admn]"),
			`rollout.phases[0] ("p"): role "admn" is not one of the roles this installation uses (admin, user, operator, support); did you mean "admin"?`, "audience"},
		{"phase audience new role", phase("audience: [wizard]"),
			`role "wizard" is not one of the roles this installation uses (admin, user, operator, support); add it to roles if it is new`, "audience"},
		{"rule role unknown", "forward_auth:\n  rules:\n    - {host: app.example.com, roles: [suport]}\n",
			`role "suport" is not one of the roles this installation uses (admin, user, operator, support); did you mean "support"?`, "suport"},
		{"bootstrap role unknown", "admin:\n  bootstrap:\n    - {username: ada, email: ada@example.com, roles: [operater], password_file: /p}\n",
			`did you mean "operator"?`, "operater"},
		{"roles empty", "roles: []\n", "roles is empty", "roles"},
		{"role named all", "roles:\n  - {name: all}\n", `roles[0]: "all" is kept for rollout audiences`, "all"},
		{"role name bad", "roles:\n  - {name: Team Leads}\n", `roles[0]: name "Team Leads" must start with a lowercase letter`, "Team"},
		{"role twice", "roles:\n  - {name: user}\n  - {name: user, description: again}\n", `roles[1]: "user" is listed twice (first at roles[0])`, "again"},
		{"role description long", "roles:\n  - {name: user, description: " + strings.Repeat("x", 201) + "}\n", "roles[0]: description must be 200 characters or fewer", "description"},
		{"custom roles replace the default", "roles:\n  - {name: staff}\n" + phase("audience: [admin]"),
			`role "admin" is not one of the roles this installation uses (staff, operator, support)`, "audience"},
		{
			"phase requirement",
			"rollout:\n  phases:\n    - name: a\n      starts: 2027-01-01\n      audience: [all]\n      requirement: notify\n" +
				"    - name: b\n      starts: 2027-01-02\n      audience: [all]\n      requirement: notify\n" +
				"    - name: Email verification required\n      starts: 2027-07-13\n      audience: [admin]\n      requirement: must\n      methods: [email]\n",
			`config line 14: rollout.phases[2] ("Email verification required"): requirement "must" is not one of notify, optional, required`, "must",
		},
		{"phase requirement missing", phase("requirement: ''"), `rollout.phases[0] ("p"): requirement is required (notify, optional, required)`, "requirement"},
		{"phase method", phase("methods: [email, sms]"), `rollout.phases[0] ("p"): method "sms" is not one of email, totp`, "methods"},
		{"phase method twice", phase("methods: [email, email]"), `method "email" is listed twice`, "methods"},
		{"phase methods missing", phase("methods: []"), `rollout.phases[0] ("p"): methods is required when requirement is required`, "methods"},
		{"default method unknown", phase("default_method: sms"), `default_method "sms" is not one of email, totp`, "default_method"},
		{"default method not listed", phase("default_method: totp"), `default_method "totp" is not one of the phase's methods (email)`, "default_method"},
		{"notice subject", phase("notice: {body: hello}"), `rollout.phases[0] ("p"): notice.subject is required when a notice is set`, "notice"},
		{"notice body", phase("notice:\n        subject: hi"), `notice.body is required when a notice is set`, "notice"},
		{"reminder bad", phase("reminders: [7d, tomorrow]"), `rollout.phases[0] ("p"): reminder "tomorrow" is not a time before the start`, "reminders"},
		{"reminder zero", phase("reminders: [0d]"), `reminder "0d" is not a time before the start`, "reminders"},
		// support, admin
		{"support email", "support:\n  email: help desk\n", `support.email "help desk" is not an email address`, "email"},
		{"bootstrap username", account("username: ''"), "admin.bootstrap[0]: username is required", "username"},
		{"bootstrap email missing", account("email: ''"), `admin.bootstrap[0] ("ops"): email is required`, "email"},
		{"bootstrap email bad", account("email: ops"), `admin.bootstrap[0] ("ops"): email "ops" is not an email address`, "email"},
		{"bootstrap password file", account("password_file: ''"), `admin.bootstrap[0] ("ops"): password_file is required`, "password_file"},
		{"bootstrap role", account("roles: [admin, ' ']"), `admin.bootstrap[0] ("ops"): roles has an empty entry`, "roles"},
		{
			"bootstrap duplicate",
			"admin:\n  bootstrap:\n    - {username: ops, email: a@example.com, password_file: /p}\n    - {username: ops, email: b@example.com, password_file: /q}\n",
			`admin.bootstrap[1] ("ops"): username is also used by admin.bootstrap[0]`, "b@example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := withMinimal(tt.src)
			_, err := Parse([]byte(src), nil)
			if err == nil {
				t.Fatalf("got nil, want an error containing %q\n%s", tt.want, src)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("got %T, want *Error", err)
			}
			var found *Problem
			for i, p := range cerr.Problems {
				if strings.Contains(p.String(), tt.want) {
					found = &cerr.Problems[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("got %v, want a problem containing %q", err, tt.want)
			}
			if tt.line != "" {
				if got, want := found.Line, lineOf(t, src, tt.line); got != want {
					t.Errorf("line: got %v, want %v (%s)", got, want, found)
				}
			}
		})
	}
}

// phase returns a rollout with one valid phase named "p" whose field is
// replaced by the given line.
func phase(field string) string {
	return override("rollout:\n  phases:\n    - ", []string{
		"name: p", "starts: 2027-07-13", "audience: [admin]", "requirement: required",
		"methods: [email]", "default_method: email", "reminders: [7d]",
	}, field, "      ")
}

// account returns admin.bootstrap with one valid account "ops" whose field
// is replaced by the given line.
func account(field string) string {
	return override("admin:\n  bootstrap:\n    - ", []string{
		"username: ops", "email: ops@example.com", "name: Ops", "roles: [admin]", "password_file: /etc/p",
	}, field, "      ")
}

func override(head string, fields []string, field, indent string) string {
	key, _, _ := strings.Cut(field, ":")
	var b strings.Builder
	b.WriteString(head)
	replaced := false
	for i, f := range fields {
		if strings.HasPrefix(f, key+":") {
			f, replaced = field, true
		}
		if i > 0 {
			b.WriteString(indent)
		}
		fmt.Fprintln(&b, f)
	}
	if !replaced {
		fmt.Fprintln(&b, indent+field)
	}
	return b.String()
}

func TestValidWithoutError(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"phase as given", phase("name: p")},
		{"notify phase needs no methods", "rollout:\n  phases:\n    - {name: n, starts: 2027-01-01, audience: [all], requirement: notify}\n"},
		{"insecure cookies on loopback", "server:\n  base_url: http://127.0.0.1:8080\n  dev_insecure_cookies: true\n"},
		{"insecure cookies on localhost", "server:\n  base_url: http://localhost:8080/\n  dev_insecure_cookies: true\n"},
		{"insecure cookies on ipv6 loopback", "server:\n  base_url: http://[::1]:8080\n  dev_insecure_cookies: true\n"},
		{"cookie domain equals host", "server:\n  base_url: https://example.com\n  cookie_domain: example.com\n"},
		{"postgres", "database:\n  driver: postgres\n  dsn: postgres://u@db/mfagate\n"},
		{"pool bounds", "database:\n  driver: postgres\n  dsn: x\n  request_timeout: 1s\n  connect_timeout: 1m\n  max_open_conns: 3\n  max_idle_conns: 3\n  conn_max_lifetime: 1d\n  conn_max_idle_time: 1m\n"},
		{"smtp without login", "mail:\n  from: a@example.com\n  driver: smtp\n  smtp: {host: localhost, port: 25, tls: none}\n"},
		{"empty bootstrap", "admin:\n  bootstrap: []\n"},
		{"empty sections", "server:\nmfa:\nrollout:\nsupport:\nadmin:\n"},
		{"bounds", "server:\n  session_idle_timeout: 1m\n  session_max_age: 30d\n  shutdown_delay: 0s\n  session_cache_size: 1000\nmfa:\n  recovery_codes: {count: 20}\n  totp: {skew_steps: 0}\n"},
		{"rfc3339 start", phase("starts: 2027-07-13T09:00:00+01:00")},
		{"notice", phase("notice: {subject: s, body: b}")},
		{"custom roles", "roles:\n  - {name: nurse, description: Ward staff}\n  - {name: admin}\n" + phase("audience: [nurse, all]") +
			"forward_auth:\n  rules:\n    - {host: ward.example.com, roles: [nurse, support]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustParse(t, withMinimal(tt.src), nil)
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"http base url", "server:\n  base_url: http://login.example.com\n", "uses http on a host that is not loopback"},
		{"metrics on every interface", "server:\n  metrics_addr: ':9090'\n", `server.metrics_addr ":9090" is reachable from other machines`},
		{"metrics on a public address", "server:\n  metrics_addr: '192.0.2.7:9090'\n", "make sure a firewall lets only your Prometheus reach it"},
		{"smtp ignored", "mail:\n  from: a@example.com\n  driver: outbox\n  smtp: {host: mx}\n", "mail.smtp is ignored because mail.driver is outbox"},
		{"password in clear", "mail:\n  from: a@example.com\n  driver: smtp\n  smtp: {host: mx, tls: none, username: u, password: p}\n", "SMTP password is sent unencrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, withMinimal(tt.src), nil)
			got := strings.Join(cfg.Warnings, " | ")
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %v, want a warning containing %q", got, tt.want)
			}
		})
	}
}

func TestCheckServe(t *testing.T) {
	src := withMinimal("server:\n  addr: ':8080'\n")
	cfg := mustParse(t, src, nil)
	err := cfg.CheckServe()
	want := "config line 1: server.base_url is required to serve"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %v...", err, want)
	}
}

func TestValidateHandBuilt(t *testing.T) {
	// A Config built in code, not parsed, validates without line numbers.
	cfg := Default()
	err := cfg.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "config: database.driver is required") {
		t.Fatalf("got %v, want a database.driver error", err)
	}
	cfg.Database = Database{Driver: "sqlite", DSN: "x.db"}
	cfg.Secrets.KeyFile = "k"
	cfg.Mail.From, cfg.Mail.Driver = "a@example.com", "outbox"
	if err := cfg.Validate(); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if err := cfg.Validate(); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("second Validate: got %v and %v, want nil and no warnings", err, cfg.Warnings)
	}
}
