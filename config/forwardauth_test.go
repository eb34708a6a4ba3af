package config

import (
	"reflect"
	"strings"
	"testing"
)

// rules returns forward_auth with the given rules, one flow mapping each,
// and a trusted proxy so that no warning is due.
func rules(rs ...string) string {
	var b strings.Builder
	b.WriteString("server:\n  trusted_proxies: [127.0.0.1]\nforward_auth:\n  rules:\n")
	for _, r := range rs {
		b.WriteString("    - " + r + "\n")
	}
	return b.String()
}

func TestForwardAuthRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
		line string
	}{
		{"no host", rules("{path: /admin}"), `forward_auth.rules[0]: host is required`, "/admin"},
		{"host with scheme", rules("{host: 'https://app.example.com'}"), `forward_auth.rules[0] (host "https://app.example.com"): host "https://app.example.com" is not a host name`, "https://"},
		{"host with port", rules("{host: 'app.example.com:8443'}"), `is not a host name such as app.example.com (write it without a scheme, port or path)`, "8443"},
		{"wildcard inside", rules("{host: 'app.*.example.com'}"), `may only have a wildcard as its first label`, "app.*"},
		{"bare wildcard label", rules("{host: '*.'}"), `is not a host name`, "'*.'"},
		{"path relative", rules("{host: app.example.com}", "{host: app.example.com, path: admin}"), `forward_auth.rules[1] (host "app.example.com"): path "admin" must start with /`, "path: admin"},
		{"path query", rules("{host: app.example.com, path: '/a?b'}"), `must be a plain path, without a query`, "/a?b"},
		{"path dots", rules("{host: app.example.com, path: /a/../b}"), `must not contain . or .. segments`, "/a/../b"},
		{"empty role", rules("{host: app.example.com, roles: [admin, '']}"), `forward_auth.rules[0] (host "app.example.com"): roles has an empty entry`, "roles"},
		{"all with others", rules("{host: app.example.com, roles: [all, admin]}"), `roles lists "all" with other roles`, "roles"},
		{"shadowed", rules("{host: App.example.com, path: /x}", "{host: app.example.com, path: /x, roles: [admin]}"),
			`forward_auth.rules[1] (host "app.example.com"): forward_auth.rules[0] has the same host and path and comes first, so this rule is never used`, "roles: [admin]"},
		{"not a list", "forward_auth:\n  rules: app.example.com\n", "forward_auth.rules", "rules:"},
		{"unknown key", rules("{host: app.example.com, role: [admin]}"), `unknown key "role"`, "role:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := withMinimal(tt.src)
			_, err := Parse([]byte(src), nil)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			var found *Problem
			for _, p := range err.(*Error).Problems {
				if strings.Contains(p.Message, tt.want) {
					found = &p
					break
				}
			}
			if found == nil {
				t.Fatalf("got %v, want a problem containing %q", err, tt.want)
			}
			if got, want := found.Line, lineOf(t, src, tt.line); got != want {
				t.Errorf("line: got %v, want %v (%s)", got, want, found)
			}
		})
	}
}

func TestForwardAuthRuleDefaults(t *testing.T) {
	cfg := mustParse(t, withMinimal(rules(
		"{host: app.example.com}",
		"{host: '*.example.com', path: /admin/, roles: [admin, operator]}",
		"{host: '*'}",
		"{host: 127.0.0.1, path: /admin-only}",
		"{host: '::1'}",
	)), nil)
	want := []AccessRule{
		{Host: "app.example.com", Path: "/", Roles: []string{"all"}},
		{Host: "*.example.com", Path: "/admin/", Roles: []string{"admin", "operator"}},
		{Host: "*", Path: "/", Roles: []string{"all"}},
		{Host: "127.0.0.1", Path: "/admin-only", Roles: []string{"all"}},
		{Host: "::1", Path: "/", Roles: []string{"all"}},
	}
	if got := cfg.ForwardAuth.Rules; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: got %v, want none", cfg.Warnings)
	}
}

func TestForwardAuthRulesWithoutTrustedProxiesWarn(t *testing.T) {
	cfg := mustParse(t, withMinimal("forward_auth:\n  rules:\n    - {host: app.example.com, roles: [admin]}\n"), nil)
	if got := strings.Join(cfg.Warnings, " | "); !strings.Contains(got, "none are listed, so every signed-in person will be refused (403)") {
		t.Errorf("got %v, want a warning about server.trusted_proxies", got)
	}
}

func TestForwardAuthHasNoEnvVars(t *testing.T) {
	for _, v := range EnvVars() {
		if strings.HasPrefix(v.Key, "forward_auth") {
			t.Errorf("got %s for %s, want lists of records to have no variable", v.Name, v.Key)
		}
	}
}
