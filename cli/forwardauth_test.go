package cli_test

// The forward-auth journey behind real proxies: mfagate runs through
// cli.Run as in production, the proxy runs the recipe from examples/
// (examples/nginx.conf here, examples/Caddyfile in
// forwardauth_caddy_test.go; only the lines marked "test:" changed) in
// front of a tiny application, and a plain HTTP client with a cookie jar
// plays the browser.
//
// It lives with the cli tests because it starts the real program the way
// they do (install, run, start). Everything listens on 127.0.0.1: the
// session cookie is host-only (no cookie_domain: a domain cookie needs a
// real DNS name, and 127.0.0.1 is not one), and cookies ignore ports, so
// the cookie mfagate sets at 127.0.0.1:<login port> reaches the proxy's
// protected server at 127.0.0.1:<app port>, as .example.com would reach
// app.example.com in production.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate/totp"
)

// findProxy returns the path of a proxy's program, or skips the test as
// findProgram does.
func findProxy(t *testing.T, name string) string {
	t.Helper()
	return findProgram(t, name, name, "the forward-auth proxy test")
}

// findProgram returns the path of an outside program a test needs,
// looked up on PATH and then in /usr/sbin, or skips the test, saying
// which Debian package has it (fails it when MFAGATE_E2E_REQUIRED is
// set, as in CI). what names the test, for the message.
func findProgram(t *testing.T, name, pkg, what string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); fileExists(p) {
		return p
	}
	if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
		t.Fatalf("%s is not on PATH or in /usr/sbin, and MFAGATE_E2E_REQUIRED is set: %s must run", name, what)
	}
	t.Skipf("%s is not on PATH or in /usr/sbin: skipping %s (install it with: apt-get install %s)", name, what, pkg)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort returns a loopback port that was free a moment ago. It is
// chosen below the kernel's ephemeral range (ip_local_port_range), so the
// outgoing connections and ":0" listeners of tests running alongside
// cannot take it between this check and the proxy binding it.
func freePort(tb testing.TB) int {
	tb.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				low = n
			}
		}
	}
	for range 100 {
		port := 1024 + rand.IntN(low-1024)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	tb.Fatalf("no free loopback port below %d after 100 tries", low)
	return 0
}

// nginxConf is examples/nginx.conf made runnable without root or TLS: each
// line marked "test:" is changed, and only those.
func nginxConf(tb testing.TB, dir string, mfagatePort int, appAddr string, listens ...int) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "nginx.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	changed := 0
	for _, line := range strings.Split(string(data), "\n") {
		code, _, marked := strings.Cut(line, "# test:")
		if !marked || strings.TrimSpace(code) == "" {
			out = append(out, line)
			continue
		}
		changed++
		indent := code[:len(code)-len(strings.TrimLeft(code, " "))]
		f := strings.Fields(code)
		switch {
		case f[0] == "user" || f[0] == "ssl_certificate" || f[0] == "ssl_certificate_key":
			continue
		case f[0] == "pid":
			line = indent + "pid " + filepath.Join(dir, "nginx.pid") + ";"
		case f[0] == "error_log":
			line = indent + "error_log " + filepath.Join(dir, "error.log") + " notice;"
		case f[0] == "access_log":
			line = indent + "access_log " + filepath.Join(dir, "access.log") + ";"
			for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
				line += "\n" + indent + tmp + "_temp_path " + filepath.Join(dir, tmp) + ";"
			}
		case f[0] == "server" && f[1] == "127.0.0.1:8080;":
			line = fmt.Sprintf("%sserver 127.0.0.1:%d;", indent, mfagatePort)
		case f[0] == "server" && f[1] == "127.0.0.1:3000;":
			line = indent + "server " + appAddr + ";"
		case f[0] == "listen" && len(listens) > 0:
			line = fmt.Sprintf("%slisten 127.0.0.1:%d;", indent, listens[0])
			listens = listens[1:]
		default:
			tb.Fatalf("examples/nginx.conf: the test does not know how to change %q", line)
		}
		out = append(out, line)
	}
	if changed != 12 || len(listens) != 0 {
		tb.Fatalf("examples/nginx.conf: changed %d marked lines with %d listen ports left, want 12 and 0: update the test with the example", changed, len(listens))
	}
	return strings.Join(out, "\n")
}

// startNginx runs nginx in the foreground until the test ends.
func startNginx(t *testing.T, bin, conf string, ports ...int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "startup.log"), "-g", "daemon off;")
	runProxy(t, "nginx", cmd, syscall.SIGQUIT, []string{filepath.Join(dir, "startup.log"), filepath.Join(dir, "error.log")}, ports...)
}

// runProxy starts a proxy's command, waits until it listens on every one
// of ports, and stops it with the stop signal when the test ends. Its
// output and the logs files are shown when the test fails.
func runProxy(t *testing.T, name string, cmd *exec.Cmd, stop os.Signal, logs []string, ports ...int) {
	t.Helper()
	out := newLines()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	show := func() string {
		s := out.String()
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			s += fmt.Sprintf("\n%s:\n%s", filepath.Base(l), b)
		}
		return s
	}
	t.Cleanup(func() {
		cmd.Process.Signal(stop)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, show())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range ports {
		for {
			select {
			case err := <-exited:
				exited <- err // for the clean-up
				t.Fatalf("%s stopped at start-up (%v):\n%s", name, err, show())
			default:
			}
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not listen on port %d within 10s:\n%s", name, port, show())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// echoApp is the protected application: it shows what the proxy passed on.
func echoApp(t *testing.T) *httptest.Server {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app %s\n", r.URL.RequestURI())
		for _, k := range []string{"Remote-User", "Remote-Name", "Remote-Email", "Remote-Groups"} {
			fmt.Fprintf(w, "%s: %s\n", k, strings.Join(r.Header.Values(k), "|"))
		}
	}))
	t.Cleanup(app.Close)
	return app
}

var secretField = regexp.MustCompile(`<code id="totp-secret">([^<]+)</code>`)

// visitor is a browser: a cookie jar, following redirects, remembering
// the TOTP secret each person set up.
type visitor struct {
	t       *testing.T
	c       *http.Client
	secrets map[string][]byte
}

func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	res, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (v *visitor) get(u string, header ...string) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return v.do(req)
}

func (v *visitor) post(u string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

// signIn answers the sign-in page the browser was sent to: password, then
// setting up an authenticator app (the rollout requires it) or, once set
// up, a code from it. It returns where the browser ends up.
func (v *visitor) signIn(login *url.URL, user, pass string) (*http.Response, string) {
	v.t.Helper()
	base := login.Scheme + "://" + login.Host
	rd := login.Query().Get("rd")
	res, body := v.post(base+"/login", url.Values{"username": {user}, "password": {pass}, "rd": {rd}})
	switch res.Request.URL.Path {
	case "/mfa/setup/totp":
		m := secretField.FindStringSubmatch(body)
		if m == nil {
			v.t.Fatalf("no TOTP secret on the setup page:\n%s", body)
		}
		secret, err := totp.DecodeSecret(m[1])
		if err != nil {
			v.t.Fatal(err)
		}
		v.secrets[user] = secret
		res, body = v.post(base+"/mfa/setup/totp", url.Values{"code": {totp.Code(secret, totp.Step(time.Now()))}, "rd": {rd}})
		if res.Request.URL.Path != "/mfa/recovery-codes" {
			v.t.Fatalf("after setting up TOTP: got %s, want the recovery codes:\n%s", res.Request.URL, body)
		}
		return v.post(base+"/mfa/recovery-codes", url.Values{"action": {"saved"}, "rd": {rd}})
	case "/mfa/challenge":
		// The next step's code: the setup's step was used already.
		code := totp.Code(v.secrets[user], totp.Step(time.Now())+1)
		return v.post(base+"/mfa/challenge", url.Values{"method": {"totp"}, "code": {code}, "rd": {rd}})
	}
	v.t.Fatalf("after the password: got %s, want a second step:\n%s", res.Request.URL, body)
	return nil, ""
}

// forwardAuthSite is mfagate, started through cli.Run, and the
// application it protects, waiting for a proxy in front of both: the
// protected server on appPort, mfagate's own pages on loginPort.
type forwardAuthSite struct {
	mfagatePort, appPort, loginPort int
	appAddr                         string // the application, host:port
}

// newForwardAuthSite starts mfagate and the application: people sign in
// through the proxy's login server (base_url); the proxy is the trusted
// proxy; /admin-only needs role admin; and the rollout requires an
// authenticator app of everyone. alice has roles admin and user, bob user.
func newForwardAuthSite(t *testing.T) *forwardAuthSite {
	t.Helper()
	s := &forwardAuthSite{mfagatePort: freePort(t), appPort: freePort(t), loginPort: freePort(t)}
	cfg := install(t, "")
	text, _ := os.ReadFile(cfg)
	conf := strings.NewReplacer(
		`addr: "127.0.0.1:0"`, fmt.Sprintf(`addr: "127.0.0.1:%d"`, s.mfagatePort),
		`base_url: "http://127.0.0.1:8080"`, fmt.Sprintf("base_url: %q\n  trusted_proxies: [127.0.0.1]", s.loginURL()),
	).Replace(string(text)) + `forward_auth:
  rules:
    - host: "127.0.0.1"
      path: "/admin-only"
      roles: [admin]
` + totpForEveryone
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{"alice", "admin,user"}, {"bob", "user"}} {
		if r := run(t, forwardAuthPass+"\n", "user", "add", u[0], "--email", u[0]+"@example.com", "--name", strings.ToUpper(u[0][:1])+u[0][1:],
			"--roles", u[1], "--password-stdin", "--config", cfg); r.code != 0 {
			t.Fatalf("user add %s: %d %s", u[0], r.code, r.stderr)
		}
	}
	_, errOut := start(t, "serve", "--config", cfg)
	errOut.await(t, regexp.MustCompile(`mfagate is listening`))
	s.appAddr = strings.TrimPrefix(echoApp(t).URL, "http://")
	return s
}

const forwardAuthPass = "plum orchard lantern"

func (s *forwardAuthSite) appURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", s.appPort) }
func (s *forwardAuthSite) loginURL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.loginPort) }

// journey plays the browsers once the proxy runs.
func (s *forwardAuthSite) journey(t *testing.T, proxy string) {
	t.Helper()
	appURL, loginURL := s.appURL(), s.loginURL()
	jar, _ := cookiejar.New(nil)
	alice := &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: map[string][]byte{}}
	protected := appURL + "/admin-only/report?year=2027&q=a+b"

	// Anonymous: sent to mfagate's sign-in page, with the way back.
	res, _ := alice.get(protected)
	wantLogin := loginURL + "/login?rd=" + url.QueryEscape(protected)
	if res.Request.URL.String() != wantLogin || res.StatusCode != 200 {
		t.Fatalf("anonymous: got %d at %s, want the sign-in page at %s", res.StatusCode, res.Request.URL, wantLogin)
	}

	// Password and a new authenticator app: back at the application, which
	// sees who it is, whatever the browser claims.
	res, body := alice.signIn(res.Request.URL, "alice", forwardAuthPass)
	if res.Request.URL.String() != protected || !strings.Contains(body, "app /admin-only/report?year=2027&q=a+b\n") {
		t.Fatalf("after signing in: got %s:\n%s\nwant the application at %s", res.Request.URL, body, protected)
	}
	aliceHeaders := []string{"Remote-User: alice\n", "Remote-Name: Alice\n", "Remote-Email: alice@example.com\n", "Remote-Groups: admin,user\n"}
	for _, want := range aliceHeaders {
		if !strings.Contains(body, want) {
			t.Errorf("the application did not get %q:\n%s", want, body)
		}
	}
	_, body = alice.get(appURL+"/", "Remote-User", "mallory", "Remote-Name", "Mallory", "Remote-Email", "mallory@example.com", "Remote-Groups", "root")
	for _, want := range aliceHeaders {
		if !strings.Contains(body, want) {
			t.Errorf("a Remote-* header from the browser reached the application: want %q in\n%s", want, body)
		}
	}

	// Nor through mfagate's own pages, where the browser is the only one
	// who could have set X-Original-URL.
	jar, _ = cookiejar.New(nil)
	anon := &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if res, _ := anon.get(loginURL+"/auth/verify?redirect=true", "X-Original-URL", appURL+"/forged"); strings.Contains(res.Request.URL.String(), "forged") {
		t.Errorf("/auth/verify at %s's login server believed the browser's X-Original-URL: ended at %s", proxy, res.Request.URL)
	}

	// Signed out: sent to sign in again.
	if res, _ := alice.post(loginURL+"/logout", nil); res.Request.URL.Query().Has("signed_out") != true {
		t.Fatalf("logout: got %s", res.Request.URL)
	}
	if res, _ := alice.get(protected); res.Request.URL.String() != wantLogin {
		t.Fatalf("after logout: got %s, want the sign-in page", res.Request.URL)
	}

	// Again, now with a code from the app at the challenge.
	res, _ = alice.get(protected)
	if res, body := alice.signIn(res.Request.URL, "alice", forwardAuthPass); res.Request.URL.String() != protected || !strings.Contains(body, "Remote-User: alice\n") {
		t.Fatalf("signing in again: got %s:\n%s", res.Request.URL, body)
	}

	// Bob has no admin role: the application, but not /admin-only.
	jar, _ = cookiejar.New(nil)
	bob := &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: map[string][]byte{}}
	res, _ = bob.get(appURL + "/")
	if res, body := bob.signIn(res.Request.URL, "bob", forwardAuthPass); res.Request.URL.String() != appURL+"/" || !strings.Contains(body, "Remote-User: bob\n") {
		t.Fatalf("bob signing in: got %s:\n%s", res.Request.URL, body)
	}
	// Nor may the browser choose which URL mfagate checks.
	for _, forged := range [][]string{
		{"Remote-Groups", "admin"},
		{"X-Original-URL", appURL + "/"},
		{"X-Forwarded-Host", "elsewhere.example"},
		{"X-Forwarded-Uri", "/"},
	} {
		if res, body := bob.get(protected, forged...); res.StatusCode != http.StatusForbidden || strings.Contains(body, "app ") {
			t.Errorf("bob at /admin-only with %s: %s: got %d:\n%s\nwant 403 from %s", forged[0], forged[1], res.StatusCode, body, proxy)
		}
	}

	// Bad bytes in the URL opened: no rule can be trusted to match them,
	// so bob does not reach the application, and nobody gets a 500 (nginx
	// would make one of any answer but 401 or 403 to auth_request).
	for _, p := range []string{"/admin-only%00", "/admin-only%FF/report", "/adm%FFin-only"} {
		res, body := bob.get(appURL + p)
		if res.StatusCode == http.StatusOK || res.StatusCode >= 500 || strings.Contains(body, "app ") {
			t.Errorf("bob at %s through %s: got %d:\n%s\nwant a refusal", p, proxy, res.StatusCode, body)
		}
	}
	jar, _ = cookiejar.New(nil)
	anon = &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if res, body := anon.get(appURL + "/docs%FF"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be used") {
		t.Errorf("anonymous at /docs%%FF through %s: got %d:\n%.600s\nwant mfagate's 400 page", proxy, res.StatusCode, body)
	}
}

func TestForwardAuthBehindNginx(t *testing.T) {
	bin := findProxy(t, "nginx")
	s := newForwardAuthSite(t)
	startNginx(t, bin, nginxConf(t, t.TempDir(), s.mfagatePort, s.appAddr, s.appPort, s.loginPort), s.appPort, s.loginPort)
	s.journey(t, "nginx")
}
