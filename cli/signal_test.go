package cli_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalStopsAtOnce runs the built program with a minute's
// shutdown delay: the first SIGTERM starts the graceful stop (/readyz
// answers 503 while it waits), and a second one ends the process at once,
// by the signal, instead of after the minute.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	cfg := install(t, "")
	text, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(text), "shutdown_delay: 0s", "shutdown_delay: 1m", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: "mfagate", addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), bin: buildMfagate(t), cfg: cfg, out: newLines()}
	r.env = map[string]string{"MFAGATE_SERVER_ADDR": r.addr}
	stopAll(t, []*replica{r})
	r.start(t)

	r.signal(t, syscall.SIGTERM)
	waitFor(t, 10*time.Second, "/readyz to answer 503 after the first SIGTERM", func() bool {
		res, err := http.Get("http://" + r.addr + "/readyz")
		if err != nil {
			t.Fatalf("readyz during the shutdown delay: %v, want 503", err)
		}
		res.Body.Close()
		return res.StatusCode == http.StatusServiceUnavailable
	})
	r.signal(t, syscall.SIGTERM)
	r.wait(t, 20*time.Second) // well within the minute's delay
	if ws, ok := r.state.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("after the second SIGTERM: got %v, want the process ended by the signal", r.state)
	}
}
