package mfagate_test

// The release build as README.md gives it, and what "mfagate version"
// says about the binary it makes. These tests run the go command and git
// as an operator would, on a copy of this checkout.

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeBuild returns the release build command of README.md: its
// environment assignments and the go command's arguments.
func readmeBuild(tb testing.TB) (env, args []string) {
	tb.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		tb.Fatal(err)
	}
	var found []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "CGO_ENABLED=0 go build ") {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("README.md has %d lines starting \"CGO_ENABLED=0 go build\", want exactly 1 (the release build): %q", len(found), found)
	}
	for _, f := range strings.Fields(found[0]) {
		switch {
		case len(args) == 0 && strings.Contains(f, "="):
			env = append(env, f)
		default:
			args = append(args, f)
		}
	}
	if len(args) < 2 || args[0] != "go" || args[1] != "build" {
		tb.Fatalf("README.md's build command %q does not run go build", found[0])
	}
	return env, args[1:]
}

// buildRelease runs README.md's build command in dir (a module root),
// writing the binary to out, with extra flags before the package.
func buildRelease(tb testing.TB, dir, out string, extra ...string) {
	tb.Helper()
	env, args := readmeBuild(tb)
	var cmdArgs []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-o" && i+1 < len(args):
			cmdArgs = append(cmdArgs, "-o", out)
			i++
		case args[i] == "./cmd/mfagate":
			cmdArgs = append(cmdArgs, extra...)
			cmdArgs = append(cmdArgs, args[i])
		default:
			cmdArgs = append(cmdArgs, args[i])
		}
	}
	cmd := exec.Command("go", cmdArgs...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %s in %s: %v\n%s", strings.Join(cmdArgs, " "), dir, err, b)
	}
	if _, err := os.Stat(out); err != nil {
		tb.Fatalf("README.md's build command wrote no binary at %s (does it still say -o?): %v", out, err)
	}
}

// TestReleaseBuildIsStatic: README.md's build command makes a binary that
// runs on a machine without a C library, and carries no path of the
// machine it was built on.
func TestReleaseBuildIsStatic(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "mfagate")
	buildRelease(t, ".", bin)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is linked dynamically", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("got CGO_ENABLED=%q -trimpath=%q in the build settings, want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(root+string(filepath.Separator))) {
		t.Errorf("the binary holds the build folder's path %s: -trimpath did not take", root)
	}

	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "mfagate ") {
		t.Fatalf("the built binary's version: %v %q", err, out)
	}
	t.Logf("%s, %d MB:\n%s", filepath.Base(bin), len(data)>>20, out)
}

// mustGit runs git in dir and returns its output, trimmed.
func mustGit(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=mfagate test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		tb.Fatalf("git %s in %s: %v %s", strings.Join(args, " "), dir, err, msg)
	}
	return strings.TrimSpace(string(out))
}

// needGitCheckout returns the folder of the git checkout this module is
// in, or skips the test (fails it when MFAGATE_E2E_REQUIRED is set).
func needGitCheckout(t *testing.T) string {
	t.Helper()
	why := ""
	if _, err := exec.LookPath("git"); err != nil {
		why = "git is not on PATH (install it with: apt-get install git)"
	} else if out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err != nil {
		why = "this source tree is not a git checkout"
	} else {
		return strings.TrimSpace(string(out))
	}
	if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
		t.Fatalf("%s, and MFAGATE_E2E_REQUIRED is set: the version test must run", why)
	}
	t.Skipf("%s: skipping the test of the commit that mfagate version prints", why)
	return ""
}

// copyCheckout makes a git repository in a new folder holding this
// checkout as it is: HEAD's commit, plus every change not committed yet
// (tracked or new), so that the code built there is the code under test.
// A linked worktree, whose .git is a file, gets no version stamp from the
// go command (golang/go#58218), so the test never builds in place.
func copyCheckout(t *testing.T, root string) (dir, head string, modified bool) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "src")
	head = mustGit(t, root, "rev-parse", "HEAD")
	mustGit(t, t.TempDir(), "init", "-q", dir)
	mustGit(t, dir, "fetch", "-q", "--depth=1", root, "HEAD")
	mustGit(t, dir, "checkout", "-q", "--detach", "FETCH_HEAD")
	if got := mustGit(t, dir, "rev-parse", "HEAD"); got != head {
		t.Fatalf("the copy is at %s, want the checkout's HEAD %s", got, head)
	}
	diff := exec.Command("git", "diff", "--binary", "HEAD")
	diff.Dir = root
	patch, err := diff.Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(patch) > 0 {
		apply := exec.Command("git", "apply", "--binary", "-")
		apply.Dir = dir
		apply.Stdin = bytes.NewReader(patch)
		if b, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("copy the uncommitted changes: %v\n%s", err, b)
		}
	}
	for _, name := range strings.Split(mustGit(t, root, "ls-files", "--others", "--exclude-standard"), "\n") {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modified = mustGit(t, root, "status", "--porcelain") != ""
	if copied := mustGit(t, dir, "status", "--porcelain") != ""; copied != modified {
		t.Fatalf("the copy has uncommitted changes: %v, the checkout: %v", copied, modified)
	}
	return dir, head, modified
}

var versionLines = regexp.MustCompile(`\Amfagate (\S+)\ncommit ([0-9a-f]{40}) from (\S+), modified: (yes|no), built with (go\S+) (\S+/\S+)\n\z`)

// runVersion runs "mfagate version" and returns the parts of its output.
func runVersion(t *testing.T, bin string) (version, commit, at, modified, goVersion string) {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("mfagate version: %v", err)
	}
	m := versionLines.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("mfagate version printed %q, want two lines: mfagate VERSION / commit SHA from TIME, modified: yes|no, built with GO OS/ARCH", out)
	}
	t.Logf("mfagate version:\n%s", out)
	return m[1], m[2], m[3], m[4], m[5]
}

// TestVersionFromCheckout: a binary built with README.md's command from
// a git checkout says which commit it was built from and whether the
// checkout held changes not committed, in both states; -ldflags -X
// ...cli.Version wins over the module version; the Go release is the
// one go.mod names.
func TestVersionFromCheckout(t *testing.T) {
	root := needGitCheckout(t)
	dir, head, modified := copyCheckout(t, root)
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	commitTime := func(rev string) string {
		n, err := strconv.ParseInt(mustGit(t, dir, "show", "-s", "--format=%ct", rev), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return time.Unix(n, 0).UTC().Format(time.RFC3339)
	}
	yesNo := map[bool]string{true: "yes", false: "no"}

	// 1. The checkout as it is, released with a version set at build time.
	bin := filepath.Join(t.TempDir(), "mfagate")
	buildRelease(t, dir, bin, "-ldflags=-X github.com/mfagate/mfagate/cli.Version=v9.8.7-test")
	version, commit, at, mod, gov := runVersion(t, bin)
	if version != "v9.8.7-test" {
		t.Errorf("got version %q, want v9.8.7-test from -ldflags -X", version)
	}
	if commit != head || at != commitTime(head) || mod != yesNo[modified] {
		t.Errorf("got commit %s from %s, modified: %s; want %s from %s, modified: %s (git status --porcelain)",
			commit, at, mod, head, commitTime(head), yesNo[modified])
	}
	if gov != strings.TrimSpace(string(goVersion)) {
		t.Errorf("built with %s, want %s (go env GOVERSION)", gov, goVersion)
	}

	// 2. The other state, without -X: a clean checkout gets a change,
	// a modified one has its changes committed.
	if modified {
		mustGit(t, dir, "add", "-A")
		mustGit(t, dir, "commit", "-q", "-m", "the changes under test")
	} else {
		f, err := os.OpenFile(filepath.Join(dir, "README.md"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("\nA change not committed.\n")
		f.Close()
	}
	head2 := mustGit(t, dir, "rev-parse", "HEAD")
	bin2 := filepath.Join(t.TempDir(), "mfagate")
	buildRelease(t, dir, bin2)
	version, commit, at, mod, _ = runVersion(t, bin2)
	if commit != head2 || at != commitTime(head2) || mod != yesNo[!modified] {
		t.Errorf("got commit %s from %s, modified: %s; want %s from %s, modified: %s",
			commit, at, mod, head2, commitTime(head2), yesNo[!modified])
	}
	// The go command's own version for a build from a checkout:
	// v0.0.0-TIME-COMMIT12, with +dirty when modified.
	want := "v0.0.0-" + strings.NewReplacer("-", "", "T", "", ":", "", "Z", "").Replace(commitTime(head2)) + "-" + head2[:12]
	if !modified {
		want += "+dirty"
	}
	if version != want {
		t.Errorf("got version %q, want the module version %q", version, want)
	}
}
