package mfagate_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cleanFixture is a small module laid out as STYLE.md says, with every kind
// of package the rules tell apart: the root, a pure package with a
// sub-package, account, adapters, worker using account, test helpers, cli
// and cmd. It uses what the rules allow at their edges (time's types, a
// seeded math/rand/v2, an io.Reader for randomness, net/url, a variable
// named time) and has a test file that does what only tests may.
var cleanFixture = map[string]string{
	"go.mod": "module example.com/gate\n\ngo 1.26\n",
	"gate.go": `package gate

import (
	"context"
	"time"
)

type Clock interface{ Now() time.Time }

type Store interface{ Get(ctx context.Context) error }
`,
	"rollout/rollout.go": `package rollout

import (
	"io"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"example.com/gate"
	"example.com/gate/rollout/phase"
)

var once sync.Once

type Person struct{ ID string }

func Decide(p Person, now time.Time, c gate.Clock) bool {
	time := now.Add(phase.Grace) // a local name, not the package
	return time.After(now)
}

func Pick(seed uint64, n int) int { return rand.New(rand.NewPCG(seed, seed)).IntN(n) }

func Token(random io.Reader) ([]byte, error) {
	b := make([]byte, 8)
	_, err := io.ReadFull(random, b)
	return b, err
}

func Link(s string) string { return url.PathEscape(s) }
`,
	"rollout/phase/phase.go": `package phase

import "time"

const Grace = 24 * time.Hour
`,
	"rollout/rollout_test.go": `package rollout_test

import (
	"os"
	"testing"
	"time"
)

func TestNow(t *testing.T) { _, _ = os.Getwd(); _ = time.Now() }
`,
	"totp/totp.go": "package totp\n\nimport \"example.com/gate\"\n\nvar _ gate.Clock\n",
	"account/account.go": `package account

import (
	"crypto/rand"
	"time"

	"example.com/gate"
	"example.com/gate/rollout"
)

func Run(c gate.Clock) bool { return rollout.Decide(rollout.Person{}, time.Now(), c) }

func Token() ([]byte, error) { return rollout.Token(rand.Reader) }
`,
	"web/web.go": `package web

import (
	"net/http"

	"example.com/gate/account"
	"example.com/gate/web/api"
	"example.com/gate/web/console"
)

func Handler() http.Handler { _, _, _ = account.Run, api.Render, console.Render; return http.NotFoundHandler() }
`,
	"web/console/console.go": `package console

import (
	"example.com/gate/account"
	"example.com/gate/web/internal/render"
)

var Render, Run = render.Page, account.Run
`,
	"web/api/api.go": `package api

import "example.com/gate/web/internal/render"

var Render = render.Page
`,
	"web/internal/render/render.go": `package render

func Page() {}
`,
	"worker/worker.go": `package worker

import "example.com/gate/account"

var Job = account.Run
`,
	"mail/mail.go": `package mail

import "net"

var Dial = net.Dial
`,
	"mail/mailtest/mailtest.go": `package mailtest

import (
	"net"
	"testing"

	"example.com/gate/mail"
)

func Start(t testing.TB) net.Listener { _ = mail.Dial; return nil }
`,
	"sqlstore/sqlstore.go": `package sqlstore

import "database/sql"

var Open = sql.Open
`,
	"sqlstore/sqltest/sqltest.go": `package sqltest

import (
	"testing"

	"example.com/gate/sqlstore"
)

func New(tb testing.TB) { _ = sqlstore.Open }
`,
	"sqlstore/storetest/storetest.go": `package storetest

import (
	"testing"

	"example.com/gate"
)

func Run(t *testing.T, s gate.Store) {}
`,
	"config/config.go": `package config

import (
	"os"

	"example.com/gate/rollout"
)

var Read, Person = os.ReadFile, rollout.Person{}
`,
	"cli/cli.go": `package cli

import (
	"example.com/gate/mail"
	"example.com/gate/sqlstore"
	"example.com/gate/web"
	"example.com/gate/worker"
)

func Run() int { _, _, _, _ = mail.Dial, sqlstore.Open, web.Handler, worker.Job; return 0 }
`,
	"cmd/gate/main.go": `package main

import (
	"os"

	"example.com/gate/cli"
)

func main() { os.Exit(cli.Run()) }
`,
}

// TestImportRulesCatchMutations runs TestImportRules' checker on the clean
// fixture and on copies that each break one of STYLE.md's rules: the clean
// one passes, and each mutation is reported, with nothing else.
func TestImportRulesCatchMutations(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string // file → new content ("" removes it)
		reports []string          // each must appear in one violation, and there are no others
	}{
		{name: "clean layout", change: nil, reports: nil},
		{
			name:    "pure package imports net",
			change:  map[string]string{"rollout/net.go": "package rollout\n\nimport \"net\"\n\nvar Lookup = net.LookupHost\n"},
			reports: []string{"rollout imports net: a pure package does no I/O"},
		},
		{
			name:    "pure package imports os/exec",
			change:  map[string]string{"rollout/exec.go": "package rollout\n\nimport \"os/exec\"\n\nvar Command = exec.Command\n"},
			reports: []string{"rollout imports os/exec: a pure package does no I/O"},
		},
		{
			name:    "pure package calls time.Now",
			change:  map[string]string{"rollout/now.go": "package rollout\n\nimport \"time\"\n\nfunc Today() time.Time { return time.Now() }\n"},
			reports: []string{"rollout/now.go:5 uses time.Now: pure packages take the time as an argument"},
		},
		{
			name:    "test helper imports web",
			change:  map[string]string{"mail/mailtest/web.go": "package mailtest\n\nimport \"example.com/gate/web\"\n\nvar Handler = web.Handler\n"},
			reports: []string{"mail/mailtest imports example.com/gate/web: a test helper keeps the rules of mail: an adapter imports the root and the pure packages"},
		},
		{
			name:    "pure sub-package imports os",
			change:  map[string]string{"rollout/phase/env.go": "package phase\n\nimport \"os\"\n\nvar Zone = os.Getenv(\"TZ\")\n"},
			reports: []string{"rollout/phase imports os: a pure package does no I/O"},
		},
		{
			name:    "pure sub-package calls time.Since through a renamed import",
			change:  map[string]string{"rollout/phase/since.go": "package phase\n\nimport clock \"time\"\n\nfunc Age(t clock.Time) clock.Duration { return clock.Since(t) }\n"},
			reports: []string{"rollout/phase/since.go:5 uses time.Since"},
		},
		{
			name:    "pure package calls time.Until through a dot import",
			change:  map[string]string{"rollout/until.go": "package rollout\n\nimport . \"time\"\n\nfunc Left(t Time) Duration { return Until(t) }\n"},
			reports: []string{"rollout/until.go:5 uses time.Until"},
		},
		{
			name:   "pure package reads crypto/rand",
			change: map[string]string{"rollout/rand.go": "package rollout\n\nimport \"crypto/rand\"\n\nfunc Key() string { return rand.Text() }\n"},
			reports: []string{
				"rollout imports crypto/rand: a pure package does no I/O",
				"rollout/rand.go:5 uses crypto/rand.Text: pure packages take randomness as an argument",
			},
		},
		{
			name:    "pure package reads math/rand/v2's global source",
			change:  map[string]string{"rollout/dice.go": "package rollout\n\nimport \"math/rand/v2\"\n\nfunc Dice() int { return rand.IntN(6) }\n"},
			reports: []string{"rollout/dice.go:5 uses math/rand/v2.IntN"},
		},
		{
			name:    "pure package prints to standard output",
			change:  map[string]string{"rollout/print.go": "package rollout\n\nimport \"fmt\"\n\nfunc Say() { fmt.Println(\"hi\") }\n"},
			reports: []string{"rollout/print.go:5 uses fmt.Println: pure packages do no I/O"},
		},
		{
			name:    "pure package imports another pure package",
			change:  map[string]string{"totp/totp.go": "package totp\n\nimport \"example.com/gate/rollout\"\n\nvar P = rollout.Person{}\n"},
			reports: []string{"totp imports example.com/gate/rollout: a pure package imports only the root"},
		},
		{
			name:    "root imports the module",
			change:  map[string]string{"clock.go": "package gate\n\nimport \"example.com/gate/rollout/phase\"\n\nconst Grace = phase.Grace\n"},
			reports: []string{"the root package imports example.com/gate/rollout/phase: the root imports nothing from the module"},
		},
		{
			name:    "account imports an adapter",
			change:  map[string]string{"account/store.go": "package account\n\nimport \"example.com/gate/sqlstore\"\n\nvar Open = sqlstore.Open\n"},
			reports: []string{"account imports example.com/gate/sqlstore: account imports the root and the pure packages, never an adapter"},
		},
		{
			name:    "worker imports an adapter",
			change:  map[string]string{"worker/mail.go": "package worker\n\nimport \"example.com/gate/mail\"\n\nvar Dial = mail.Dial\n"},
			reports: []string{"worker imports example.com/gate/mail: worker imports the root, the pure packages and account, and no adapter"},
		},
		{
			name:    "adapter sub-package imports another adapter",
			change:  map[string]string{"web/api/store.go": "package api\n\nimport \"example.com/gate/sqlstore\"\n\nvar Open = sqlstore.Open\n"},
			reports: []string{"web/api imports example.com/gate/sqlstore: an adapter imports"},
		},
		{
			name:    "a part of web imports another",
			change:  map[string]string{"web/console/api.go": "package console\n\nimport \"example.com/gate/web/api\"\n\nvar API = api.Render\n"},
			reports: []string{"web/console imports example.com/gate/web/api: only web mounts web/api"},
		},
		{
			name:    "cli mounts a part of web itself",
			change:  map[string]string{"cli/console.go": "package cli\n\nimport \"example.com/gate/web/console\"\n\nvar Console = console.Render\n"},
			reports: []string{"cli imports example.com/gate/web/console: only web mounts web/console"},
		},
		{
			name:    "production code imports a test helper",
			change:  map[string]string{"mail/dev.go": "package mail\n\nimport \"example.com/gate/sqlstore/storetest\"\n\nvar Suite = storetest.Run\n"},
			reports: []string{"mail imports example.com/gate/sqlstore/storetest: a test helper is for tests only"},
		},
		{
			name:    "the behaviour suite imports its backend",
			change:  map[string]string{"sqlstore/storetest/open.go": "package storetest\n\nimport \"example.com/gate/sqlstore\"\n\nvar Open = sqlstore.Open\n"},
			reports: []string{"sqlstore/storetest imports example.com/gate/sqlstore: the behaviour suite imports only the root"},
		},
		{
			name:    "the behaviour suite uses SQL",
			change:  map[string]string{"sqlstore/storetest/open.go": "package storetest\n\nimport \"database/sql\"\n\nvar Open = sql.Open\n"},
			reports: []string{"sqlstore/storetest imports database/sql: the behaviour suite checks a store through its interface: no SQL"},
		},
		{
			name:    "cmd imports more than cli",
			change:  map[string]string{"cmd/gate/web.go": "package main\n\nimport \"example.com/gate/web\"\n\nvar _ = web.Handler\n"},
			reports: []string{"cmd/gate imports example.com/gate/web: cmd imports only cli"},
		},
		{
			name:    "a package with no place in the layout",
			change:  map[string]string{"utils/utils.go": "package utils\n\nfunc Max(a, b int) int { return max(a, b) }\n"},
			reports: []string{"utils: STYLE.md's layout has no place for this package"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFixture(t, tt.change)
			r, err := checkModule(dir, nil)
			if err != nil {
				t.Fatalf("checkModule: %v", err)
			}
			if r.module != "example.com/gate" || r.pure < 2 {
				t.Fatalf("checked module %q with %d pure packages, want example.com/gate with at least 2", r.module, r.pure)
			}
			for _, want := range tt.reports {
				if !containsPart(r.violations, want) {
					t.Errorf("not reported: %q; got %q", want, r.violations)
				}
			}
			if len(r.violations) != len(tt.reports) {
				t.Errorf("got %d violations %q, want %d", len(r.violations), r.violations, len(tt.reports))
			}
			for _, v := range r.violations {
				t.Log(v)
			}
		})
	}
}

// TestImportRulesFailWhenUnloadable shows that a package that cannot be
// loaded stops the check with an error instead of passing unchecked.
func TestImportRulesFailWhenUnloadable(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"missing import", map[string]string{"web/gone.go": "package web\n\nimport \"example.com/gate/nowhere\"\n\nvar _ = nowhere.X\n"}, "nowhere"},
		{"syntax error in a pure package", map[string]string{"rollout/broken.go": "package rollout\n\nfunc {\n"}, "rollout"},
		{"type error in a pure package", map[string]string{"totp/totp.go": "package totp\n\nvar N int = \"six\"\n"}, "totp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := checkModule(writeFixture(t, tt.change), nil)
			if err == nil {
				t.Fatalf("checkModule passed with %d packages and violations %q, want an error", len(r.packages), r.violations)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to name %q", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// TestImportRulesReportStaleExceptions shows that an exception for an
// import the code no longer has is reported, so that none outlives its
// reason.
func TestImportRulesReportStaleExceptions(t *testing.T) {
	r, err := checkModule(writeFixture(t, nil), []importException{{from: "rollout", to: "os", until: "never"}})
	if err != nil {
		t.Fatalf("checkModule: %v", err)
	}
	want := "rollout no longer imports os: remove its exception (never)"
	if len(r.violations) != 1 || r.violations[0] != want {
		t.Errorf("got %q, want [%q]", r.violations, want)
	}
}

// writeFixture writes the clean fixture with change applied into a
// temporary directory and returns it.
func writeFixture(t *testing.T, change map[string]string) string {
	t.Helper()
	files := maps.Clone(cleanFixture)
	for name, content := range change {
		if content == "" {
			delete(files, name)
		} else {
			files[name] = content
		}
	}
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func containsPart(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}
