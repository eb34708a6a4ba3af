package cli_test

// The forward-auth journey behind a real Caddy, running examples/Caddyfile
// with only the lines marked "test:" changed. The rest (mfagate, the
// application, the browsers) is shared with the nginx test in
// forwardauth_test.go.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// caddyfile is examples/Caddyfile made runnable without root, TLS or
// Caddy's admin API: each line marked "test:" is changed, and only those.
// A "# test:" comment marks its own line or, alone on the line after one
// ending in "{" (where caddy fmt puts comments), that line. sites are the
// ports of the site blocks, in order.
func caddyfile(tb testing.TB, mfagatePort int, appAddr string, sites ...int) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "Caddyfile"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	changed := 0
	change := func(line string) string {
		changed++
		code, _, _ := strings.Cut(line, "# test:")
		indent := code[:len(code)-len(strings.TrimLeft(code, "\t "))]
		f := strings.Fields(code)
		switch {
		case f[0] == "admin":
			return indent + "admin off\n" + indent + "auto_https off"
		case strings.HasSuffix(f[0], ".example.com") && f[len(f)-1] == "{" && len(sites) > 0:
			line = fmt.Sprintf("%shttp://127.0.0.1:%d {\n%s\tbind 127.0.0.1", indent, sites[0], indent)
			sites = sites[1:]
			return line
		case (f[0] == "forward_auth" || f[0] == "reverse_proxy") && f[1] == "127.0.0.1:8080":
			return indent + strings.Replace(strings.TrimSpace(code), "127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", mfagatePort), 1)
		case f[0] == "reverse_proxy" && f[1] == "127.0.0.1:3000":
			return indent + strings.Replace(strings.TrimSpace(code), "127.0.0.1:3000", appAddr, 1)
		}
		tb.Fatalf("examples/Caddyfile: the test does not know how to change %q", line)
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		code, _, marked := strings.Cut(line, "# test:")
		code = strings.TrimSpace(code)
		switch {
		case !marked || strings.HasPrefix(code, "#"): // not marked, or prose about markers
			out = append(out, line)
		case code == "": // marks the line before, which opens a block
			last := len(out) - 1
			if last < 0 || !strings.HasSuffix(strings.TrimSpace(out[last]), "{") {
				tb.Fatalf("examples/Caddyfile: %q alone on a line must follow a line ending in {", line)
			}
			out[last] = change(out[last])
			out = append(out, line)
		default:
			out = append(out, change(line))
		}
	}
	if changed != 6 || len(sites) != 0 {
		tb.Fatalf("examples/Caddyfile: changed %d marked lines with %d site ports left, want 6 and 0: update the test with the example", changed, len(sites))
	}
	return strings.Join(out, "\n")
}

// startCaddy runs Caddy in the foreground until the test ends, with its
// configuration and data directories (autosave.json, instance id) in a
// temporary directory, apart from any Caddy the system runs.
func startCaddy(t *testing.T, bin, conf string, ports ...int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	runProxy(t, "caddy", cmd, os.Interrupt, nil, ports...)
}

func TestForwardAuthBehindCaddy(t *testing.T) {
	bin := findProxy(t, "caddy")

	// The recipe is as caddy fmt writes it, so Caddy does not warn about it.
	want, err := os.ReadFile(filepath.Join("..", "examples", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	fmtCmd := exec.Command(bin, "fmt", filepath.Join("..", "examples", "Caddyfile"))
	fmtCmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if got, err := fmtCmd.Output(); err != nil || string(got) != string(want) {
		t.Errorf("caddy fmt examples/Caddyfile: %v; it would change the file:\n%s", err, got)
	}

	s := newForwardAuthSite(t)
	startCaddy(t, bin, caddyfile(t, s.mfagatePort, s.appAddr, s.appPort, s.loginPort), s.appPort, s.loginPort)
	s.journey(t, "Caddy")
}
