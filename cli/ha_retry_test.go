package cli_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// dyingReplica stands in for a replica that dies in the middle of every
// request: it answers HAProxy's health check, but any other request it
// reads whole, counts (as done: a password checked, a reset made) and
// then drops the connection without a byte of answer, as a process
// killed at that moment would.
type dyingReplica struct {
	addr string
	mu   sync.Mutex
	got  map[string]int // "POST /login" → how many times it arrived
}

func newDyingReplica(t *testing.T) *dyingReplica {
	t.Helper()
	d := &dyingReplica{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), got: map[string]int{}}
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			io.WriteString(w, "ready\n")
			return
		}
		io.ReadAll(r.Body)
		d.mu.Lock()
		d.got[r.Method+" "+r.URL.Path]++
		d.mu.Unlock()
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		c.(*net.TCPConn).SetLinger(0) // a reset, as when the process is gone
		c.Close()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return d
}

func (d *dyingReplica) count(what string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.got[what]
}

// TestHAProxyNeverSendsAPOSTTwice runs examples/ha/haproxy.cfg in front of
// three replicas that each die in the middle of every request, and checks
// its retry rules: a GET that got no answer is sent again to another
// replica (it changes nothing), but a POST reaches one replica once and
// is never sent again, since the replica may have done it (a password or
// a code checked, a reset made) before it died. The three-replica test
// cannot show this reliably: a killed process rarely dies between doing a
// request and answering it.
func TestHAProxyNeverSendsAPOSTTwice(t *testing.T) {
	haBin := findProgram(t, "haproxy", "haproxy", "the HAProxy retry test")
	dir := t.TempDir()
	front := freePort(t)
	pem, clientTLS := tlsFile(t, dir)
	userName, groupName := currentUser(t)
	var replicas []*dyingReplica
	env := map[string]string{
		"MFAGATE_HA_USER":         userName,
		"MFAGATE_HA_GROUP":        groupName,
		"MFAGATE_HA_BIND":         fmt.Sprintf("127.0.0.1:%d", front),
		"MFAGATE_HA_CERT":         pem,
		"MFAGATE_HA_STATS_SOCKET": filepath.Join(dir, "haproxy.sock"),
	}
	for i := range 3 {
		r := newDyingReplica(t)
		replicas = append(replicas, r)
		env[fmt.Sprintf("MFAGATE_HA_REPLICA%d", i+1)] = r.addr
	}
	hap := startHAProxy(t, haBin, env, front)
	for i := range replicas {
		hap.waitStatus(t, fmt.Sprintf("mfagate%d", i+1), "UP", 20*time.Second)
	}
	total := func(what string) int {
		n := 0
		for _, r := range replicas {
			n += r.count(what)
		}
		return n
	}
	send := func(method, path string) (int, error) {
		c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS.Clone()}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest(method, fmt.Sprintf("https://127.0.0.1:%d%s", front, path), nil)
		if method == "POST" {
			req = form(req.URL.String(), url.Values{"username": {"alice"}, "password": {"a guess"}})
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}

	for _, path := range []string{"/login", "/admin/people/alice/reset-mfa"} {
		status, err := send("POST", path)
		if err == nil && status < 500 {
			t.Errorf("POST %s to a replica that died: got %d, want a 502 or no answer", path, status)
		}
		if n := total("POST " + path); n != 1 {
			t.Errorf("POST %s reached the replicas %d times, want once: haproxy must never send a POST again", path, n)
		}
	}
	status, err := send("GET", "/auth/verify")
	if n := total("GET /auth/verify"); n < 2 {
		t.Errorf("GET /auth/verify reached the replicas %d times (answer %d, %v), want it sent again to another", n, status, err)
	}
	if strings.Contains(fmt.Sprint(err), "x509") {
		t.Fatalf("the test's TLS setup: %v", err)
	}
}
