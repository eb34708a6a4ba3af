package mfagate_test

import (
	"slices"
	"strings"
	"testing"
)

// TestImportRules keeps STYLE.md's "Which package may import which" true
// for every package of the module, sub-packages and test helpers included:
// the root imports nothing of ours and does no I/O; pure packages import
// only the root and non-I/O standard packages and never read the clock or
// randomness; account never reaches an adapter; adapters do not reach each
// other (web and worker may use account), and only web mounts its parts
// (web/api, web/console), which share web/internal; the storage behaviour suite
// (sqlstore/storetest) reaches a store only through the root's interface,
// with no SQL; only cli (and the load-test programs under bench) wires
// them; cmd imports only cli. It fails, rather
// than skips, when the packages cannot be loaded.
// TestImportRulesCatchMutations shows that it can fail.
func TestImportRules(t *testing.T) {
	r, err := checkModule(".", nil)
	if err != nil {
		t.Fatalf("cannot check the import rules: %v", err)
	}
	if r.module != module {
		t.Fatalf("loaded module %s, want %s", r.module, module)
	}
	// The layout's packages must all have been loaded and checked, so that
	// a load that quietly finds less cannot pass.
	for _, want := range append([]string{"", "account", "sqlstore", "sqlstore/sqltest", "sqlstore/storetest", "mail", "mail/mailtest",
		"worker", "web", "web/api", "web/console", "web/internal/site", "web/webtest", "config", "cli", "cmd/mfagate"}, purePackages...) {
		if !slices.Contains(r.packages, want) {
			t.Errorf("package %q was not checked; checked %q", want, r.packages)
		}
	}
	if r.pure < len(purePackages) {
		t.Errorf("checked the calls of %d pure packages, want at least %d", r.pure, len(purePackages))
	}
	for _, v := range r.violations {
		t.Error(v)
	}
	if t.Failed() {
		t.Log("STYLE.md, \"Which package may import which\", says what each package may import")
	} else {
		t.Logf("checked %d packages (%d pure ones for clock and randomness): %s", len(r.packages), r.pure, strings.Join(names(r.packages), ", "))
	}
}

const module = "github.com/mfagate/mfagate"

func names(rels []string) []string {
	out := make([]string, len(rels))
	for i, rel := range rels {
		out[i] = name(rel)
	}
	return out
}
