package mfagate_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/types"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// This file is the checker behind TestImportRules: it loads a module with
// golang.org/x/tools/go/packages and reports every import and call that
// STYLE.md's "Which package may import which" refuses. The real test runs
// it on this module; TestImportRulesCatchMutations runs it on small modules
// that break one rule each, so the checker is known to be able to fail.
//
// Only the code that is built into the program is checked (tests are not
// loaded): STYLE.md's rules say what the service depends on, while tests
// wire real adapters on purpose (a use case's tests open a real SQLite
// through sqlstore rather than a mock). Test helper packages such as
// mail/mailtest, sqlstore/sqltest, sqlstore/storetest and web/webtest are ordinary
// packages, so they are loaded and checked like any other.

// purePackages are STYLE.md's pure packages. They and their sub-packages
// import only the root, the standard library's non-I/O packages and
// golang.org/x/crypto or golang.org/x/text, and never read the clock or
// randomness themselves.
var purePackages = []string{"rollout", "totp", "emailcode", "recovery", "password", "seal"}

// adapters are STYLE.md's adapters: they import the root and the pure
// packages, never each other. web, the door to the use cases, may import
// account too, and so may worker, which runs use cases on a clock.
var adapters = []string{"sqlstore", "mail", "web", "config", "worker"}

// importException is an import that STYLE.md refuses but the code still
// has, allowed by name until the named work removes it. One that is no
// longer needed is reported, so that none outlives its reason.
type importException struct {
	from, to string // from is relative to the module ("password")
	until    string // the work that removes it
}

// report is what checkModule found.
type report struct {
	module     string
	packages   []string // every checked package, relative to the module ("" is the root)
	pure       int      // how many packages had their calls checked
	violations []string
}

// checkModule loads every package of the module in dir (tests excluded)
// and checks it against the rules. It returns an error, never a partial
// report, when the packages cannot be loaded or do not compile: a rule that
// cannot be checked must not pass.
func checkModule(dir string, exceptions []importException) (report, error) {
	all, err := load(dir, packages.NeedName|packages.NeedImports|packages.NeedModule, "./...")
	if err != nil {
		return report{}, err
	}
	if all[0].Module == nil {
		return report{}, fmt.Errorf("load packages in %s: %s is not in a module", dir, all[0].PkgPath)
	}
	r := report{module: all[0].Module.Path}
	used := map[importException]bool{}
	var pure []string
	for _, p := range all {
		if p.Module == nil || p.Module.Path != r.module {
			return report{}, fmt.Errorf("package %s is not in module %s", p.PkgPath, r.module)
		}
		rel := relative(r.module, p.PkgPath)
		r.packages = append(r.packages, rel)
		if isPure(rel) {
			pure = append(pure, p.PkgPath)
		}
		if why := unknownPackage(rel); why != "" {
			r.violations = append(r.violations, fmt.Sprintf("%s: %s", name(rel), why))
			continue
		}
		imports := make([]string, 0, len(p.Imports))
		for path := range p.Imports {
			imports = append(imports, path)
		}
		sort.Strings(imports)
		for _, imp := range imports {
			why := importRefused(r.module, rel, imp)
			if why == "" {
				continue
			}
			if e, ok := excepted(exceptions, rel, imp); ok {
				used[e] = true
				continue
			}
			r.violations = append(r.violations, fmt.Sprintf("%s imports %s: %s", name(rel), imp, why))
		}
	}
	for _, e := range exceptions {
		if !used[e] {
			r.violations = append(r.violations, fmt.Sprintf("%s no longer imports %s: remove its exception (%s)", name(e.from), e.to, e.until))
		}
	}
	if len(pure) > 0 {
		calls, err := checkPureCalls(dir, pure)
		if err != nil {
			return report{}, err
		}
		r.pure = len(pure)
		r.violations = append(r.violations, calls...)
	}
	return r, nil
}

// load runs packages.Load in dir and turns every package's errors (a
// missing import, a syntax or type error) into one error.
func load(dir string, mode packages.LoadMode, patterns ...string) ([]*packages.Package, error) {
	cfg := &packages.Config{Mode: mode, Dir: dir, Tests: false}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load packages in %s: %w", dir, err)
	}
	var errs []error
	packages.Visit(pkgs, nil, func(p *packages.Package) { // an import that is missing has the error
		for _, e := range p.Errors {
			errs = append(errs, fmt.Errorf("%s: %s", p.PkgPath, e))
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("load packages in %s: %w", dir, errors.Join(errs...))
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("load packages in %s: no packages match %v", dir, patterns)
	}
	return pkgs, nil
}

// relative returns path relative to the module: "" for the root, "web/api"
// for a sub-package, and path itself when it is outside the module.
func relative(module, path string) string {
	if path == module {
		return ""
	}
	return strings.TrimPrefix(path, module+"/")
}

func inModule(module, path string) bool {
	return path == module || strings.HasPrefix(path, module+"/")
}

// name is how a report names a package of the module.
func name(rel string) string {
	if rel == "" {
		return "the root package"
	}
	return rel
}

// top is the first element of a package path relative to the module:
// "web" for "web/internal/render".
func top(rel string) string {
	t, _, _ := strings.Cut(rel, "/")
	return t
}

func isPure(rel string) bool { return slices.Contains(purePackages, top(rel)) }

// isTestHelper tells a test helper package (mail/mailtest,
// sqlstore/sqltest): a sub-package whose name ends in "test", as the
// standard library's httptest and iotest do.
func isTestHelper(rel string) bool {
	i := strings.LastIndex(rel, "/")
	return i >= 0 && strings.HasSuffix(rel[i+1:], "test")
}

// isSuite tells the storage behaviour suite (sqlstore/storetest): it holds
// every backend to one contract through the root's Store interface, so,
// unlike the test helper that makes databases (sqlstore/sqltest), it may
// not reach a backend or SQL even though it lives under sqlstore.
func isSuite(rel string) bool { return rel == "storetest" || strings.HasSuffix(rel, "/storetest") }

// suiteRefused says why the behaviour suite may not import imp, or "" if
// the other rules decide.
func suiteRefused(module, imp string) string {
	if !inModule(module, imp) {
		if within(imp, "database/sql") {
			return "the behaviour suite checks a store through its interface: no SQL (databases for tests come from sqltest)"
		}
		return ""
	}
	if dep := relative(module, imp); dep != "" && !isPure(dep) {
		return "the behaviour suite imports only the root and the pure packages from the module: it checks a store through its interface"
	}
	return ""
}

// webPart is the part of web that dep is in, "web/api" for
// "web/api/x", or "" when dep is not in one: web mounts its parts (the
// console, the API) from its routes.go, and they share only
// web/internal.
func webPart(dep string) string {
	rest, ok := strings.CutPrefix(dep, "web/")
	if !ok || within(rest, "internal") || isTestHelper(dep) { // web/webtest is for any package's tests
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	return "web/" + first
}

// unknownPackage refuses a package that has no place in STYLE.md's layout,
// such as a utils grab-bag: its rules would otherwise go unchecked.
func unknownPackage(rel string) string {
	switch t := top(rel); {
	case rel == "", isPure(rel), t == "account", slices.Contains(adapters, t),
		t == "cli", t == "cmd", t == "e2e", t == "bench":
		return ""
	}
	return "STYLE.md's layout has no place for this package: give it one there, then a rule here"
}

// importRefused says why the package rel may not import imp, or "" if it may.
func importRefused(module, rel, imp string) string {
	if isSuite(rel) {
		if why := suiteRefused(module, imp); why != "" {
			return why
		}
	}
	if !inModule(module, imp) {
		return externalRefused(rel, imp)
	}
	dep := relative(module, imp)
	if isTestHelper(dep) && !isTestHelper(rel) {
		return "a test helper is for tests only"
	}
	if part := webPart(dep); part != "" && rel != "web" && !within(rel, part) {
		return "only web mounts " + part + ": the parts of web share web/internal, not each other"
	}
	from, to := top(rel), top(dep)
	if from == to && from != "cmd" {
		return "" // its own parts; the compiler refuses cycles
	}
	switch {
	case rel == "":
		return "the root imports nothing from the module"
	case isPure(rel):
		if dep == "" {
			return ""
		}
		return "a pure package imports only the root from the module"
	case from == "account":
		if dep == "" || isPure(dep) {
			return ""
		}
		return "account imports the root and the pure packages, never an adapter"
	case slices.Contains(adapters, from):
		if dep == "" || isPure(dep) {
			return "" // config importing rollout to parse phases is this case
		}
		if to == "account" && (from == "web" || from == "worker") {
			return ""
		}
		why := "an adapter imports the root and the pure packages (web also account), not another adapter"
		if from == "worker" {
			why = "worker imports the root, the pure packages and account, and no adapter"
		}
		if isTestHelper(rel) {
			why = "a test helper keeps the rules of " + from + ": " + why
		}
		return why
	case from == "cli", from == "e2e":
		if to == "cmd" || to == "bench" || (from == "cli" && to == "e2e") {
			return "nothing imports " + to
		}
		return ""
	case from == "cmd":
		if dep == "cli" {
			return ""
		}
		return "cmd imports only cli"
	case from == "bench":
		// Load-test programs are never part of a release. bench/hello
		// imports nothing; bench/seed wires the store and the use cases,
		// as cli does, to start sessions through account.
		if to == "cmd" || to == "cli" || to == "e2e" || isTestHelper(dep) {
			return "a bench program wires the store and the use cases itself: it imports neither cli, cmd, e2e nor a test helper"
		}
		return ""
	}
	return "STYLE.md does not allow it"
}

// externalRefused checks an import from outside the module: the root and
// the pure packages are held to the standard library's non-I/O packages
// (the pure ones also to golang.org/x/crypto and golang.org/x/text); the
// other packages may use what they need.
func externalRefused(rel, imp string) string {
	switch {
	case rel == "":
		if imp == "context" || pureStdAllowed(imp) {
			return ""
		}
		return "the root uses only the standard library's non-I/O packages"
	case isPure(rel):
		if pureStdAllowed(imp) || within(imp, "golang.org/x/crypto") || within(imp, "golang.org/x/text") {
			return ""
		}
		if isStandard(imp) {
			return "a pure package does no I/O: it takes what it reads as an argument"
		}
		return "a pure package uses only the standard library, golang.org/x/crypto and golang.org/x/text"
	}
	return ""
}

// within tells whether path is root or one of its sub-packages.
func within(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// isStandard tells a standard-library package: its first element has no dot.
func isStandard(path string) bool { return !strings.Contains(top(path), ".") }

// pureStdAllowed is the allow-list of standard packages that do no I/O of
// their own. io is in it because randomness comes in as an io.Reader
// argument; net/url only parses (the otpauth URI); time is there for its
// types, and the calls that read the clock are refused by checkPureCalls.
// Left out: os and everything that reaches files, the network, processes
// or the machine (net, os/..., io/fs, path/filepath, database/sql, log,
// syscall, runtime, reflect, unsafe, text/template and html/template, which
// parse files), crypto/rand (a read of the system's randomness),
// crypto/tls and crypto/x509 (system roots), and context, which a pure
// function has no waiting to cancel.
func pureStdAllowed(path string) bool {
	switch path {
	case "bufio", "bytes", "cmp", "embed", "errors", "fmt", "html", "io", "iter",
		"maps", "net/url", "regexp", "regexp/syntax", "slices", "sort", "strconv",
		"strings", "sync", "sync/atomic", "time", "unique":
		return true
	case "crypto/rand", "crypto/tls", "crypto/x509", "crypto/x509/pkix":
		return false
	}
	for _, family := range []string{"container", "crypto", "encoding", "hash", "math", "unicode"} {
		if within(path, family) {
			return true
		}
	}
	return false
}

// forbiddenCalls are the package-level functions and variables a pure
// package must not use: the clock, waiting on it and the machine's zone;
// randomness from a global or system source; standard input and output.
// A constructor such as math/rand/v2's New, given a seeded source as an
// argument, stays allowed.
var forbiddenCalls = map[string]struct {
	names []string // empty: every function and variable of the package
	why   string
}{
	"time": {[]string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTicker", "NewTimer", "LoadLocation", "Local"},
		"pure packages take the time as an argument"},
	"crypto/rand":  {nil, "pure packages take randomness as an argument"},
	"math/rand":    {[]string{"ExpFloat64", "Float32", "Float64", "Int", "Int31", "Int31n", "Int63", "Int63n", "Intn", "NormFloat64", "Perm", "Read", "Seed", "Shuffle", "Uint32", "Uint64"}, "pure packages take randomness as an argument"},
	"math/rand/v2": {[]string{"ExpFloat64", "Float32", "Float64", "Int", "Int32", "Int32N", "Int64", "Int64N", "IntN", "N", "NormFloat64", "Perm", "Shuffle", "Uint", "Uint32", "Uint32N", "Uint64", "Uint64N", "UintN"}, "pure packages take randomness as an argument"},
	"fmt":          {[]string{"Print", "Printf", "Println", "Scan", "Scanf", "Scanln"}, "pure packages do no I/O"},
}

// checkPureCalls type-checks the pure packages and reports each use of a
// forbiddenCalls name. Types, not names, decide what an identifier is, so a
// renamed or dot import is caught and a local variable named time is not.
func checkPureCalls(dir string, paths []string) ([]string, error) {
	pkgs, err := load(dir, packages.NeedName|packages.NeedImports|packages.NeedSyntax|packages.NeedTypes|packages.NeedTypesInfo, paths...)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // the files' names are absolute
	}
	var found []string
	for _, p := range pkgs {
		for _, file := range p.Syntax {
			ast.Inspect(file, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok {
					return true
				}
				obj := p.TypesInfo.Uses[id]
				if obj == nil || obj.Pkg() == nil || obj.Pkg().Scope().Lookup(obj.Name()) != obj {
					return true // not a package-level name of another package
				}
				if _, isType := obj.(*types.TypeName); isType {
					return true
				}
				rule, ok := forbiddenCalls[obj.Pkg().Path()]
				if !ok || (rule.names != nil && !slices.Contains(rule.names, obj.Name())) {
					return true
				}
				pos := p.Fset.Position(id.Pos())
				file := pos.Filename
				if r, err := filepath.Rel(dir, file); err == nil {
					file = filepath.ToSlash(r)
				}
				found = append(found, fmt.Sprintf("%s:%d uses %s.%s: %s", file, pos.Line, obj.Pkg().Path(), obj.Name(), rule.why))
				return true
			})
		}
	}
	sort.Strings(found)
	return found, nil
}

func excepted(exceptions []importException, rel, imp string) (importException, bool) {
	for _, e := range exceptions {
		if e.from == rel && e.to == imp {
			return e, true
		}
	}
	return importException{}, false
}
