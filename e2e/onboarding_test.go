package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Support adds a person and changes roles in the console (issue 14,
// points 1 and 3), in the demo.

const (
	addPersonHeading = "Add a person"
	addPersonLink    = `//main//a[normalize-space()="Add a person"]`
	addPersonButton  = `//main//form//button[normalize-space()="Add them and send the invitation"]`
	changeRolesBtn   = `//main//form[substring(@action, string-length(@action) - string-length("/roles") + 1) = "/roles"]//button[normalize-space()="Change roles"]`
)

// TestSupportAddsAPersonAndChangesRoles: Sam, from support, adds Noor
// from the console with the organisation's roles offered as checkboxes;
// her page says her invitation waits and the invitation is in the
// outbox. A mistyped username comes back next to its field. Sam then
// changes Uma's roles, with a reason, and the change is in her history.
func TestSupportAddsAPersonAndChangesRoles(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := newBrowser(t)
	setUpStaff(t, ctx, srv, srv.account(t, "sam"))

	clickAndWait(t, ctx, "click Console in the header", consoleLink)
	clickAndWait(t, ctx, "click People in the console", peopleLink)
	clickAndWait(t, ctx, "click Add a person", addPersonLink)
	expectPage(t, ctx, "/admin/add-person", addPersonHeading)
	saveScreenshots(t, ctx, "admin-add-person")
	if n := mustRun(t, ctx, "count the staff roles offered", chromedp.Evaluate[int](
		`document.querySelectorAll('input[name="roles"][value="operator"], input[name="roles"][value="support"]').length`)); n != 0 {
		t.Error("the form offers a staff role")
	}

	mustDo(t, ctx, "fill in the form with a bad username",
		chromedp.SendKeys(chromedp.ID("username"), "noor ahmed"),
		chromedp.SendKeys(chromedp.ID("name"), "Noor Ahmed"),
		chromedp.SendKeys(chromedp.ID("email"), "noor@example.com"),
		chromedp.Click(chromedp.ID("roles-admin"), chromedp.NodeVisible))
	clickAndWait(t, ctx, "click Add them", addPersonButton)
	expectPage(t, ctx, "/admin/add-person", addPersonHeading)
	if got := text(t, ctx, "#username-error"); !strings.Contains(got, "can only use letters") {
		t.Errorf("the error by the username says %q", got)
	}
	saveScreenshots(t, ctx, "admin-add-person-error")
	mustDo(t, ctx, "correct the username",
		chromedp.Clear(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "noor"))
	clickAndWait(t, ctx, "click Add them", addPersonButton)
	expectPage(t, ctx, "/admin/people/noor", "Noor Ahmed")
	main := text(t, ctx, "main")
	for _, want := range []string{"An invitation is on its way to them", "Invited, not yet accepted", "Send a new invitation", "Withdraw the invitation"} {
		if !strings.Contains(main, want) {
			t.Errorf("Noor's page does not say %q", want)
		}
	}
	saveScreenshots(t, ctx, "admin-person-invited")
	if ms := mailsTo(t, srv, "noor@example.com", "Set up your account"); len(ms) != 1 || !strings.Contains(ms[0].Body, "/invite/") {
		t.Errorf("the invitation to Noor in the outbox: %+v", ms)
	}

	// Uma's roles.
	openPerson(t, ctx, "uma", "Uma User")
	mustDo(t, ctx, "tick admin and give a reason",
		chromedp.Click(chromedp.ID("roles-admin"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.ID("roles-reason"), "Runs the office systems now"))
	clickAndWait(t, ctx, "click Change roles", changeRolesBtn)
	expectPage(t, ctx, "/admin/people/uma", "Uma User")
	if main := text(t, ctx, "main"); !strings.Contains(main, "Their roles are changed") || !strings.Contains(main, "admin, user") {
		t.Errorf("Uma's page after the change:\n%.600s", main)
	}
	if rows := historyRows(t, ctx); len(rows) == 0 || !strings.Contains(strings.Join(rows[0], " "), "Runs the office systems now") {
		t.Errorf("the newest event of Uma's history: %v", rows)
	}
	saveScreenshots(t, ctx, "admin-person-roles")
}
