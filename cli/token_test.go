package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

var tokenRE = regexp.MustCompile(`(?m)^mfag_[A-Za-z0-9_-]{43}$`)

// mustToken makes an API token with "mfagate token create" and returns
// it, failing the test unless one is printed.
func mustToken(tb testing.TB, cfg, name, role string) string {
	tb.Helper()
	token := tokenRE.FindString(mustRun(tb, "", "token", "create", "--name", name, "--role", role, "--config", cfg))
	if token == "" {
		tb.Fatalf("token create %s printed no token", name)
	}
	return token
}

func TestTokenCommands(t *testing.T) {
	cfg := install(t, "")
	ok := func(args ...string) string {
		t.Helper()
		r := run(t, "", append(args, "--config", cfg)...)
		if r.code != 0 {
			t.Fatalf("%v: got %d %q", args, r.code, r.stderr)
		}
		return r.stdout
	}
	fails := func(code int, want string, args ...string) {
		t.Helper()
		r := run(t, "", append(args, "--config", cfg)...)
		if r.code != code || !containsFold(r.stderr, want) {
			t.Fatalf("%v: got %d %q, want %d with %q", args, r.code, r.stderr, code, want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Fatalf("stderr is more than one line: %q", r.stderr)
		}
	}

	if out := ok("token", "list"); !strings.Contains(out, "No API tokens yet") {
		t.Fatalf("an empty list: got %q", out)
	}
	out := ok("token", "create", "--name", "helpdesk-bot", "--role", "support")
	if !strings.Contains(out, "will not be shown again") || len(tokenRE.FindAllString(out, -1)) != 1 {
		t.Fatalf("create: got %q, want the token once on a line of its own and a warning", out)
	}
	ok("token", "create", "--name", "ops-dashboard", "--role", "operator")

	fails(2, "give --name and --role", "token", "create", "--name", "x")
	fails(2, "takes no arguments", "token", "create", "extra", "--name", "x", "--role", "support")
	fails(1, "already exists", "token", "create", "--name", "helpdesk-bot", "--role", "operator")
	fails(2, "operator or support", "token", "create", "--name", "x", "--role", "admin") // a fixed choice: a usage mistake
	fails(1, "Name the token", "token", "create", "--name", "has space", "--role", "support")
	if r := run(t, "", "token"); r.code != 2 || !containsFold(r.stderr, "name a token subcommand") {
		t.Fatalf("token alone: got %d %q, want 2", r.code, r.stderr)
	}
	fails(2, `unknown token subcommand "delete"`, "token", "delete", "x")
	fails(2, "give exactly one token name", "token", "revoke")
	fails(1, `no token named "nobody"`, "token", "revoke", "nobody")

	list := ok("token", "list")
	for _, want := range []string{"NAME", "ROLE", "CREATED", "LAST USED", "REVOKED", "helpdesk-bot", "support", "ops-dashboard", "operator", "never"} {
		if !strings.Contains(list, want) {
			t.Fatalf("token list lacks %q:\n%s", want, list)
		}
	}
	if tokenRE.MatchString(list) || strings.Contains(list, "mfag_") {
		t.Fatalf("token list shows a token:\n%s", list)
	}

	if out := ok("token", "revoke", "helpdesk-bot"); !strings.Contains(out, "Revoked the token helpdesk-bot") {
		t.Fatalf("revoke: got %q", out)
	}
	for _, line := range strings.Split(ok("token", "list"), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "helpdesk-bot" && !strings.HasSuffix(line, "UTC") {
			t.Fatalf("the revoked token does not show when it was revoked: %q", line)
		}
		if len(f) > 0 && f[0] == "ops-dashboard" && !strings.HasSuffix(line, "no") {
			t.Fatalf("a valid token shows as revoked: %q", line)
		}
	}
	if r := run(t, "", "help"); !strings.Contains(r.stdout, "token") {
		t.Fatal("help does not list the token command")
	}
}
