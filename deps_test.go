package mfagate_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mfagate/mfagate"

// TestImportRules keeps the layout of STYLE.md true: the domain at the
// centre imports nothing of ours, pure packages do no I/O, use cases never
// reach an adapter, adapters do not reach each other, and only cli wires
// them together.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Skipf("go list is not available: %v", err)
	}
	pure := []string{"password", "rollout", "totp", "emailcode", "recovery", "seal"}
	adapters := []string{"sqlstore", "mail", "worker", "web", "config"}
	allowed := map[string][]string{ // package → module packages it may import
		"":            nil,
		"account":     append([]string{""}, pure...),
		"cli":         nil, // anything
		"cmd/mfagate": {"cli"},
		"config":      {"", "rollout"},
		"web":         append([]string{"", "account"}, pure...),
	}
	for _, p := range pure {
		allowed[p] = []string{""}
	}
	for _, a := range adapters {
		if _, ok := allowed[a]; !ok {
			allowed[a] = append([]string{""}, pure...)
		}
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		top := pkg
		if !strings.HasPrefix(pkg, "cmd/") {
			top, _, _ = strings.Cut(pkg, "/")
		}
		may, known := allowed[top]
		if !known || top == "cli" || top == "e2e" || pkg != top {
			continue // test helpers (mailtest, storetest) and the wiring
		}
		checked++
		for _, imp := range fields[1:] {
			if slices.Contains(pure, top) && (imp == "net/http" || imp == "database/sql" || imp == "os") {
				t.Errorf("%s imports %s: pure packages take I/O as arguments", pkg, imp)
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which STYLE.md does not allow", pkg, imp)
			}
		}
	}
	if checked < 6 {
		t.Fatalf("checked %d packages, want at least 6: is go list output as expected?", checked)
	}
}
