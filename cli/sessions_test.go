package cli_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/cli"
	"github.com/mfagate/mfagate/sqlstore"
)

// TestServeWritesSessionUsesWhenItStops: a use of a session waits in
// memory for the next flush of touches, and the server writes it as it
// stops, so that a restart does not make a session in use look idle. On
// the way, /metrics counts forward-auth's checks by how they were
// answered.
func TestServeWritesSessionUsesWhenItStops(t *testing.T) {
	cfg := install(t, "")
	if r := run(t, "plum orchard lantern\n", "user", "add", "alice", "--email", "alice@example.com", "--roles", "user",
		"--password-stdin", "--config", cfg); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := newLines(), newLines()
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--config", cfg}, func(string) string { return "" }, strings.NewReader(""), out, errOut)
	}()
	addr := out.await(t, regexp.MustCompile(`listening on (\S+),`))[1]
	base := "http://" + addr
	c := browser(t)
	signIn(t, c, base, "alice", "plum orchard lantern")
	store, err := sqlstore.Open(context.Background(), sqlstore.DriverSQLite, filepath.Join(filepath.Dir(cfg), "db", "mfagate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	lastSeen := func() time.Time {
		var latest time.Time
		err := store.View(context.Background(), func(tx mfagate.Tx) error {
			u, err := tx.UserByUsername("alice")
			if err != nil {
				return err
			}
			ss, err := tx.UserSessions(u.ID)
			for _, s := range ss {
				if s.LastSeenAt.After(latest) {
					latest = s.LastSeenAt
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return latest
	}
	signedIn := lastSeen()
	for time.Now().UnixMilli() <= signedIn.UnixMilli() { // into the next millisecond, without a sleep
	}
	used := time.Now().Truncate(time.Millisecond)
	if code, _ := mustGet(t, c, base+"/account"); code != http.StatusOK {
		t.Fatalf("/account: got %d", code)
	}
	for range 2 { // a miss, then a hit
		if code, _ := mustGet(t, c, base+"/auth/verify"); code != http.StatusOK {
			t.Fatalf("/auth/verify: got %d", code)
		}
	}
	forged := &http.Request{Method: "GET", Header: http.Header{"Cookie": {"mfagate_session=" + strings.Repeat("A", 64)}}}
	forged.URL, _ = url.Parse(base + "/auth/verify")
	if res, err := http.DefaultClient.Do(forged); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/auth/verify with a forged cookie: got %v, %v, want 401", res, err)
	} else {
		res.Body.Close()
	}
	_, metrics := mustGet(t, c, base+"/metrics")
	for _, want := range []string{`mfagate_session_checks_total{result="hit"} 1`, `mfagate_session_checks_total{result="miss"} 1`,
		`mfagate_session_checks_total{result="refused"} 1`, "mfagate_session_cache_sessions 1", "mfagate_session_cache_evictions_total 0",
		"mfagate_session_revocations_listening 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if got := lastSeen(); got.After(signedIn) {
		t.Fatalf("stored last use %v while serving: want it still the sign-in's %v (written at the next flush)", got, signedIn)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d: %s", code, errOut.String())
	}
	if got := lastSeen(); got.Before(used) {
		t.Fatalf("stored last use after stopping: got %v, want at least %v", got, used)
	}
}
