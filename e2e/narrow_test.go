package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// noSidewaysScroll fails the test when, at 360 px, the page or any of its
// tables is wider than the screen: a table that scrolls sideways hides
// columns with no cue that they are there.
func noSidewaysScroll(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	mustDo(t, ctx, "narrow the window to 360 px", chromedp.EmulateViewport(360, 800))
	type width struct {
		Name           string
		Scroll, Client int
	}
	wide := mustRun(t, ctx, "measure "+what, chromedp.Evaluate[[]width](`(() => {
		const out = [];
		const page = document.documentElement;
		if (page.scrollWidth > page.clientWidth) out.push({Name: "the page", Scroll: page.scrollWidth, Client: page.clientWidth});
		for (const el of document.querySelectorAll(".table-scroll, table")) {
			if (el.scrollWidth > el.clientWidth + 1) out.push({Name: el.tagName + " " + (el.querySelector("caption") || {}).textContent, Scroll: el.scrollWidth, Client: el.clientWidth});
		}
		return out;
	})()`))
	for _, w := range wide {
		t.Errorf("%s at 360 px: %s is %d px wide in %d px", what, w.Name, w.Scroll, w.Client)
	}
	saveScreenshots(t, ctx, what)
}

// TestTablesFitAPhone: the account page, the console's people list, a
// person's page, the audit log, the dashboard and the forecast list show
// their tables at 360 px without
// scrolling sideways:
// each row becomes a card of label: value lines.
func TestTablesFitAPhone(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	setUpStaff(t, ctx, srv, srv.account(t, "sam"))

	mustDo(t, ctx, "open the account page", chromedp.Navigate(srv.URL+"/account"))
	noSidewaysScroll(t, ctx, "account")
	if main := text(t, ctx, "main"); !contains(main, "Last active", "Remove", " on Linux") {
		t.Errorf("the account page at 360 px does not show every column:\n%s", main)
	}
	mustDo(t, ctx, "open the people list", chromedp.Navigate(srv.URL+"/admin/people"))
	noSidewaysScroll(t, ctx, "admin-people-narrow")
	mustDo(t, ctx, "open the audit log", chromedp.Navigate(srv.URL+"/admin/audit"))
	noSidewaysScroll(t, ctx, "admin-audit-narrow")
	mustDo(t, ctx, "open sam's own page in the console", chromedp.Navigate(srv.URL+"/admin/people/sam"))
	noSidewaysScroll(t, ctx, "admin-person-narrow")
	mustDo(t, ctx, "open the dashboard", chromedp.Navigate(srv.URL+"/admin"))
	noSidewaysScroll(t, ctx, "admin-dashboard-narrow")
	mustDo(t, ctx, "open today's forecast list", chromedp.Navigate(srv.URL+"/admin/forecast"))
	noSidewaysScroll(t, ctx, "admin-forecast-narrow")
	if main := text(t, ctx, "main"); !contains(main, "Offered setup", "Last signed in", "Why") {
		t.Errorf("the forecast list at 360 px does not show every column:\n%s", main)
	}
}

// contains reports whether s holds every one of parts.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
