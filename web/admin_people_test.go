package web_test

import (
	"context"
	"encoding/csv"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

var personLinkRE = regexp.MustCompile(`<a href="/admin/people/([^"?/]+)">`)

func TestPeopleSearchFiltersAndPages(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", "support")
	seedPeople(t, h, 120)

	// Filters: p000 has email only, p001 an app, p002 both (see seedPeople).
	tests := []struct {
		name, query string
		has, hasNot []string
	}{
		{"by name", "q=PERSON+p00", []string{"p001", "p009"}, []string{"p010", "sam"}},
		{"by email", "q=p042%40example", []string{"p042"}, []string{"p041"}},
		{"by role", "role=support", []string{"sam"}, []string{"p000", "alice"}},
		{"no factor", "mfa=none&q=p00", []string{"p003", "p004"}, []string{"p000", "p001", "p002"}},
		{"set up", "mfa=setup&q=p00", []string{"p000", "p001", "p002"}, []string{"p003"}},
		{"email", "mfa=email&q=p00", []string{"p000", "p002"}, []string{"p001"}},
		{"app", "mfa=totp&q=p00", []string{"p001", "p002"}, []string{"p000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := h.get(t, sam, "/admin/people?"+tt.query).body
			var got []string
			for _, m := range personLinkRE.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			for _, n := range tt.has {
				if !slices.Contains(got, n) {
					t.Errorf("got %v, want %s among them", got, n)
				}
			}
			for _, n := range tt.hasNot {
				if slices.Contains(got, n) {
					t.Errorf("got %v, want no %s", got, n)
				}
			}
		})
	}

	page := h.get(t, sam, "/admin/people?q=p0").body
	for _, tag := range []string{">Set up: email codes<", ">Set up: authenticator app<", ">Set up: email codes and authenticator app<", ">Not set up<", ">Skipped 3 times<", ">Never signed in<", ">Disabled<"} {
		if !strings.Contains(page, tag) {
			t.Errorf("the list has no status tag %s", tag)
		}
	}
	// Paging: 50 a page, "Next page" carries the filters and the last id.
	first := personLinkRE.FindAllStringSubmatch(page, -1)
	if len(first) != 50 {
		t.Fatalf("first page: got %d people, want 50", len(first))
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Next page</a>`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no Next page link")
	}
	u, _ := url.Parse(strings.ReplaceAll(next[1], "&amp;", "&"))
	if u.Query().Get("q") != "p0" || u.Query().Get("after") == "" {
		t.Fatalf("next page link %q does not keep the search and give the last id", next[1])
	}
	second := personLinkRE.FindAllStringSubmatch(h.get(t, sam, u.RequestURI()).body, -1)
	if len(second) != 50 || second[0][1] != "p050" {
		t.Fatalf("second page: got %d people starting %v, want 50 starting p050", len(second), second[0])
	}

	bad := h.get(t, sam, "/admin/people?mfa=maybe")
	if bad.StatusCode != 400 || !strings.Contains(bad.body, `<a href="#mfa">Choose a security code state from the list</a>`) {
		t.Fatalf("unknown MFA state: got %d, want 400 with the error linked to the field", bad.StatusCode)
	}
}

func TestPeopleExport(t *testing.T) {
	h := newHarness(t)
	sam := h.staff(t, "sam", "support")
	for _, name := range []string{"eve", "mal", "neg", "at"} {
		h.mustUser(t, name, pw, "admin")
	}
	h.addFactor(t, "eve", mfagate.MethodEmail)
	h.addFactor(t, "eve", mfagate.MethodTOTP)
	rename := map[string]string{"eve": "=HYPERLINK(\"http://evil.example\",\"x\")", "mal": "+SUM(1,2)", "neg": "-2+3", "at": "@cmd"}
	for user, name := range rename {
		setName(t, h, user, name)
	}
	bob := h.client(t)
	h.mustUser(t, "bob", pw, "user")
	h.signIn(t, bob, "bob", pw)

	res := h.get(t, sam, "/admin/people.csv?role=admin")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: got %d %q %q, want a CSV attachment", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"username", "name", "email", "roles", "mfa", "skips", "last_sign_in", "locked"}; !slices.Equal(recs[0], want) {
		t.Fatalf("header: got %v, want %v", recs[0], want)
	}
	rows := map[string][]string{}
	for _, r := range recs[1:] {
		rows[r[0]] = r
	}
	if len(rows) != 4 || rows["bob"] != nil {
		t.Fatalf("got rows for %v, want the four admins only", slices.Sorted(maps.Keys(rows)))
	}
	for user, name := range rename {
		if got := rows[user][1]; got != "'"+name {
			t.Errorf("%s's name: got %q, want it quoted against formulas as %q", user, got, "'"+name)
		}
	}
	if got := rows["eve"]; got[2] != "eve@example.com" || got[3] != "admin" || got[4] != "email+totp" || got[5] != "0" || got[6] != "" || got[7] != "no" {
		t.Errorf("eve's row: got %v", got)
	}
	if got := rows["mal"][4]; got != "none" {
		t.Errorf("mal's mfa: got %q, want none", got)
	}

	all := h.get(t, sam, "/admin/people.csv?mfa=none")
	recs, _ = csv.NewReader(strings.NewReader(all.body)).ReadAll()
	var bobRow []string
	for _, r := range recs {
		if r[0] == "bob" {
			bobRow = r
		}
	}
	if bobRow == nil || bobRow[6] != h.clock.Now().UTC().Format(time.RFC3339) || bobRow[5] != "1" {
		t.Errorf("bob's row: got %v, want his sign-in time and one skip", bobRow)
	}
}

// setName changes a display name behind the web's back.
func setName(tb testing.TB, h *harness, user, name string) {
	tb.Helper()
	if err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		u, err := tx.UserByUsername(user)
		if err != nil {
			return err
		}
		u.Name = name
		return tx.UpdateUser(u)
	}); err != nil {
		tb.Fatal(err)
	}
}

func TestAuditLogFilters(t *testing.T) {
	h := newHarness(t)
	olga := h.staff(t, "olga", "operator")
	sam := h.staff(t, "sam", "support")
	h.mustUser(t, "bob", pw, "user")
	h.post(t, sam, "/admin/people/bob/end-sessions", url.Values{"reason": {"Lost laptop"}})

	page := h.get(t, olga, "/admin/audit?subject=bob&actor=sam").body
	if !strings.Contains(page, "Sessions ended") || !strings.Contains(page, "Lost laptop") || strings.Contains(page, "<code>user.create</code>") {
		t.Fatalf("filtered by subject and actor:\n%s", between(page, "<tbody>", "</tbody>"))
	}
	page = h.get(t, olga, "/admin/audit?kind=user.create").body
	if n := strings.Count(page, "<code>user.create</code>"); n != 4 {
		t.Errorf("by kind: got %d account creations, want 4 (alice, olga, sam, bob)", n)
	}
	today := h.clock.Now().Format("2006-01-02")
	page = h.get(t, olga, "/admin/audit?kind=user.create&until="+today).body
	if n := strings.Count(page, "<code>user.create</code>"); n != 4 {
		t.Errorf("until today (included): got %d, want 4", n)
	}
	page = h.get(t, olga, "/admin/audit?since="+h.clock.Now().AddDate(0, 0, 1).Format("2006-01-02")).body
	if !strings.Contains(page, "No events match.") {
		t.Error("since tomorrow: want nothing")
	}
	bad := h.get(t, olga, "/admin/audit?since=yesterday")
	if bad.StatusCode != 400 || !strings.Contains(bad.body, `<a href="#since">Enter the first day as year-month-day`) {
		t.Fatalf("bad date: got %d, want 400 linked to the field", bad.StatusCode)
	}
	// Paging backwards, newest first.
	err := h.store.Update(context.Background(), func(tx mfagate.Tx) error {
		for i := range 60 {
			e := &mfagate.AuditEvent{At: h.clock.Now(), Kind: mfagate.AuditSignInPassword, Outcome: mfagate.OutcomeFailure,
				Actor: "nobody", Subject: "nobody", Detail: "attempt " + strconv.Itoa(i)}
			if err := tx.AppendAudit(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page = h.get(t, olga, "/admin/audit?subject=nobody").body
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older events</a>`).FindStringSubmatch(page)
	if strings.Count(page, "<code>signin.password</code>") != 50 || next == nil {
		t.Fatal("want 50 events and an Older events link")
	}
	older := h.get(t, olga, strings.ReplaceAll(next[1], "&amp;", "&")).body
	if n := strings.Count(older, "<code>signin.password</code>"); n != 10 {
		t.Fatalf("older page: got %d events, want 10", n)
	}
	if !strings.Contains(page, "attempt 59<") || strings.Contains(page, "attempt 9<") || !strings.Contains(older, "attempt 0<") {
		t.Error("the events are not newest first across pages")
	}
}
