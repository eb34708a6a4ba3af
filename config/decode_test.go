package config

import (
	"strings"
	"testing"
)

// TestDecodeErrors covers problems found while reading the file, before
// any value is checked. want is the whole error message.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"empty", "", "config: the file is empty; it needs at least the database, secrets and mail sections"},
		{"only comments", "# nothing yet\n\n", "config: the file is empty; it needs at least the database, secrets and mail sections"},
		{"null document", "~\n", "config: the file is empty; it needs at least the database, secrets and mail sections"},
		{"list", "- server\n- database\n", "config line 1: the file must be a mapping of keys such as server: and database:, not a list"},
		{"scalar", "hello\n", `config line 1: the file must be a mapping of keys such as server: and database:, not "hello"`},
		{"not utf-8", "server:\n  addr: \"\xff\xfe\"\n", "config line 2: the file is not valid UTF-8 text"},
		{"control character", "server:\n  addr: \"a\x00b\"\n", "config line 2: the file contains the control character 0x00, which YAML does not allow"},
		{"syntax", "server:\n  addr: [\n", "config line 2: invalid YAML: did not find expected node content"},
		{"tab indent", "server:\n\taddr: x\n", "config line 2: invalid YAML: found character that cannot start any token"},
		{"two documents", "server: {}\n---\ndatabase: {}\n", "config line 2: the file holds more than one YAML document (a second one starts here); keep only one"},
		{
			"unknown top-level key",
			"sever:\n  addr: x\n",
			`config line 1: unknown key "sever" in the top level (known keys: server, database, secrets, mail, mfa, rollout, throttle, retention, support, admin, forward_auth, roles, invite), did you mean "server"?`,
		},
		{
			"unknown key in server",
			"server:\n  addr: x\n\n  adress: y\n",
			`config line 4: unknown key "adress" in server (known keys: addr, base_url, cookie_domain, trusted_proxies, dev_insecure_cookies, session_idle_timeout, session_max_age, metrics_addr, shutdown_delay, session_cache_size)`,
		},
		{
			"unknown key three deep",
			"mfa:\n  email:\n    code_ttl: 5m\n    ttl: 5m\n",
			`config line 4: unknown key "ttl" in mfa.email (known keys: code_ttl, max_attempts, resend_cooldown, hourly_cap)`,
		},
		{
			"unknown key in a phase",
			"rollout:\n  phases:\n    - name: a\n    - name: b\n      requirment: notify\n",
			`config line 5: unknown key "requirment" in rollout.phases[1] (known keys: name, starts, audience, requirement, methods, default_method, notice, reminders, grace, grace_until, max_skips, reprompt_after, then, retire), did you mean "requirement"?`,
		},
		{
			"unknown key in a notice",
			"rollout:\n  phases:\n    - name: a\n      notice:\n        title: x\n",
			`config line 5: unknown key "title" in rollout.phases[0].notice (known keys: subject, body)`,
		},
		{
			"parsed field is not a key",
			"server:\n  parsedbaseurl: x\n",
			`config line 2: unknown key "parsedbaseurl" in server (known keys: addr, base_url, cookie_domain, trusted_proxies, dev_insecure_cookies, session_idle_timeout, session_max_age, metrics_addr, shutdown_delay, session_cache_size)`,
		},
		{"duplicate key", "server:\n  addr: a\n  addr: b\n", `config line 3: duplicate key "addr" in server (first set on line 2)`},
		{"duplicate section", "server: {}\nserver: {}\n", `config line 2: duplicate key "server" in the top level (first set on line 1)`},
		{"merge key", "base: &b {addr: x}\n", `config line 1: unknown key "base" in the top level (known keys: server, database, secrets, mail, mfa, rollout, throttle, retention, support, admin, forward_auth, roles, invite)`},
		{"merge key used", "server:\n  <<: {addr: x}\n", "config line 2: merge keys (<<) are not supported in server; write the keys out"},
		{"key is a list", "server:\n  [a]: x\n", "config line 2: keys in server must be plain names, not a list"},
		{"section is a string", "server: yes\n", `config line 1: server: expected a mapping of keys, got "yes"`},
		{"string is a list", "database:\n  driver: [sqlite]\n", "config line 2: database.driver: expected a string, got a list"},
		{"string is a mapping", "database:\n\n  dsn:\n    path: x\n", "config line 4: database.dsn: expected a string, got a mapping of keys"},
		{"int is text", "mail:\n  smtp:\n    port: twenty\n", `config line 3: mail.smtp.port: expected a whole number, got "twenty"`},
		{"int is a fraction", "mfa:\n  recovery_codes:\n    count: 10.5\n", `config line 3: mfa.recovery_codes.count: expected a whole number, got "10.5"`},
		{"int overflows", "mail:\n  smtp:\n    port: 99999999999999999999\n", `config line 3: mail.smtp.port: expected a whole number, got "99999999999999999999"`},
		{"bool is yes", "server:\n  dev_insecure_cookies: yes\n", `config line 2: server.dev_insecure_cookies: expected true or false, got "yes"`},
		{"duration without unit", "server:\n  session_max_age: 3600\n", `config line 2: server.session_max_age: expected a duration such as 30s, 10m, 12h or 7d, got "3600"`},
		{"duration is a list", "server:\n  session_max_age: [1h]\n", "config line 2: server.session_max_age: expected a duration, got a list"},
		{"list is a string", "server:\n  trusted_proxies: 10.0.0.0/8\n", `config line 2: server.trusted_proxies: expected a list, got "10.0.0.0/8"`},
		{"list item is a mapping", "rollout:\n  phases:\n    - audience:\n        - {a: b}\n", "config line 4: rollout.phases[0].audience[0]: expected a string, got a mapping of keys"},
		{"phases is a mapping", "rollout:\n  phases:\n    name: x\n", "config line 3: rollout.phases: expected a list, got a mapping of keys"},
		{"phase is a string", "rollout:\n  phases:\n    - first\n", `config line 3: rollout.phases[0]: expected a mapping of keys, got "first"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), nil)
			if err == nil {
				t.Fatalf("got nil, want %v", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeCollectsSeveralProblems(t *testing.T) {
	src := "server:\n  adress: x\ndatabase:\n  driver: [a]\nmfa:\n  totp:\n    skew: 1\n"
	_, err := Parse([]byte(src), nil)
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	for _, want := range []string{"config line 2: unknown key", "config line 4: database.driver", "config line 7: unknown key \"skew\" in mfa.totp"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %q", err, want)
		}
	}
}

func TestAliasesAreFollowed(t *testing.T) {
	src := withMinimal(`rollout:
  phases:
    - name: one
      starts: 2027-01-01
      audience: &admins [admin, operator]
      requirement: notify
    - name: two
      starts: 2027-02-01
      audience: *admins
      requirement: notify
`)
	cfg := mustParse(t, src, nil)
	if got := strings.Join(cfg.Rollout.Phases[1].Audience, ","); got != "admin,operator" {
		t.Errorf("got %v, want %v", got, "admin,operator")
	}
}
