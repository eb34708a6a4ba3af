package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// sessionCookie is the demo's session cookie: plain HTTP on loopback has
// no __Host- prefix and no Secure flag.
const sessionCookie = "mfagate_session"

// The controls a person uses, found by what they say.
const (
	signInButton  = `//form[@action="/login"]//button[normalize-space()="Sign in"]`
	signOutButton = `//form[@action="/logout"]//button[normalize-space()="Sign out"]`
)

func TestSignIn(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	submitSignIn(t, ctx, srv, ada.Username, ada.Password)
	// Ada has no second factor yet: she is offered one and skips it.
	resp := skipSetup(t, ctx)
	if resp.Status != http.StatusOK {
		t.Errorf("after signing in the page answered %d, want 200", resp.Status)
	}
	if got := pagePath(t, ctx); got != "/" {
		t.Errorf("after signing in the browser is at %q, want /", got)
	}
	if got, want := heading(t, ctx), "You are signed in"; got != want {
		t.Fatalf("after signing in the heading is %q, want %q", got, want)
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "Ada Administrator") {
		t.Errorf("the signed-in page does not show the name %q; it says:\n%s", "Ada Administrator", main)
	}
	if hdr := text(t, ctx, "header"); !strings.Contains(hdr, "Ada Administrator") || !strings.Contains(hdr, "Sign out") {
		t.Errorf("the header does not show the name and a Sign out button; it says:\n%s", hdr)
	}

	c := findCookie(t, ctx, srv.URL, sessionCookie)
	if c == nil {
		t.Fatalf("after signing in the browser holds no %s cookie", sessionCookie)
	}
	if !c.HTTPOnly {
		t.Errorf("%s cookie HttpOnly = false, want true", sessionCookie)
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("%s cookie SameSite = %q, want %q", sessionCookie, c.SameSite, network.CookieSameSiteLax)
	}
	if c.Path != "/" {
		t.Errorf("%s cookie Path = %q, want /", sessionCookie, c.Path)
	}
	if !c.Session {
		t.Errorf("%s cookie outlives the browser (expires %v); want a session cookie", sessionCookie, c.Expires)
	}
	// HttpOnly as the page sees it: scripts cannot read the token.
	if jsCookies := mustRun(t, ctx, "read document.cookie", chromedp.Evaluate[string]("document.cookie")); strings.Contains(jsCookies, sessionCookie) {
		t.Errorf("document.cookie = %q; the page's scripts can read the session cookie", jsCookies)
	}
}

func TestWrongPassword(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	submitSignIn(t, ctx, srv, ada.Username, ada.Password+"-wrong")

	title := mustRun(t, ctx, "read the title", chromedp.Title())
	if !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title = %q, want it to start with %q", title, "Error: ")
	}
	if got, want := heading(t, ctx), "Sign in"; got != want {
		t.Errorf("heading = %q, want %q", got, want)
	}
	const message = "The username or password is not correct. Check them and try again"
	summary := text(t, ctx, ".error-summary")
	for _, want := range []string{"There is a problem", message} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary does not say %q; it says:\n%s", want, summary)
		}
	}
	// The summary links to the field, and the same words sit next to it.
	href := mustRun(t, ctx, "read the summary's link", chromedp.AttributeValue(chromedp.CSS(".error-summary a"), "href"))
	if !href.Exists || href.Value != "#username" {
		t.Errorf("the error summary links to %q, want #username", href.Value)
	}
	if got := text(t, ctx, "#username-error"); !strings.Contains(got, message) {
		t.Errorf("the message next to the username says %q, want it to contain %q", got, message)
	}

	if got := mustRun(t, ctx, "read the username", chromedp.Value(chromedp.ID("username"))); got != ada.Username {
		t.Errorf("username field = %q, want %q (kept after the error)", got, ada.Username)
	}
	if got := mustRun(t, ctx, "read the password", chromedp.Value(chromedp.ID("password"))); got != "" {
		t.Errorf("password field = %q, want it empty after the error", got)
	}
	if c := findCookie(t, ctx, srv.URL, sessionCookie); c != nil {
		t.Errorf("after a wrong password the browser holds a %s cookie; want none", sessionCookie)
	}
}

func TestSignOut(t *testing.T) {
	srv := startServer(t)
	ctx := newBrowser(t)
	ada := srv.account(t, "ada")

	submitSignIn(t, ctx, srv, ada.Username, ada.Password)
	skipSetup(t, ctx)
	if got, want := heading(t, ctx), "You are signed in"; got != want {
		t.Fatalf("after signing in the heading is %q, want %q", got, want)
	}
	old := findCookie(t, ctx, srv.URL, sessionCookie)
	if old == nil {
		t.Fatalf("after signing in the browser holds no %s cookie", sessionCookie)
	}

	clickAndWait(t, ctx, "click Sign out", signOutButton)
	if got := pagePath(t, ctx); got != "/login" {
		t.Errorf("after signing out the browser is at %q, want /login", got)
	}
	if main := text(t, ctx, "main"); !strings.Contains(main, "You have signed out.") {
		t.Errorf("after signing out the page does not say %q; it says:\n%s", "You have signed out.", main)
	}
	if hdr := text(t, ctx, "header"); strings.Contains(hdr, "Sign out") {
		t.Errorf("after signing out the header still offers Sign out:\n%s", hdr)
	}
	if c := findCookie(t, ctx, srv.URL, sessionCookie); c != nil {
		t.Errorf("after signing out the browser still holds a %s cookie", sessionCookie)
	}

	mustDo(t, ctx, "open /account", chromedp.Navigate(srv.URL+"/account"))
	if got := pagePath(t, ctx); got != "/login" {
		t.Errorf("after signing out /account led to %q, want /login", got)
	}
	if got, want := heading(t, ctx), "Sign in"; got != want {
		t.Errorf("after signing out /account shows the heading %q, want %q", got, want)
	}
	mustDo(t, ctx, "find the sign-in form",
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.WaitVisible(signInButton))

	// Signing out ends the session on the server too: the old cookie,
	// put back, opens nothing.
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: old.Name, Value: old.Value, URL: srv.URL + "/",
		HTTPOnly: new(true), SameSite: network.CookieSameSiteLax,
	}); err != nil {
		t.Fatalf("put the old session cookie back: %v", err)
	}
	if c := findCookie(t, ctx, srv.URL, sessionCookie); c == nil || c.Value != old.Value {
		t.Fatalf("the browser did not take the old session cookie back")
	}
	mustDo(t, ctx, "open /account with the old session cookie", chromedp.Navigate(srv.URL+"/account"))
	if got := pagePath(t, ctx); got != "/login" {
		t.Errorf("with the session cookie from before signing out, /account led to %q, want /login", got)
	}
}

func TestDemoHealth(t *testing.T) {
	srv := startServer(t)
	client := newHTTPClient()
	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %s, want 200 OK; body: %s", path, resp.Status, body)
			}
		})
	}
}

// submitSignIn opens the sign-in page, types username and password as a
// person would, clicks Sign in and waits for the page it leads to.
func submitSignIn(t *testing.T, ctx context.Context, srv *server, username, password string) *network.Response {
	t.Helper()
	mustDo(t, ctx, "open the sign-in page and type the username and password",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password))
	return clickAndWait(t, ctx, "click Sign in", signInButton)
}

// clickAndWait clicks the button found by the XPath expression and waits
// for the page it leads to, returning that page's response.
func clickAndWait(t *testing.T, ctx context.Context, what, button string) *network.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(button, chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("%s: %v", what, stepError(err))
	}
	return resp
}

// heading returns the text of the page's <h1>.
func heading(t *testing.T, ctx context.Context) string {
	t.Helper()
	return text(t, ctx, "h1")
}

// text returns the visible text of the first element matching the CSS
// selector sel, trimmed.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(mustRun(t, ctx, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady)))
}

// pagePath returns the path of the page the browser shows.
func pagePath(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc := mustRun(t, ctx, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("the browser's location %q: %v", loc, err)
	}
	return u.Path
}

// findCookie returns the browser's cookie called name for pageURL, or nil.
func findCookie(t *testing.T, ctx context.Context, pageURL, name string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{pageURL}})
	if err != nil {
		t.Fatalf("read the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}
