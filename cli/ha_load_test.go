package cli_test

// The bounded load of the three-replica test: a fixed number of workers,
// each sending one request at a time to the balancer on 127.0.0.1 and
// recording when it started, when it ended and what came back, until
// told to stop or until a count or a time runs out.

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// call is one request of the load and what came of it.
type call struct {
	kind       string // "sign-in", "forward-auth", "console" or "notice"
	method     string
	start, end time.Time
	status     int    // 0: no answer at all (a connection error)
	problem    string // why a non-5xx answer is not the one expected; "" when it is
}

// failed reports a 5xx or no answer.
func (c call) failed() bool { return c.status == 0 || c.status >= 500 }

// outstanding reports whether the request was under way at some moment
// between from and to.
func (c call) outstanding(from, to time.Time) bool { return c.start.Before(to) && c.end.After(from) }

// loadReason starts the reason given for each staff action of the load.
const loadReason = "load test: signed out on request"

// credentials are a username and its password.
type credentials struct{ user, pass string }

// loadPlan is what the workers send, mixed: sign-ins with a password,
// forward-auth checks of a person's session, console pages of a staff
// session, and, every noticeEvery-th request, a staff action that emails
// the person it is about.
type loadPlan struct {
	base         string
	tls          *tls.Config
	person       string // whose session the forward-auth checks carry
	personCookie string // its Cookie header
	staffCookie  string
	signIns      []credentials // one account per worker, so no two guess at once
	targets      []string      // people the console shows and staff sign out
	noticeEvery  int
	runs         int // loads started, to tell their requests apart
}

// loadRun is a running load.
type loadRun struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	calls [][]call // by worker
	n     atomic.Int64
}

// start runs len(p.signIns) workers until finish, maxCalls requests in
// all, or maxTime, whichever comes first.
func (p *loadPlan) start(maxCalls int, maxTime time.Duration) *loadRun {
	p.runs++
	run := p.runs
	r := &loadRun{stop: make(chan struct{}), calls: make([][]call, len(p.signIns))}
	deadline := time.Now().Add(maxTime)
	for w := range p.signIns {
		client := &http.Client{
			Transport:     &http.Transport{TLSClientConfig: p.tls.Clone(), MaxIdleConnsPerHost: 2},
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		r.wg.Go(func() {
			defer client.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-r.stop:
					return
				default:
				}
				if r.n.Add(1) > int64(maxCalls) || time.Now().After(deadline) {
					return
				}
				r.calls[w] = append(r.calls[w], p.send(client, fmt.Sprintf("%d/%d-%d", run, w, i), w, i))
			}
		})
	}
	return r
}

// count returns how many requests were sent so far.
func (r *loadRun) count() int { return int(r.n.Load()) }

// finish stops the workers, waits for their last requests, and returns
// every call.
func (r *loadRun) finish() []call {
	close(r.stop)
	r.wg.Wait()
	var all []call
	for _, cs := range r.calls {
		all = append(all, cs...)
	}
	return all
}

// send sends worker w's i-th request, which id names.
func (p *loadPlan) send(client *http.Client, id string, w, i int) call {
	target := p.targets[(w*7919+i)%len(p.targets)]
	var c call
	var req *http.Request
	var check func(res *http.Response, body string) string
	switch {
	case p.noticeEvery > 0 && i%p.noticeEvery == p.noticeEvery-1:
		c.kind = "notice"
		// A reason of its own, to find in the audit log: a POST the
		// balancer sent twice would be there twice.
		req = form(p.base+"/admin/people/"+target+"/end-sessions", url.Values{"reason": {loadReason + " " + id}})
		req.Header.Set("Cookie", p.staffCookie)
		check = func(res *http.Response, _ string) string {
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=end-sessions") {
				return fmt.Sprintf("got %d to %q, want 303 to the person's page saying it was done", res.StatusCode, res.Header.Get("Location"))
			}
			return ""
		}
	case (w+i)%3 == 0:
		c.kind = "sign-in"
		a := p.signIns[w]
		req = form(p.base+"/login", url.Values{"username": {a.user}, "password": {a.pass}})
		check = func(res *http.Response, _ string) string {
			if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/mfa/") {
				return fmt.Sprintf("got %d to %q, want 303 to the second step", res.StatusCode, res.Header.Get("Location"))
			}
			return ""
		}
	case (w+i)%3 == 1:
		c.kind = "forward-auth"
		req, _ = http.NewRequest("GET", p.base+"/auth/verify", nil)
		req.Header.Set("Cookie", p.personCookie)
		check = func(res *http.Response, _ string) string {
			if res.StatusCode != http.StatusOK || res.Header.Get("Remote-User") != p.person {
				return fmt.Sprintf("got %d for %q, want 200 for %s", res.StatusCode, res.Header.Get("Remote-User"), p.person)
			}
			return ""
		}
	default:
		c.kind = "console"
		req, _ = http.NewRequest("GET", p.base+"/admin/people/"+target, nil)
		req.Header.Set("Cookie", p.staffCookie)
		check = func(res *http.Response, body string) string {
			if res.StatusCode != http.StatusOK || !strings.Contains(body, target) {
				return fmt.Sprintf("got %d, want 200 with %s's page", res.StatusCode, target)
			}
			return ""
		}
	}
	c.method = req.Method
	c.start = time.Now()
	res, err := client.Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			c.status = res.StatusCode
			if !c.failed() {
				c.problem = check(res, string(body))
			}
		}
	}
	c.end = time.Now()
	if err != nil {
		c.status, c.problem = 0, err.Error()
	}
	return c
}

func form(u string, v url.Values) *http.Request {
	req, _ := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// tally sums up calls.
type tally struct {
	sent, failed, failedGET, wrong int
	byStatus                       map[int]int
}

func tallyOf(calls []call) tally {
	t := tally{byStatus: map[int]int{}}
	for _, c := range calls {
		t.sent++
		t.byStatus[c.status]++
		switch {
		case c.failed():
			t.failed++
			if c.method == "GET" {
				t.failedGET++
			}
		case c.problem != "":
			t.wrong++
		}
	}
	return t
}
