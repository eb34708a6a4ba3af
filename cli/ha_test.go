package cli_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// TestThreeReplicasBehindHAProxy runs examples/ha as an operator would:
// three "mfagate serve" processes of the real binary on one PostgreSQL
// database, with the one examples/ha/mfagate.yaml (the installation's
// addresses, key and mail server set from the environment, a rollout
// appended), behind HAProxy running examples/ha/haproxy.cfg unchanged,
// and a real SMTP server. A rollout notice is due, so its campaign is
// being delivered while the test runs.
//
// Through the balancer a person signs in with password and TOTP, and a
// staff member does too. Then, under a bounded load of sign-ins,
// forward-auth checks, console pages and staff actions that email people,
// one replica is killed with SIGKILL: only requests under way at that
// moment may fail, and only POSTs (HAProxy sends a GET again, never a
// POST), and every other answer must be the right one: the sessions keep
// working on the other two. The killed replica is started again and
// rejoins, then each replica in turn is stopped with SIGTERM and started
// again, under load, without a single failed request. Last, every email
// queued reached the SMTP server, at most one extra copy per sender of the
// killed replica, each copy with the same Message-ID; the campaign reached
// everyone exactly once; and the scheduled jobs ran once per turn across
// all the replicas' starts.
func TestThreeReplicasBehindHAProxy(t *testing.T) {
	haBin := findProgram(t, "haproxy", "haproxy", "the three-replica test")
	dsn := requirePostgres(t, "the three-replica test")
	began := time.Now()
	s := newHASite(t, haBin, dsn)
	t.Logf("three replicas and haproxy are up, %s after the test began", time.Since(began).Round(time.Millisecond))

	// Through the balancer: alice sets up an authenticator app, then signs
	// in again with a code from it; sam, who is staff, sets one up too.
	login, _ := url.Parse(s.base + "/login")
	alice := s.browser(t)
	if res, _ := alice.signIn(login, "alice", haPassword); res.Request.URL.Path != "/" {
		t.Fatalf("alice setting up TOTP through the balancer: ended at %s, want the home page", res.Request.URL)
	}
	again := s.browser(t)
	again.secrets = alice.secrets
	if res, _ := again.signIn(login, "alice", haPassword); res.Request.URL.Path != "/" {
		t.Fatalf("alice signing in with password and TOTP through the balancer: ended at %s, want the home page", res.Request.URL)
	}
	sam := s.browser(t)
	if res, _ := sam.signIn(login, "sam", haPassword); res.Request.URL.Path != "/" {
		t.Fatalf("sam setting up TOTP: ended at %s", res.Request.URL)
	}
	if res, body := sam.get(s.base + "/admin/people/person001"); res.StatusCode != 200 || !strings.Contains(body, "person001") {
		t.Fatalf("the console for sam: got %d, want 200 with person001's page", res.StatusCode)
	}
	s.checkForwardedHeaders(t, again)
	s.checkMetricsPrivate(t)

	plan := &loadPlan{base: s.base, tls: s.tls, person: "alice", personCookie: sessionCookie(t, again, s.base),
		staffCookie: sessionCookie(t, sam, s.base), signIns: s.signIns, targets: s.targets, noticeEvery: 16}

	// Kill one replica during the load and the campaign.
	load := plan.start(20000, 90*time.Second)
	waitFor(t, 60*time.Second, "200 requests of load and the campaign's first emails", func() bool {
		return load.count() >= 200 && s.campaignMail(t, "sent") > 0
	})
	pendingAtKill := s.campaignMail(t, "pending")
	if pendingAtKill == 0 {
		load.finish()
		t.Fatalf("the campaign was delivered before the kill; make it bigger than %d people", haPeople)
	}
	victim := s.replicas[1]
	killed := time.Now()
	victim.signal(t, syscall.SIGKILL)
	victim.wait(t, 10*time.Second)
	gone := time.Now()
	s.hap.waitStatus(t, victim.name, "DOWN", 20*time.Second)
	afterDown := load.count()
	waitFor(t, 60*time.Second, "200 more requests on the two replicas left", func() bool { return load.count() >= afterDown+200 })
	killCalls := load.finish()
	kill := tallyOf(killCalls)
	inFlight, inFlightPOST := checkKill(t, killCalls, victim.name, killed, gone)
	t.Logf("kill: %d requests, %d failed (statuses %v); %d under way when %s was killed, %d of them POSTs; campaign emails pending then: %d",
		kill.sent, kill.failed, kill.byStatus, inFlight, victim.name, inFlightPOST, pendingAtKill)

	// Restart it under load: it rejoins and serves; then a rolling
	// restart, one replica at a time, loses nothing.
	load = plan.start(100000, 180*time.Second)
	victim.start(t)
	s.hap.waitStatus(t, victim.name, "UP", 30*time.Second)
	served := s.hap.server(t, victim.name).int("hrsp_2xx")
	waitFor(t, 30*time.Second, victim.name+" to serve requests again after rejoining", func() bool {
		return s.hap.server(t, victim.name).int("hrsp_2xx") >= served+20
	})
	for _, r := range s.replicas {
		s.restart(t, r)
	}
	rollCalls := load.finish()
	roll := tallyOf(rollCalls)
	for _, c := range rollCalls {
		if c.failed() || c.problem != "" {
			t.Errorf("during the rolling restart: %s %s at %s: %d %s", c.method, c.kind, c.start.Format("15:04:05.000"), c.status, c.problem)
		}
	}
	t.Logf("rolling restart: %d requests, %d failed, %d wrong answers (statuses %v)", roll.sent, roll.failed, roll.wrong, roll.byStatus)

	m := s.checkMail(t)
	s.checkJobs(t)
	notices := s.checkOnce(t, append(killCalls, rollCalls...))

	stats := s.hap.stats(t)
	back := stats["mfagate/BACKEND"]
	errors := kill.byStatus[0] + roll.byStatus[0]
	reportFigures(t, "three replicas behind HAProxy: requests sent %d (%d at the kill, %d in the rolling restart); 5xx %d (haproxy counted %d), connection errors %d; "+
		"in flight at the kill %d (%d POSTs); haproxy retries %s, redispatches %s; emails queued %d, received %d, duplicates %d; "+
		"campaign reached %d of %d people; staff actions done %d, none twice; %s in all",
		kill.sent+roll.sent, kill.sent, roll.sent, kill.failed+roll.failed-errors, stats["login/FRONTEND"].int("hrsp_5xx"), errors,
		inFlight, inFlightPOST, back["wretr"], back["wredis"], m.queued, m.received, m.duplicates,
		m.reached, s.everyone, notices, time.Since(began).Round(time.Second))
}

// checkForwardedHeaders checks that HAProxy drops what a browser claims
// in forwarded headers: the URL a forward-auth check is about, and the
// address mfagate records and throttles.
func (s *haSite) checkForwardedHeaders(t *testing.T, signedIn *visitor) {
	t.Helper()
	if res, _ := signedIn.get(s.base+"/auth/verify?redirect=true", "X-Original-URL", s.base+"/forged"); res.StatusCode != http.StatusOK {
		t.Fatalf("forward-auth check of alice's session: got %d, want 200", res.StatusCode)
	}
	anon := s.browser(t)
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if res, _ := anon.get(s.base+"/auth/verify?redirect=true", "X-Original-URL", s.base+"/forged"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a browser's X-Original-URL through haproxy: got %d to %q, want 401: haproxy must drop it", res.StatusCode, res.Header.Get("Location"))
	}
	req := form(s.base+"/login", url.Values{"username": {"load0"}, "password": {haPassword}})
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if res, _ := anon.do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("load0's password through the balancer: got %d, want 303 to the second step", res.StatusCode)
	}
	var addr string
	if err := s.db.QueryRow(`SELECT client_addr FROM audit_events WHERE subject = 'load0' AND kind = $1 ORDER BY id DESC LIMIT 1`,
		mfagate.AuditSignInPassword).Scan(&addr); err != nil || addr != "127.0.0.1" {
		t.Errorf("the address recorded for a sign-in claiming X-Forwarded-For 203.0.113.9: got %q (%v), want 127.0.0.1", addr, err)
	}
}

// checkMetricsPrivate checks that the metrics cannot be read through the
// balancer, and that each replica serves them on its own address.
func (s *haSite) checkMetricsPrivate(t *testing.T) {
	t.Helper()
	if res, body := s.browser(t).get(s.base + "/metrics"); res.StatusCode != http.StatusNotFound || strings.Contains(body, "mfagate_ready") {
		t.Errorf("/metrics through the balancer: got %d, want 404 and no metrics", res.StatusCode)
	}
	for _, r := range s.replicas {
		if code, body := mustGet(t, http.DefaultClient, "http://"+r.metrics+"/metrics"); code != 200 || !strings.Contains(body, "\nmfagate_ready 1\n") {
			t.Errorf("%s's metrics at %s: got %d, want 200 with mfagate_ready 1", r.name, r.metrics, code)
		}
	}
}

// checkKill checks the calls of the load around the kill of victim (the
// signal sent at killed, the process seen gone at gone): a request may
// fail only if it was under way then, and only if it is a POST, which
// HAProxy must not send again; every other answer must be the right one.
// It returns how many requests were under way, and how many were POSTs.
func checkKill(t *testing.T, calls []call, victim string, killed, gone time.Time) (inFlight, inFlightPOST int) {
	t.Helper()
	failed := 0
	for _, c := range calls {
		under := c.outstanding(killed, gone)
		if under {
			inFlight++
			if c.method == "POST" {
				inFlightPOST++
			}
		}
		if c.failed() {
			failed++
			t.Logf("failed at the kill: %s %s %s..%s: %d %s", c.method, c.kind, c.start.Format("15:04:05.000"), c.end.Format("15:04:05.000"), c.status, c.problem)
		}
		switch {
		case c.failed() && !under:
			t.Errorf("%s %s answered %d (%s) at %s, not under way when %s was killed (%s to %s)", c.method, c.kind, c.status, c.problem,
				c.start.Format("15:04:05.000"), victim, killed.Format("15:04:05.000"), gone.Format("15:04:05.000"))
		case c.failed() && c.method != "POST":
			t.Errorf("%s %s under way at the kill failed (%d %s): haproxy should have sent it again", c.method, c.kind, c.status, c.problem)
		case !c.failed() && c.problem != "":
			t.Errorf("%s %s: %s", c.method, c.kind, c.problem)
		}
	}
	if failed > inFlightPOST {
		t.Errorf("%d requests failed at the kill, more than the %d POSTs under way then", failed, inFlightPOST)
	}
	return inFlight, inFlightPOST
}

// checkOnce checks that no POST was done twice: each staff action of the
// load (each with a reason of its own) is in the audit log at most once,
// and those answered are there. It returns how many were done.
func (s *haSite) checkOnce(t *testing.T, calls []call) int {
	t.Helper()
	rows, err := s.db.Query(`SELECT reason, count(*) FROM audit_events WHERE reason LIKE $1 GROUP BY reason`, loadReason+" %")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	done := 0
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("the staff action %q was done %d times, want once: a POST was sent again", reason, n)
		}
		done++
	}
	answered := 0
	for _, c := range calls {
		if c.kind == "notice" && !c.failed() {
			answered++
		}
	}
	if done < answered {
		t.Errorf("the audit log holds %d of the load's staff actions, fewer than the %d answered", done, answered)
	}
	return done
}

// restart stops r with SIGTERM and starts it again, as a rolling restart
// does: HAProxy must take it out while it still serves (within
// server.shutdown_delay), it must exit with status 0, and HAProxy must
// put it back.
func (s *haSite) restart(t *testing.T, r *replica) {
	t.Helper()
	r.signal(t, syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for s.hap.server(t, r.name)["status"] != "DOWN" {
		select {
		case <-r.exited:
			t.Fatalf("%s stopped before haproxy took it out: shutdown_delay is shorter than haproxy's checks need", r.name)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not take %s out within 20 s of SIGTERM", r.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.wait(t, 40*time.Second)
	if !r.state.Success() {
		t.Errorf("%s after SIGTERM: got %v, want exit status 0", r.name, r.state)
	}
	r.start(t)
	s.hap.waitStatus(t, r.name, "UP", 30*time.Second)
}

// reportFigures logs a test's measured figures and, when
// MFAGATE_TEST_FIGURES names a file, appends them to it: "go test ./..."
// shows a passing test's log only with -v, and CI prints that file.
func reportFigures(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	path := os.Getenv("MFAGATE_TEST_FIGURES")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = fmt.Fprintf(f, "%s: %s\n", t.Name(), line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("write the figures to MFAGATE_TEST_FIGURES: %v", err)
	}
}
