package cli_test

// The processes of examples/ha: mfagate built once as the real binary,
// three "mfagate serve" replicas on one PostgreSQL schema, and HAProxy in
// front of them with examples/ha/haproxy.cfg, unchanged, its addresses
// and paths set from the environment as an operator would.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate/cli"
	"github.com/mfagate/mfagate/mail/mailtest"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// requirePostgres returns a fresh PostgreSQL schema's DSN, or skips the
// test without MFAGATE_TEST_POSTGRES_DSN (fails it when
// MFAGATE_E2E_REQUIRED is set, as in CI).
func requirePostgres(t *testing.T, what string) string {
	t.Helper()
	if os.Getenv(sqltest.PostgresEnv) == "" {
		if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
			t.Fatalf("%s is not set, and MFAGATE_E2E_REQUIRED is: %s needs PostgreSQL", sqltest.PostgresEnv, what)
		}
		t.Skipf("set %s to run %s (it needs PostgreSQL)", sqltest.PostgresEnv, what)
	}
	return sqltest.Postgres(t).DSN(t)
}

// buildMfagate builds the program into a temporary folder and returns its
// path. The go command inherits the test's environment (GOFLAGS,
// GOTOOLCHAIN, the build cache), so it reuses what the test run built.
func buildMfagate(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH, so the test cannot build the program: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mfagate")
	cmd := exec.Command(goCmd, "build", "-o", bin, "../cmd/mfagate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runWith runs the command in-process, reading configuration variables
// from env, and fails the test unless it succeeds.
func runWith(tb testing.TB, env map[string]string, stdin string, args ...string) string {
	tb.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut); code != 0 {
		tb.Fatalf("mfagate %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// replica is one "mfagate serve" process of the cluster.
type replica struct {
	name, addr string
	metrics    string // its metrics address (server.metrics_addr)
	bin, cfg   string
	env        map[string]string
	cmd        *exec.Cmd
	exited     chan struct{} // closed when the process has ended
	state      *os.ProcessState
	out        *lines // stdout and stderr, of every run
}

// environ is the replica's environment: the test's own without any
// MFAGATE_ variable (the test's, such as MFAGATE_E2E_REQUIRED, would be
// warned about), then the replica's.
func (r *replica) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MFAGATE_") {
			env = append(env, kv)
		}
	}
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	return env
}

// start runs the replica and waits until it answers /healthz.
func (r *replica) start(t *testing.T) {
	t.Helper()
	fmt.Fprintf(r.out, "--- %s: start\n", r.name)
	r.cmd = exec.Command(r.bin, "serve", "--config", r.cfg)
	r.cmd.Env = r.environ()
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", r.name, err)
	}
	exited := make(chan struct{})
	r.exited = exited
	cmd := r.cmd
	go func() {
		cmd.Wait()
		r.state = cmd.ProcessState
		close(exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s stopped at start-up (%v):\n%s", r.name, r.state, r.out)
		default:
		}
		if c, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 30 s:\n%s", r.name, r.addr, r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signal sends sig and returns at once.
func (r *replica) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", r.name, err)
	}
}

// wait waits for the process to end, at most limit.
func (r *replica) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(limit):
		t.Fatalf("%s did not stop within %s:\n%s", r.name, limit, r.out)
	}
}

// stopAll ends every replica still running when the test ends.
func stopAll(t *testing.T, rs []*replica) {
	t.Cleanup(func() {
		for _, r := range rs {
			if r.cmd == nil {
				continue
			}
			select {
			case <-r.exited:
			default:
				r.cmd.Process.Signal(syscall.SIGKILL)
				<-r.exited
			}
		}
		if t.Failed() {
			for _, r := range rs {
				t.Logf("%s output:\n%s", r.name, r.out)
			}
		}
	})
}

// tlsFile writes the loopback certificate and its key into one PEM file,
// the form HAProxy's "crt" reads.
func tlsFile(t *testing.T, dir string) (string, *tls.Config) {
	t.Helper()
	cert, client := mailtest.LoopbackCertificate(t)
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: key})
	path := filepath.Join(dir, "login.pem")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, client
}

// haproxy is the balancer and its stats socket.
type haproxy struct {
	socket string
}

// startHAProxy runs haproxy in the foreground with examples/ha/haproxy.cfg
// and env, until the test ends.
func startHAProxy(t *testing.T, bin string, env map[string]string, port int) *haproxy {
	t.Helper()
	cfg, err := filepath.Abs(filepath.Join("..", "examples", "ha", "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	runProxy(t, "haproxy", cmd, syscall.SIGTERM, nil, port)
	h := &haproxy{socket: env["MFAGATE_HA_STATS_SOCKET"]}
	waitFor(t, 10*time.Second, "haproxy's stats socket", func() bool {
		c, err := net.Dial("unix", h.socket)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return h
}

// serverStat is one row of HAProxy's "show stat".
type serverStat map[string]string

func (s serverStat) int(field string) int {
	n, _ := strconv.Atoi(s[field])
	return n
}

// stats returns "show stat" by proxy and server name ("mfagate/mfagate1",
// "login/FRONTEND").
func (h *haproxy) stats(t *testing.T) map[string]serverStat {
	t.Helper()
	c, err := net.DialTimeout("unix", h.socket, 5*time.Second)
	if err != nil {
		t.Fatalf("haproxy stats socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		t.Fatalf("haproxy stats socket: %v", err)
	}
	data, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("haproxy stats socket: %v", err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("# "))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("haproxy show stat: %v:\n%s", err, data)
	}
	out := map[string]serverStat{}
	for _, row := range rows[1:] {
		s := serverStat{}
		for i, name := range rows[0] {
			if i < len(row) {
				s[name] = row[i]
			}
		}
		out[s["pxname"]+"/"+s["svname"]] = s
	}
	return out
}

// server returns the row of one replica.
func (h *haproxy) server(t *testing.T, name string) serverStat {
	t.Helper()
	s, ok := h.stats(t)["mfagate/"+name]
	if !ok {
		t.Fatalf("haproxy show stat has no server mfagate/%s", name)
	}
	return s
}

// waitStatus waits until HAProxy reports the replica's status as want
// ("UP" or "DOWN", not in transition), at most limit.
func (h *haproxy) waitStatus(t *testing.T, name, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := h.server(t, name)["status"]
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy reports %s as %q after %s, want %q", name, got, limit, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, at most limit; what says what was
// awaited.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
