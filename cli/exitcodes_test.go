package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes holds every subcommand to the README's rule (see
// usageError in cli.go): 2 and one sentence for a command typed wrong —
// a missing flag or argument, one too many, flags that exclude each
// other, a value outside a fixed choice — found before anything is
// opened or asked for; 1 for a well-formed command whose action failed —
// a name not found or taken, a value the installation's rules refuse, a
// file or configuration that cannot be read.
func TestExitCodes(t *testing.T) {
	cfg := install(t, "")
	dir := filepath.Dir(cfg)
	mustRun(t, "", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user", "--no-password", "--config", cfg)
	mustRun(t, "", "token", "create", "--name", "bot", "--role", "support", "--config", cfg)
	existing := filepath.Join(dir, "existing.key")
	mustRun(t, "", "keygen", existing)
	missing := filepath.Join(dir, "missing.yaml")

	const pw = "violet harbour compass\n"
	tests := []struct {
		name     string
		stdin    string
		args     []string
		noConfig bool // do not append --config
		code     int
		says     string
	}{
		// Commands and flags that do not exist.
		{"no command", "", nil, true, 2, "Commands:"},
		{"unknown command", "", []string{"frobnicate"}, true, 2, `unknown command "frobnicate"`},
		{"unknown user subcommand", "", []string{"user", "delete", "alice"}, false, 2, `unknown user subcommand "delete"`},
		{"unknown token subcommand", "", []string{"token", "rotate"}, false, 2, `unknown token subcommand "rotate"`},
		{"unknown rollout subcommand", "", []string{"rollout", "start"}, false, 2, `unknown rollout subcommand "start"`},
		{"unknown flag", "", []string{"user", "show", "alice", "--verbose"}, false, 2, "flag provided but not defined: -verbose"},

		// user add: the command line is checked before the password is
		// asked for, and before the configuration is read.
		{"user add without --email, no terminal", "", []string{"user", "add", "bob", "--roles", "user"}, false, 2, "give --email ADDRESS"},
		{"user add without --email or --config", "", []string{"user", "add", "bob"}, true, 2, "give --email ADDRESS"},
		{"user add without --email, --password-stdin", "", []string{"user", "add", "bob", "--roles", "user", "--password-stdin"}, false, 2, "give --email ADDRESS"},
		{"user add without --roles", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--no-password"}, false, 2, "give --roles"},
		{"user add without a name", "", []string{"user", "add", "--email", "bob@example.com", "--roles", "user"}, false, 2, "give exactly one username"},
		{"user add with two names", "", []string{"user", "add", "bob", "carl", "--email", "bob@example.com", "--roles", "user"}, false, 2, "give exactly one username"},
		{"user add --invite --no-password", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--invite", "--no-password"}, false, 2, "not several"},
		{"user add --config and --data", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--no-password", "--data", dir}, false, 2, "not both"},
		{"user add without --config", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--no-password"}, true, 2, "--config FILE is required"},
		{"user add without a terminal", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user"}, false, 2, "pass the password with --password-stdin"},
		{"user add, empty standard input", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--password-stdin"}, false, 1, "standard input held no password"},
		{"user add, a taken username", "", []string{"user", "add", "Alice", "--email", "a2@example.com", "--roles", "user", "--no-password"}, false, 1, "already taken"},
		{"user add, a refused address", "", []string{"user", "add", "bob", "--email", "bob-at-example", "--roles", "user", "--no-password"}, false, 1, "correct format"},
		{"user add, a role the configuration lacks", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "wizard", "--no-password"}, false, 1, `role "wizard" is not one of the roles`},
		{"user add, a short password", "short\n", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--password-stdin"}, false, 1, "The password must be at least"},
		{"user add, a missing configuration", "", []string{"user", "add", "bob", "--email", "bob@example.com", "--roles", "user", "--no-password", "--config", missing}, true, 1, "no such file"},

		{"user import without a file", "", []string{"user", "import"}, false, 2, "give exactly one CSV file"},
		{"user import, a missing file", "", []string{"user", "import", filepath.Join(dir, "nobody.csv")}, false, 1, "open import file"},
		{"user invite without a name", "", []string{"user", "invite"}, false, 2, "give exactly one username"},
		{"user invite, nobody", "", []string{"user", "invite", "nobody"}, false, 1, `user "nobody" not found`},
		{"user list with an argument", "", []string{"user", "list", "admins"}, false, 2, `takes no arguments, only options (got "admins")`},
		{"user show without a name", "", []string{"user", "show"}, false, 2, "give exactly one username"},
		{"user show, nobody", "", []string{"user", "show", "nobody"}, false, 1, `user "nobody" not found`},
		{"user set-roles without --roles", "", []string{"user", "set-roles", "alice", "--reason", "x"}, false, 2, "give --roles"},
		{"user set-roles without --roles or --config", "", []string{"user", "set-roles", "alice", "--reason", "x"}, true, 2, "give --roles"},
		{"user set-roles, a role the configuration lacks", "", []string{"user", "set-roles", "alice", "--roles", "wizard", "--reason", "x"}, false, 1, "not one of the roles"},
		{"user set-email without --email", "", []string{"user", "set-email", "alice", "--reason", "x"}, true, 2, "give --email"},
		{"user set-email, a refused address", "", []string{"user", "set-email", "alice", "--email", "alice-at-example", "--reason", "x"}, false, 1, "correct format"},
		{"user set-password with two names", pw, []string{"user", "set-password", "alice", "bob", "--password-stdin"}, false, 2, "give exactly one username"},
		{"user set-password without a terminal", "", []string{"user", "set-password", "alice"}, false, 2, "pass the password with --password-stdin"},
		{"user set-password, nobody", pw, []string{"user", "set-password", "nobody", "--password-stdin"}, false, 1, `user "nobody" not found`},
		{"user set-password, a short password", "short\n", []string{"user", "set-password", "alice", "--password-stdin"}, false, 1, "The password must be at least"},
		{"user disable without --reason", "", []string{"user", "disable", "alice"}, false, 2, "give a --reason"},
		{"user disable, nobody", "", []string{"user", "disable", "nobody", "--reason", "x"}, false, 1, `user "nobody" not found`},
		{"user reset-mfa without a name", "", []string{"user", "reset-mfa", "--reason", "x"}, false, 2, "give exactly one username"},
		{"user reset-mfa, nobody", "", []string{"user", "reset-mfa", "nobody", "--reason", "x"}, false, 1, `user "nobody" not found`},

		{"token create with an unknown --role", "", []string{"token", "create", "--name", "x", "--role", "admin"}, false, 2, `--role is operator or support, not "admin"`},
		{"token create with an unknown --role, no --config", "", []string{"token", "create", "--name", "x", "--role", "admin"}, true, 2, "--role is operator or support"},
		{"token create without --name", "", []string{"token", "create", "--role", "support"}, false, 2, "give --name and --role"},
		{"token create, a taken name", "", []string{"token", "create", "--name", "bot", "--role", "support"}, false, 1, `a token named "bot" already exists`},
		{"token revoke without a name", "", []string{"token", "revoke"}, false, 2, "give exactly one token name"},
		{"token revoke, no such token", "", []string{"token", "revoke", "nobot"}, false, 1, `no token named "nobot"`},

		{"rollout show without --config", "", []string{"rollout", "show"}, true, 2, "--config FILE is required"},
		{"rollout show with an argument", "", []string{"rollout", "show", "now"}, false, 2, `"mfagate rollout show" takes no arguments`},
		{"rollout show, a time not written as one", "", []string{"rollout", "show", "--at", "next week"}, false, 2, "is not a date such as"},
		{"rollout simulate without --at", "", []string{"rollout", "simulate"}, false, 2, "give --at TIME"},
		{"rollout simulate with an argument", "", []string{"rollout", "simulate", "alice", "--at", "2027-07-13"}, false, 2, `takes no arguments, only options (got "alice")`},
		{"rollout simulate, nobody", "", []string{"rollout", "simulate", "--at", "2027-07-13", "--user", "nobody"}, false, 1, `user "nobody" not found`},
		{"rollout simulate --list and --user", "", []string{"rollout", "simulate", "--at", "2027-07-13", "--list", "--user", "ada"}, false, 2, "give --list or --user NAME, not both"},
		{"rollout simulate --csv without --list", "", []string{"rollout", "simulate", "--at", "2027-07-13", "--csv"}, false, 2, "--csv goes with --list"},
		{"rollout simulate --list --csv --json", "", []string{"rollout", "simulate", "--at", "2027-07-13", "--list", "--csv", "--json"}, false, 2, "give --csv or --json, not both"},
		{"rollout simulate --list, a time not written as one", "", []string{"rollout", "simulate", "--at", "soon", "--list"}, false, 2, "is not a date such as"},
		{"rollout extend without --until", "", []string{"rollout", "extend", "alice", "--reason", "x"}, false, 2, "give --until DATE and --reason TEXT"},
		{"rollout extend, nobody", "", []string{"rollout", "extend", "nobody", "--until", "2027-08-15", "--reason", "x"}, false, 1, `user "nobody" not found`},
		{"rollout validate with an argument", "", []string{"rollout", "validate", "mfagate.yaml"}, false, 2, `"mfagate rollout validate" takes no arguments`},
		{"rollout validate, a missing configuration", "", []string{"rollout", "validate", "--config", missing}, true, 1, "no such file"},
		{"rollout recount with an argument", "", []string{"rollout", "recount", "fix"}, false, 2, "takes no arguments"},
		{"rollout run-due with an argument", "", []string{"rollout", "run-due", "now"}, false, 2, "takes no arguments"},

		{"keygen without a file", "", []string{"keygen"}, true, 2, "give exactly one file"},
		{"keygen with two files", "", []string{"keygen", "a.key", "b.key"}, true, 2, "give exactly one file"},
		{"keygen over a key", "", []string{"keygen", existing}, true, 1, "already exists"},
		{"backup without a file", "", []string{"backup"}, false, 2, "give exactly one file to write"},
		{"backup with --config and --data", "", []string{"backup", filepath.Join(dir, "b.db"), "--data", dir}, false, 2, "not both"},
		{"restore without a file", "", []string{"restore"}, false, 2, "give exactly one backup file"},
		{"restore, a missing backup", "", []string{"restore", filepath.Join(dir, "nothing.db")}, false, 1, "does not exist"},

		{"serve without --config", "", []string{"serve"}, true, 2, "--config FILE is required"},
		{"serve with an argument", "", []string{"serve", "now"}, false, 2, `"mfagate serve" takes no arguments`},
		{"serve --clock without --rehearsal", "", []string{"serve", "--clock", "2027-07-13"}, true, 2, "add --rehearsal"},
		{"serve, a missing configuration", "", []string{"serve", "--config", missing}, true, 1, "no such file"},
		{"migrate without --config", "", []string{"migrate"}, true, 2, "--config FILE is required"},
		{"migrate with an argument", "", []string{"migrate", "up"}, false, 2, `"mfagate migrate" takes no arguments`},
		{"demo on a public address", "", []string{"demo", "--addr", "0.0.0.0:8080"}, true, 2, "only on this machine"},
		{"demo, an address not host:port", "", []string{"demo", "--addr", "8080"}, true, 2, "is not host:port"},
		{"demo with an argument", "", []string{"demo", "now"}, true, 2, `"mfagate demo" takes no arguments`},
		{"version with an argument", "", []string{"version", "now"}, true, 2, "version takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !tt.noConfig {
				args = append(append([]string(nil), args...), "--config", cfg)
			}
			r := run(t, tt.stdin, args...)
			if r.code != tt.code || !containsFold(r.stdout+r.stderr, tt.says) {
				t.Fatalf("mfagate %s: got %d, stderr %q; want %d saying %q", strings.Join(args, " "), r.code, r.stderr, tt.code, tt.says)
			}
			if len(args) == 0 {
				return // no command prints the list of commands
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "mfagate: ") {
				t.Fatalf("stderr is not one sentence: %q", r.stderr)
			}
			if tt.code == 2 && strings.Contains(r.stderr, "terminal") && !strings.Contains(tt.says, "password-stdin") {
				t.Fatalf("a usage mistake reported as a missing terminal: %q", r.stderr)
			}
		})
	}

	// None of the refused commands changed anything.
	if r := run(t, "", "user", "show", "bob", "--config", cfg); r.code != 1 {
		t.Fatalf("a refused user add created bob: %d %q", r.code, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.db")); err == nil {
		t.Fatal("a refused backup wrote a file")
	}
	toks := mustRun(t, "", "token", "list", "--config", cfg)
	if strings.Contains(toks, "\nx ") {
		t.Fatalf("a refused token create made a token:\n%s", toks)
	}
}
