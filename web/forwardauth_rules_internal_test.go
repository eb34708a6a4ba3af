package web

import (
	"net/url"
	"testing"
)

func TestAccessRules(t *testing.T) {
	rules := newAccessRules([]ForwardAuthRule{
		{Host: "wiki.example.com", Path: "/admin", Roles: []string{"admin"}},
		{Host: "WIKI.example.com", Path: "/team/", Roles: []string{"support", "operator"}},
		{Host: "*.internal.example.com", Roles: []string{"operator"}},
		{Host: "open.example.com", Roles: []string{"all"}},
		{Host: "*", Path: "/secret", Roles: []string{"admin"}},
	})
	user, admin, support := []string{"user"}, []string{"admin", "user"}, []string{"support"}
	tests := []struct {
		name  string
		host  string
		path  string
		roles []string
		want  bool
	}{
		{"admin path, no role", "wiki.example.com", "/admin", user, false},
		{"admin subpath, no role", "wiki.example.com", "/admin/users", user, false},
		{"admin path, role", "wiki.example.com", "/admin/users", admin, true},
		{"segment, not prefix", "wiki.example.com", "/administrator", user, true},
		{"trailing-slash prefix", "wiki.example.com", "/team/a", support, true},
		{"trailing-slash prefix, no role", "wiki.example.com", "/team/a", user, false},
		{"trailing-slash prefix, bare", "wiki.example.com", "/team", user, true},
		{"wildcard", "db.internal.example.com", "/", user, false},
		{"wildcard deeper", "a.db.internal.example.com", "/", []string{"operator"}, true},
		{"wildcard is not the apex", "internal.example.com", "/", user, true},
		{"wildcard look-alike", "evilinternal.example.com", "/", user, true},
		{"all", "open.example.com", "/secret", user, true},
		{"any host", "elsewhere.example.org", "/secret/x", user, false},
		{"no rule", "elsewhere.example.org", "/", user, true},
		{"no roles at all", "wiki.example.com", "/admin", nil, false},
		// The readings of other applications (see allows).
		{"dot segments", "wiki.example.com", "/team/../admin", user, false},
		{"repeated slashes", "wiki.example.com", "//admin", user, false},
		{"under the rule before its dot segments", "wiki.example.com", "/admin/../x", user, false},
		{"upper case", "wiki.example.com", "/ADMIN/users", user, false},
		{"path parameter", "wiki.example.com", "/admin;jsessionid=1/users", user, false},
		{"trailing dot", "wiki.example.com", "/admin./users", user, false},
		{"trailing space", "wiki.example.com", "/admin ", user, false},
		{"dots and spaces only", "wiki.example.com", "/team/x/.. /admin", user, false},
		{"parameter and trailing dot", "wiki.example.com", "/admin.;x", user, false},
		{"host with a trailing dot", "wiki.example.com.", "/admin", user, false},
		{"upper case, open to the role", "WIKI.example.com", "/TEAM/a", support, true},
		{"a dot inside a name", "wiki.example.com", "/admin.html", user, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.allows(&url.URL{Scheme: "https", Host: tt.host, Path: tt.path}, tt.roles); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if rules.allows(nil, admin) {
		t.Error("unknown URL with rules: got allowed, want refused")
	}
	if !accessRules(nil).allows(nil, user) {
		t.Error("unknown URL without rules: got refused, want allowed")
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice Smith", "Alice Smith"},
		{"José Ñúñez", "José Ñúñez"},
		{"a\r\nX-Evil: 1", "aX-Evil: 1"},
		{"tab\there\x00\x7f\u0085", "tabhere"},
		{"bad \xff utf-8", "bad  utf-8"},
	}
	for _, tt := range tests {
		if got := headerValue(tt.in); got != tt.want {
			t.Errorf("headerValue(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
