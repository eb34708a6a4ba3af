package cli_test

// The forward-auth journey behind a real nginx: mfagate runs through
// cli.Run as in production, nginx runs examples/nginx.conf (only the lines
// marked "test:" changed) in front of a tiny application, and a plain HTTP
// client with a cookie jar plays the browser.
//
// It lives with the cli tests because it starts the real program the way
// they do (install, run, start). Everything listens on 127.0.0.1: the
// session cookie is host-only (no cookie_domain: a domain cookie needs a
// real DNS name, and 127.0.0.1 is not one), and cookies ignore ports, so
// the cookie mfagate sets at 127.0.0.1:<login port> reaches nginx's
// protected server at 127.0.0.1:<app port>, as .example.com would reach
// app.example.com in production.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate/totp"
)

// findNginx returns nginx's path, or skips the test (fails it when
// MFAGATE_E2E_REQUIRED is set, as in CI).
func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
		t.Fatal("nginx is not on PATH or at /usr/sbin/nginx, and MFAGATE_E2E_REQUIRED is set: the forward-auth proxy test must run")
	}
	t.Skip("nginx is not on PATH or at /usr/sbin/nginx: skipping the forward-auth proxy test (install it with: apt-get install nginx)")
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
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
func startNginx(t *testing.T, bin, conf string, port int) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	errLog := filepath.Join(dir, "startup.log")
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", errLog, "-g", "daemon off;")
	out := newLines()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), logs)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			logs, _ := os.ReadFile(errLog)
			t.Fatalf("nginx stopped at start-up (%v):\n%s\n%s", err, out.String(), logs)
		default:
		}
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on port %d within 10s:\n%s", port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoApp is the protected application: it shows what nginx passed on.
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

func TestForwardAuthBehindNginx(t *testing.T) {
	bin := findNginx(t)
	mfagatePort, appPort, loginPort := freePort(t), freePort(t), freePort(t)
	appURL := fmt.Sprintf("http://127.0.0.1:%d", appPort)
	loginURL := fmt.Sprintf("http://127.0.0.1:%d", loginPort)

	// mfagate: people sign in through nginx's login server (base_url);
	// nginx is the trusted proxy; /admin-only needs role admin; and the
	// rollout requires an authenticator app of everyone.
	cfg := install(t, "")
	text, _ := os.ReadFile(cfg)
	conf := strings.NewReplacer(
		`addr: "127.0.0.1:0"`, fmt.Sprintf(`addr: "127.0.0.1:%d"`, mfagatePort),
		`base_url: "http://127.0.0.1:8080"`, fmt.Sprintf("base_url: %q\n  trusted_proxies: [127.0.0.1]", loginURL),
	).Replace(string(text)) + `forward_auth:
  rules:
    - host: "127.0.0.1"
      path: "/admin-only"
      roles: [admin]
rollout:
  phases:
    - name: "Everyone"
      starts: 2020-01-01
      audience: [all]
      requirement: required
      methods: [totp]
      default_method: totp
`
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "plum orchard lantern"
	for _, u := range [][2]string{{"alice", "admin,user"}, {"bob", "user"}} {
		if r := run(t, pass+"\n", "user", "add", u[0], "--email", u[0]+"@example.com", "--name", strings.ToUpper(u[0][:1])+u[0][1:],
			"--roles", u[1], "--password-stdin", "--config", cfg); r.code != 0 {
			t.Fatalf("user add %s: %d %s", u[0], r.code, r.stderr)
		}
	}
	_, errOut := start(t, "serve", "--config", cfg)
	errOut.await(t, regexp.MustCompile(`mfagate is listening`))

	app := echoApp(t)
	startNginx(t, bin, nginxConf(t, t.TempDir(), mfagatePort, strings.TrimPrefix(app.URL, "http://"), appPort, loginPort), appPort)

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
	res, body := alice.signIn(res.Request.URL, "alice", pass)
	if res.Request.URL.String() != protected || !strings.Contains(body, "app /admin-only/report?year=2027&q=a+b\n") {
		t.Fatalf("after signing in: got %s:\n%s\nwant the application at %s", res.Request.URL, body, protected)
	}
	for _, want := range []string{"Remote-User: alice\n", "Remote-Name: Alice\n", "Remote-Email: alice@example.com\n", "Remote-Groups: admin,user\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("the application did not get %q:\n%s", want, body)
		}
	}
	if _, body := alice.get(appURL+"/", "Remote-User", "mallory"); !strings.Contains(body, "Remote-User: alice\n") {
		t.Errorf("a Remote-User header from the browser reached the application:\n%s", body)
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
	if res, body := alice.signIn(res.Request.URL, "alice", pass); res.Request.URL.String() != protected || !strings.Contains(body, "Remote-User: alice\n") {
		t.Fatalf("signing in again: got %s:\n%s", res.Request.URL, body)
	}

	// Bob has no admin role: the application, but not /admin-only.
	jar, _ = cookiejar.New(nil)
	bob := &visitor{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, secrets: map[string][]byte{}}
	res, _ = bob.get(appURL + "/")
	if res, body := bob.signIn(res.Request.URL, "bob", pass); res.Request.URL.String() != appURL+"/" || !strings.Contains(body, "Remote-User: bob\n") {
		t.Fatalf("bob signing in: got %s:\n%s", res.Request.URL, body)
	}
	if res, body := bob.get(protected, "Remote-Groups", "admin"); res.StatusCode != http.StatusForbidden || strings.Contains(body, "app ") {
		t.Fatalf("bob at /admin-only: got %d:\n%s\nwant 403 from nginx", res.StatusCode, body)
	}
}
