package mfagate_test

// examples/systemd/mfagate.service, checked by systemd's own tools and
// then run the way systemd runs it: its command line and environment,
// with the configuration and key handed over as credentials. systemd
// itself is not running here (nor in CI), so the sandboxing directives
// are checked by systemd-analyze, not enforced.

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate/config"
)

const (
	unitPath = "examples/systemd/mfagate.service"
	unitBin  = "/usr/local/bin/mfagate" // where the unit expects the program
)

// needProgram returns the path of a program on PATH, or skips the test
// (fails it when MFAGATE_E2E_REQUIRED is set, as in CI).
func needProgram(t *testing.T, name, debianPackage, what string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
		t.Fatalf("%s is not on PATH, and MFAGATE_E2E_REQUIRED is set: %s must run", name, what)
	}
	t.Skipf("%s is not on PATH: skipping %s (install it with: apt-get install %s)", name, what, debianPackage)
	return ""
}

// unitWithBinary writes a copy of the unit to a new folder, the same
// bytes but for the program's path, which is bin, and returns its path.
func unitWithBinary(tb testing.TB, bin string) string {
	tb.Helper()
	data, err := os.ReadFile(unitPath)
	if err != nil {
		tb.Fatal(err)
	}
	if n := strings.Count(string(data), unitBin); n != 1 {
		tb.Fatalf("%s names %s %d times, want once (in ExecStart): update the test with the unit", unitPath, unitBin, n)
	}
	path := filepath.Join(tb.TempDir(), "mfagate.service")
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), unitBin, bin, 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// verifyUnit runs systemd-analyze verify on a unit file. It fails on
// anything it prints, not only on its exit status: an unknown or
// misspelt directive is only a warning ("Unknown key ..., ignoring"),
// and systemd would start the service without it.
func verifyUnit(analyze, path string) error {
	cmd := exec.Command(analyze, "verify", path)
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		return fmt.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	return nil
}

// TestSystemdUnitVerifies: systemd-analyze verify accepts the unit
// without a word once ExecStart names a program that exists, and the
// check is able to fail here: it reports a misspelt directive and a
// missing program.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := needProgram(t, "systemd-analyze", "systemd", "the service unit test")
	bin := filepath.Join(t.TempDir(), "mfagate")
	buildRelease(t, ".", bin)
	unit := unitWithBinary(t, bin)
	if err := verifyUnit(analyze, unit); err != nil {
		t.Fatalf("%s: %v", unitPath, err)
	}

	data, _ := os.ReadFile(unit)
	broken := map[string]string{
		"a misspelt directive": strings.Replace(string(data), "\nProtectSystem=strict\n", "\nProtectSystm=strict\n", 1),
		"a missing program":    strings.Replace(string(data), bin, bin+"-missing", 1),
	}
	for name, text := range broken {
		if text == string(data) {
			t.Fatalf("could not make a unit with %s: update the test with the unit", name)
		}
		path := filepath.Join(t.TempDir(), "mfagate.service")
		os.WriteFile(path, []byte(text), 0o644)
		err := verifyUnit(analyze, path)
		if err == nil {
			t.Fatalf("systemd-analyze verify said nothing about a unit with %s: this test would not catch one", name)
		}
		t.Logf("a unit with %s: %v", name, err)
	}
}

// TestSystemdUnitSecurity: systemd's own review of the unit's sandbox
// (systemd-analyze security, which works on the file alone) rates its
// exposure at most 2.0 of 10, where a unit without hardening scores
// about 9.6.
func TestSystemdUnitSecurity(t *testing.T) {
	analyze := needProgram(t, "systemd-analyze", "systemd", "the service unit test")
	unit := unitWithBinary(t, "/bin/true") // the review does not run it
	cmd := exec.Command(analyze, "security", "--offline=true", "--threshold=20", unit)
	cmd.Dir = filepath.Dir(unit)
	out, err := cmd.CombinedOutput()
	level := regexp.MustCompile(`Overall exposure level for mfagate.service: .*`).Find(out)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v (over 2.0 or failed)\n%s", err, out)
	}
	if level == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	t.Logf("%s", level)

	// And the review can fail: the same unit without its sandbox.
	keep := map[string]bool{"Description": true, "Documentation": true, "Wants": true, "After": true,
		"Type": true, "ExecStart": true, "LoadCredential": true, "Environment": true,
		"Restart": true, "RestartSec": true, "TimeoutStopSec": true, "WantedBy": true}
	data, _ := os.ReadFile(unit)
	var bare []string
	for _, line := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") && !keep[k] {
			continue
		}
		bare = append(bare, line)
	}
	os.WriteFile(unit, []byte(strings.Join(bare, "\n")), 0o644)
	if out, err := exec.Command(analyze, "security", "--offline=true", "--threshold=20", unit).CombinedOutput(); err == nil {
		t.Fatalf("systemd-analyze security passed the unit without its sandbox: this test would not catch one\n%s", out)
	}
}

// unitFile is a unit's [Service] and [Unit] directives, each with its
// values in order.
type unitFile map[string][]string

func readUnit(tb testing.TB, path string) unitFile {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	u := unitFile{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasSuffix(line, `\`) {
			tb.Fatalf("%s: the test cannot read %q", path, line)
		}
		u[k] = append(u[k], v)
	}
	return u
}

// one returns a directive the unit must give exactly once.
func (u unitFile) one(tb testing.TB, key string) string {
	tb.Helper()
	if len(u[key]) != 1 {
		tb.Fatalf("%s gives %s %d times, want once", unitPath, key, len(u[key]))
	}
	return u[key][0]
}

// TestSystemdUnitStartsMfagate runs the unit's command line as systemd
// would: the release binary, ExecStart's arguments and Environment=
// with %d (the credentials folder) filled in, each LoadCredential file
// copied into that folder, and no other environment. The copied
// configuration names a key file that does not exist, so the server
// starts only if Environment= points it at the credential. It must be
// ready, then stop cleanly on SIGTERM (what systemctl stop sends) before
// TimeoutStopSec, after which systemd would kill it. The unit and
// examples/mfagate.yaml must also agree on where the database and the
// key live.
func TestSystemdUnitStartsMfagate(t *testing.T) {
	u := readUnit(t, unitPath)

	// The example configuration, as the unit will be handed it.
	example, err := config.Load("examples/mfagate.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	state := "/var/lib/" + u.one(t, "StateDirectory") + "/"
	if !strings.HasPrefix(example.Database.DSN, state) || u.one(t, "ProtectSystem") != "strict" {
		t.Errorf("examples/mfagate.yaml keeps the SQLite database at %s, outside the unit's StateDirectory %s, the one folder ProtectSystem=strict lets it write", example.Database.DSN, state)
	}
	creds := map[string]string{} // credential name → the file systemd copies
	for _, lc := range u["LoadCredential"] {
		name, src, _ := strings.Cut(lc, ":")
		creds[name] = src
	}
	if creds["mfagate.yaml"] == "" || creds["secret.key"] != example.Secrets.KeyFile {
		t.Errorf("the unit loads credentials %v, want mfagate.yaml and secret.key from %s, the key file examples/mfagate.yaml names for commands run by root", creds, example.Secrets.KeyFile)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "mfagate")
	buildRelease(t, ".", bin)
	key := filepath.Join(dir, "secret.key")
	if out, err := exec.Command(bin, "keygen", key).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	config := fmt.Sprintf(`server:
  addr: "127.0.0.1:0"
  base_url: "http://127.0.0.1:8080"
  dev_insecure_cookies: true
database:
  driver: sqlite
  dsn: %q
secrets:
  key_file: %q
mail:
  from: "Sign-in <signin@example.com>"
  driver: outbox
`, filepath.Join(dir, "state", "mfagate.db"), filepath.Join(dir, "absent", "secret.key"))
	credDir := filepath.Join(dir, "credentials")
	os.Mkdir(credDir, 0o700)
	for name := range creds {
		var content []byte
		switch name {
		case "mfagate.yaml":
			content = []byte(config)
		case "secret.key":
			content, _ = os.ReadFile(key)
		default:
			t.Fatalf("the unit loads a credential %q the test does not know: update the test with the unit", name)
		}
		if err := os.WriteFile(filepath.Join(credDir, name), content, 0o400); err != nil {
			t.Fatal(err)
		}
	}

	expand := func(s string) string {
		if strings.Contains(strings.ReplaceAll(s, "%d", ""), "%") || strings.ContainsAny(s, `"'$\`) {
			t.Fatalf("%s: the test expands only %%d, and no quotes or variables: %q", unitPath, s)
		}
		return strings.ReplaceAll(s, "%d", credDir)
	}
	argv := strings.Fields(expand(u.one(t, "ExecStart")))
	if argv[0] != unitBin {
		t.Fatalf("ExecStart runs %s, want %s", argv[0], unitBin)
	}
	argv[0] = bin
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME=/",
		"CREDENTIALS_DIRECTORY=" + credDir, "STATE_DIRECTORY=" + filepath.Join(dir, "state")}
	for _, e := range u["Environment"] {
		env = append(env, strings.Fields(expand(e))...)
	}
	stop, err := time.ParseDuration(u.one(t, "TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
		close(logs)
	}()
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	var seen []string
	addr := ""
	listening := regexp.MustCompile(`msg="mfagate is listening" addr=(\S+)`)
	deadline := time.After(60 * time.Second)
	for addr == "" {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("mfagate stopped before listening:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				addr = m[1]
			}
		case <-deadline:
			t.Fatalf("mfagate did not start listening within a minute:\n%s", strings.Join(seen, "\n"))
		}
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz: got %d %q, want 200", resp.StatusCode, body)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("mfagate exited with %v after SIGTERM, want status 0 (systemd would count a failure and restart it)", err)
		}
	case <-time.After(stop):
		t.Fatalf("mfagate was still running %s (TimeoutStopSec) after SIGTERM: systemd would kill it", stop)
	}
}
