package web

import (
	"net/http"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/api"
	"github.com/mfagate/mfagate/web/console"
	"github.com/mfagate/mfagate/web/internal/site"
	"github.com/prometheus/client_golang/prometheus"
)

// routes lists every route of the service, once: the account holder's
// pages (this package), the console (web/console) and the JSON API
// (web/api). Handlers are site.HandlerFunc makers that take what they
// use; h adapts each to http.Handler, answering the error it returns with
// site.Error, the one error adapter.
func routes(mux *http.ServeMux, o Options, st *site.Site, m *metrics, db *dbCheck) {
	h, a := st.Handler, o.Accounts
	signedIn, started := st.RequireSignIn, st.RequireStarted

	// For machines: plain answers, not pages (health.go, metrics.go).
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /favicon.ico", handleFavicon())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(db, o.Logger))
	if !o.MetricsElsewhere {
		mux.Handle("GET /metrics", handleMetrics(o.Registry))
	}

	// Forward-auth (forwardauth.go): reverse proxies ask it before every
	// request to a protected application.
	mux.Handle(routeVerify, h(handleVerify(st, a, o.ForwardAuth, m)))

	mux.Handle("GET /login", h(handleLoginForm(st)))
	mux.Handle("POST /login", h(handleLogin(st, a)))
	mux.Handle("POST /logout", h(handleLogout(st, a)))
	mux.Handle("GET /login/forgot", h(handleForgotForm(st)))
	mux.Handle("POST /login/forgot", h(handleForgot(st, a)))
	// Emailed links (links.go): the token in the path to open the page,
	// in the form to use it.
	mux.Handle("GET /reset/{token}", h(handleLinkPage(st, a, mfagate.LinkReset)))
	mux.Handle("POST /reset", h(handleLinkChoose(st, a, mfagate.LinkReset)))
	mux.Handle("GET /invite/{token}", h(handleLinkPage(st, a, mfagate.LinkInvite)))
	mux.Handle("POST /invite", h(handleLinkChoose(st, a, mfagate.LinkInvite)))
	mux.Handle("GET /help", h(handleHelp(st, a)))

	mux.Handle("GET /{$}", h(signedIn(handleHome(st, a))))
	mux.Handle("GET /account", h(signedIn(handleAccount(st, a))))
	mux.Handle("GET /account/password", h(signedIn(handlePasswordForm(st))))
	mux.Handle("POST /account/password", h(signedIn(handlePasswordChange(st, a))))
	mux.Handle("POST /account/sessions/end-others", h(signedIn(handleEndOtherSessions(st, a))))
	mux.Handle("POST /account/factors/{id}/remove", h(signedIn(handleRemoveFactor(st, a))))
	mux.Handle("POST /account/recovery-codes", h(signedIn(handleRenewRecoveryCodes(st, a))))
	mux.Handle("GET /account/email", h(signedIn(handleAddressForm(st))))
	mux.Handle("POST /account/email", h(signedIn(handleAddressSend(st, a))))
	mux.Handle("GET /account/email/code", h(signedIn(handleAddressCodePage(st, a))))
	mux.Handle("POST /account/email/code", h(signedIn(handleAddressConfirm(st, a))))

	// The second step: reachable part-way through signing in.
	mux.Handle("GET /mfa/challenge", h(started(handleChallengePage(st, a))))
	mux.Handle("POST /mfa/challenge", h(started(handleChallenge(st, a))))
	mux.Handle("POST /mfa/challenge/send", h(started(handleChallengeSend(st, a))))
	mux.Handle("GET /mfa/setup", h(started(handleSetupChoice(st, a))))
	mux.Handle("POST /mfa/setup", h(started(handleSetupChosen(st, a))))
	mux.Handle("POST /mfa/setup/skip", h(started(handleSetupSkip(st, a))))
	mux.Handle("GET /mfa/setup/email", h(started(handleEmailSetupPage(st, a))))
	mux.Handle("POST /mfa/setup/email", h(started(handleEmailSetupConfirm(st, a))))
	mux.Handle("POST /mfa/setup/email/send", h(started(handleEmailSetupSend(st, a))))
	mux.Handle("GET /mfa/setup/totp", h(started(handleTOTPSetupPage(st, a))))
	mux.Handle("POST /mfa/setup/totp", h(started(handleTOTPSetupConfirm(st, a))))
	mux.Handle("GET /mfa/recovery-codes", h(started(handleRecoveryCodes(st, a))))
	mux.Handle("GET /mfa/recovery-codes.txt", h(started(handleRecoveryCodesText(st, a))))
	mux.Handle("POST /mfa/recovery-codes", h(started(handleRecoveryCodesDone(st, a))))

	// Console (web/console): the staff pages. console.RequireStaff
	// enforces the role matrix (console/access.go) after site's
	// RequireSignIn, and refuses staff who did not sign in with a second
	// factor.
	cd := console.Deps{Site: st, Accounts: a}
	staff := func(area console.Area, fn site.HandlerFunc) http.Handler {
		return h(console.RequireStaff(cd, area, fn))
	}
	mux.Handle("GET /admin", staff(console.AreaDashboard, console.Dashboard(cd)))
	mux.Handle("GET /admin/forecast", staff(console.AreaDashboard, console.ForecastList(cd)))
	mux.Handle("GET /admin/people", staff(console.AreaPeople, console.People(cd)))
	mux.Handle("GET /admin/people.csv", staff(console.AreaPeople, console.PeopleCSV(cd)))
	mux.Handle("GET /admin/people/{username}", staff(console.AreaPeople, console.Person(cd)))
	mux.Handle("GET /admin/add-person", staff(console.AreaPeople, console.AddPersonForm(cd)))
	mux.Handle("POST /admin/add-person", staff(console.AreaPeople, console.AddPerson(cd)))
	mux.Handle("POST /admin/people/{username}/reset-mfa", staff(console.AreaPeople, console.PersonAction(cd, "reset-mfa")))
	mux.Handle("POST /admin/people/{username}/unlock", staff(console.AreaPeople, console.PersonAction(cd, "unlock")))
	mux.Handle("POST /admin/people/{username}/resend-code", staff(console.AreaPeople, console.PersonAction(cd, "resend-code")))
	mux.Handle("POST /admin/people/{username}/end-sessions", staff(console.AreaPeople, console.PersonAction(cd, "end-sessions")))
	mux.Handle("POST /admin/people/{username}/extend", staff(console.AreaPeople, console.PersonAction(cd, "extend")))
	mux.Handle("POST /admin/people/{username}/address-fixed", staff(console.AreaPeople, console.PersonAction(cd, console.FixAddress)))
	mux.Handle("POST /admin/people/{username}/roles", staff(console.AreaPeople, console.PersonRoles(cd)))
	mux.Handle("POST /admin/people/{username}/invite", staff(console.AreaPeople, console.PersonAction(cd, console.Invite)))
	mux.Handle("POST /admin/people/{username}/revoke-invite", staff(console.AreaPeople, console.PersonAction(cd, console.RevokeInvite)))
	mux.Handle("POST /admin/people/{username}/email", staff(console.AreaPeople, console.PersonEmail(cd)))
	mux.Handle("GET /admin/audit", staff(console.AreaAudit, console.Audit(cd)))

	// JSON API (web/api, docs/api.md, web/api/openapi.json): programs with
	// a bearer token (apiRoutes), and the document, open to anyone. Its
	// own mux answers unknown paths and wrong methods under /api/v1/ with
	// JSON errors (404, 405).
	ad := api.Deps{Site: st, Accounts: a}
	apiMux := http.NewServeMux()
	apiMux.Handle("GET /api/v1/openapi.json", h(api.OpenAPI()))
	for _, rt := range apiRoutes {
		apiMux.Handle(rt.pattern, h(api.WithToken(ad, rt.roles, rt.handler(ad))))
	}
	mux.Handle("/api/v1/", h(api.Fallback(apiMux)))

	if o.DevOutbox {
		mux.Handle("GET /dev/outbox", h(handleDevOutbox(st, o.Store, o.DevMailbox)))
	}
	// Anything else: 405 with Allow for a known path under another
	// method, 404 for an unknown one (unmatched.go).
	mux.Handle("/", h(handleUnmatched(mux)))
}

// MetricsRoutes is the handler of the metrics listener
// (server.metrics_addr): GET /metrics, and 404 for anything else.
func MetricsRoutes(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", handleMetrics(reg))
	return mux
}

// apiRoute is a route of the JSON API that needs a token: its pattern,
// the roles whose tokens may call it, and its handler's maker.
type apiRoute struct {
	pattern string
	roles   []string
	handler func(api.Deps) api.Func
}

// apiRoutes is the JSON API, the one list of its routes: routes mounts
// it, and the tests hold it to the OpenAPI document and the role matrix
// of docs/api.md. api.Staff = operator and support tokens, api.Support =
// support tokens only.
var apiRoutes = []apiRoute{
	{"GET /api/v1/people", api.Staff, api.People},
	{"POST /api/v1/people", api.Support, api.CreatePerson},
	{"GET /api/v1/people/{username}", api.Staff, api.Person},
	{"POST /api/v1/people/{username}/disable", api.Support, api.Disable},
	{"POST /api/v1/people/{username}/roles", api.Support, api.SetRoles},
	{"POST /api/v1/people/{username}/email", api.Support, api.SetEmail},
	{"GET /api/v1/people/{username}/mfa", api.Staff, api.PersonMFA},
	{"POST /api/v1/people/{username}/reset-mfa", api.Support, api.ResetMFA},
	{"POST /api/v1/people/{username}/unlock", api.Support, api.Unlock},
	{"POST /api/v1/people/{username}/invite", api.Support, api.Reinvite},
	{"POST /api/v1/people/{username}/invite/revoke", api.Support, api.RevokeInvite},
	{"POST /api/v1/people/{username}/address-fixed", api.Support, api.AddressFixed},
	{"GET /api/v1/audit", api.Staff, api.Audit},
	{"GET /api/v1/rollout", api.Staff, api.Rollout},
	{"GET /api/v1/rollout/progress", api.Staff, api.Progress},
	{"GET /api/v1/rollout/forecast", api.Staff, api.Forecast},
}
