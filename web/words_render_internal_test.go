package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/web/console"
	"github.com/mfagate/mfagate/web/internal/site"
	"github.com/mfagate/mfagate/web/webtest"
)

// pageCase draws one page of web/templates from its handler's view type,
// filled (webtest.Fill) with n of every counted thing.
type pageCase struct {
	page, variant string
	// view builds the view for n, with every bool set to on.
	view func(t *testing.T, n int, on bool) any
	// counts are the nouns the page counts, singular and plural: the page
	// drawn for n must say each as "n noun(s)".
	counts [][2]string
}

// say is what a count of n reads as: "1 minute", "2 minutes". Written
// here rather than by mfagate.Plural, so the test does not check the
// pages with the code that writes them.
func say(n int, noun [2]string) string {
	if n == 1 {
		return "1 " + noun[0]
	}
	return fmt.Sprintf("%d %s", n, noun[1])
}

// wordServices are use cases whose durations are n units, so that the
// words they make for pages ("Wait 2 minutes") are drawn with n too; for
// n = 0, which no setting allows, the defaults.
func wordServices(t *testing.T) map[int]*account.Service {
	store := sqltest.SQLite().New(t)
	out := map[int]*account.Service{}
	for n := range 3 {
		o := account.Options{Store: store, Key: []byte("0123456789abcdef0123456789abcdef"),
			Clock: mfagate.NewManualClock(webtest.FillTime)}
		if n > 0 {
			o.ResetTTL = time.Duration(n) * time.Hour
			o.MFA.CodeTTL = time.Duration(n) * time.Minute
			o.Throttle.LockFor = time.Duration(n) * time.Minute
		}
		s, err := account.New(o)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = s
	}
	return out
}

func filled[V any](n int, on bool) V {
	var v V
	webtest.Fill(&v, n, on, "Sample words")
	return v
}

// TestPagesRenderedWithCountsSayThemInWords draws every page of
// web/templates with 0, 1 and 2 of each thing it counts, every switch on
// and off, and holds what people read to plain words: no name from the
// code, and every count agreeing with its noun.
func TestPagesRenderedWithCountsSayThemInWords(t *testing.T) {
	base, _ := url.Parse("https://mfa.example.com")
	st, err := site.New(site.Config{Templates: templateFS, MorePages: []fs.FS{console.Templates}, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	services := wordServices(t)
	methods := func(v *[]string) { *v = []string{mfagate.MethodEmail, mfagate.MethodTOTP} }

	cases := []pageCase{
		{page: "account", view: func(t *testing.T, n int, on bool) any {
			v := filled[accountView](n, on)
			if on && n == 0 { // 0 recovery codes left is said only beside a factor
				v.Factors = filled[accountView](1, on).Factors
			}
			for i := range v.Factors {
				v.Factors[i].Method = []string{mfagate.MethodEmail, mfagate.MethodTOTP}[i%2]
			}
			ago := []time.Duration{time.Minute, time.Hour, 24 * time.Hour}
			for i := range v.Sessions {
				v.Sessions[i].Active = site.Ago(webtest.FillTime.Add(-time.Duration(n)*ago[i%3]), webtest.FillTime)
			}
			return v
		}, counts: [][2]string{{"unused recovery code", "unused recovery codes"}}},
		{page: "address", view: func(t *testing.T, n int, on bool) any { return filled[addressView](n, on) }},
		{page: "address_code", view: func(t *testing.T, n int, on bool) any { return filled[addressCodeView](n, on) },
			counts: [][2]string{{"minute", "minutes"}}},
		{page: "challenge", variant: "totp", view: challenge(mfagate.MethodTOTP)},
		{page: "challenge", variant: "email", view: challenge(mfagate.MethodEmail), counts: [][2]string{{"minute", "minutes"}}},
		{page: "challenge", variant: "recovery", view: challenge(mfagate.MethodRecovery)},
		{page: "choose_password", variant: "invite", view: choosePassword(mfagate.LinkInvite)},
		{page: "choose_password", variant: "reset", view: choosePassword(mfagate.LinkReset)},
		{page: "error"}, // drawn by site.Error, below
		{page: "forgot", view: func(t *testing.T, n int, on bool) any { return filled[forgotView](n, on) }},
		{page: "forgot_sent", view: func(t *testing.T, n int, on bool) any {
			v := filled[forgotSentView](n, on)
			v.ResetFor, v.AgainAfter = services[n].ResetFor(), services[n].ResetAgainAfter()
			return v
		}},
		{page: "help", view: func(t *testing.T, n int, on bool) any {
			v := filled[helpView](n, on)
			v.CodeMinutes = services[n].CodeMinutes()
			return v
		}, counts: [][2]string{{"minute", "minutes"}}},
		{page: "home", view: func(t *testing.T, n int, on bool) any { return filled[homeView](n, on) }},
		{page: "limit", view: func(t *testing.T, n int, on bool) any {
			v := filled[limitView](n, on)
			v.LockFor = services[n].LockFor()
			v.Message = mfagate.ErrorMessage(waitInline(st, &account.WaitError{Until: webtest.FillTime, Wait: time.Duration(n) * time.Second}))
			return v
		}},
		{page: "link_dead", view: func(t *testing.T, n int, on bool) any { return filled[struct{ site.Page }](n, on) }},
		{page: "login", view: func(t *testing.T, n int, on bool) any { return filled[loginView](n, on) }},
		{page: "outbox", view: func(t *testing.T, n int, on bool) any { return filled[outboxView](n, on) }},
		{page: "password", view: func(t *testing.T, n int, on bool) any { return filled[passwordView](n, on) }},
		{page: "recovery_codes", view: func(t *testing.T, n int, on bool) any { return filled[recoveryView](n, on) }},
		{page: "setup", view: func(t *testing.T, n int, on bool) any {
			v := filled[setupView](n, on)
			methods(&v.Methods)
			v.Has = map[string]bool{mfagate.MethodEmail: on, mfagate.MethodTOTP: !on}
			return v
		}},
		{page: "setup_email", view: func(t *testing.T, n int, on bool) any { return filled[emailSetupView](n, on) },
			counts: [][2]string{{"minute", "minutes"}}},
		{page: "setup_totp", view: func(t *testing.T, n int, on bool) any { return filled[totpSetupView](n, on) }},
	}

	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.page] = true
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name != "layout" && !strings.HasPrefix(name, "_") && !covered[name] {
			t.Errorf("%s has no case here: add one, so that its words are checked", f)
		}
	}

	for _, c := range cases {
		if c.view == nil {
			continue
		}
		t.Run(strings.Trim(c.page+"/"+c.variant, "/"), func(t *testing.T) {
			seen := map[string]int{}
			for _, on := range []bool{false, true} {
				var texts [3]string
				for n := range 3 {
					rec := httptest.NewRecorder()
					if err := st.Render(rec, httptest.NewRequest("GET", "/", nil), http.StatusOK, c.page, c.view(t, n, on)); err != nil {
						t.Fatalf("n=%d on=%v: %v", n, on, err)
					}
					texts[n] = webtest.VisibleText(rec.Body.String())
					checkWords(t, fmt.Sprintf("n=%d on=%v", n, on), texts[n])
					for _, noun := range c.counts {
						if strings.Contains(texts[n], say(n, noun)) {
							seen[say(n, noun)]++
						}
					}
				}
				if texts[1] == texts[2] {
					t.Errorf("on=%v: the page reads the same for 1 and 2 of everything: the filled view does not reach it", on)
				}
			}
			for _, noun := range c.counts {
				for n := range 3 {
					if seen[say(n, noun)] == 0 {
						t.Errorf("the page never says %q when it counts %d", say(n, noun), n)
					}
				}
			}
		})
	}

	t.Run("error", func(t *testing.T) {
		for _, err := range []error{mfagate.Errorf(mfagate.ENOTFOUND, "That page does not exist"), errors.New("a database gone")} {
			rec := httptest.NewRecorder()
			st.Error(rec, httptest.NewRequest("GET", "/", nil), err)
			checkWords(t, err.Error(), webtest.VisibleText(rec.Body.String()))
		}
	})
}

func challenge(method string) func(t *testing.T, n int, on bool) any {
	return func(t *testing.T, n int, on bool) any {
		v := filled[challengeView](n, on)
		v.Method = method
		v.Methods = []string{mfagate.MethodEmail, mfagate.MethodTOTP}[:min(n, 2)]
		return v
	}
}

func choosePassword(purpose string) func(t *testing.T, n int, on bool) any {
	return func(t *testing.T, n int, on bool) any {
		v := filled[linkView](n, on)
		v.Purpose = purpose
		return v
	}
}

func checkWords(t *testing.T, where, text string) {
	t.Helper()
	for _, p := range webtest.WordProblems(text) {
		t.Errorf("%s: %s in:\n%s", where, p, text)
	}
}
