package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// routes lists every route of the service, once.
func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(s.db, s.Logger))
	if !s.MetricsElsewhere {
		mux.Handle("GET /metrics", handleMetrics(s.Registry))
	}

	// Forward-auth (forwardauth.go): reverse proxies ask it before every
	// request to a protected application.
	mux.Handle(routeVerify, s.handleVerify())

	mux.Handle("GET /login", s.handleLoginForm())
	mux.Handle("POST /login", s.handleLogin())
	mux.Handle("POST /logout", s.handleLogout())
	mux.Handle("GET /help", s.handleHelp())

	mux.Handle("GET /{$}", s.requireSignIn(s.handleHome()))
	mux.Handle("GET /account", s.requireSignIn(s.handleAccount()))
	mux.Handle("GET /account/password", s.requireSignIn(s.handlePasswordForm()))
	mux.Handle("POST /account/password", s.requireSignIn(s.handlePasswordChange()))
	mux.Handle("POST /account/sessions/end-others", s.requireSignIn(s.handleEndOtherSessions()))
	mux.Handle("POST /account/factors/{id}/remove", s.requireSignIn(s.handleRemoveFactor()))
	mux.Handle("POST /account/recovery-codes", s.requireSignIn(s.handleRenewRecoveryCodes()))

	// The second step: reachable part-way through signing in.
	mux.Handle("GET /mfa/challenge", s.requireStarted(s.handleChallengePage()))
	mux.Handle("POST /mfa/challenge", s.requireStarted(s.handleChallenge()))
	mux.Handle("POST /mfa/challenge/send", s.requireStarted(s.handleChallengeSend()))
	mux.Handle("GET /mfa/setup", s.requireStarted(s.handleSetupChoice()))
	mux.Handle("POST /mfa/setup", s.requireStarted(s.handleSetupChosen()))
	mux.Handle("POST /mfa/setup/skip", s.requireStarted(s.handleSetupSkip()))
	mux.Handle("GET /mfa/setup/email", s.requireStarted(s.handleEmailSetupPage()))
	mux.Handle("POST /mfa/setup/email", s.requireStarted(s.handleEmailSetupConfirm()))
	mux.Handle("POST /mfa/setup/email/send", s.requireStarted(s.handleEmailSetupSend()))
	mux.Handle("GET /mfa/setup/totp", s.requireStarted(s.handleTOTPSetupPage()))
	mux.Handle("POST /mfa/setup/totp", s.requireStarted(s.handleTOTPSetupConfirm()))
	mux.Handle("GET /mfa/recovery-codes", s.requireStarted(s.handleRecoveryCodes()))
	mux.Handle("GET /mfa/recovery-codes.txt", s.requireStarted(s.handleRecoveryCodesText()))
	mux.Handle("POST /mfa/recovery-codes", s.requireStarted(s.handleRecoveryCodesDone()))

	// Console: the staff pages (web/admin_*.go). requireStaff enforces the
	// role matrix in consoleAccess (admin_access.go) after requireSignIn,
	// and refuses staff who did not sign in with a second factor.
	mux.Handle("GET /admin", s.requireStaff(areaDashboard, s.handleDashboard()))
	mux.Handle("GET /admin/people", s.requireStaff(areaPeople, s.handlePeople()))
	mux.Handle("GET /admin/people.csv", s.requireStaff(areaPeople, s.handlePeopleCSV()))
	mux.Handle("GET /admin/people/{username}", s.requireStaff(areaPeople, s.handlePerson()))
	mux.Handle("POST /admin/people/{username}/reset-mfa", s.requireStaff(areaPeople, s.handlePersonAction("reset-mfa")))
	mux.Handle("POST /admin/people/{username}/unlock", s.requireStaff(areaPeople, s.handlePersonAction("unlock")))
	mux.Handle("POST /admin/people/{username}/resend-code", s.requireStaff(areaPeople, s.handlePersonAction("resend-code")))
	mux.Handle("POST /admin/people/{username}/end-sessions", s.requireStaff(areaPeople, s.handlePersonAction("end-sessions")))
	mux.Handle("POST /admin/people/{username}/extend", s.requireStaff(areaPeople, s.handlePersonAction("extend")))
	mux.Handle("POST /admin/people/{username}/address-fixed", s.requireStaff(areaPeople, s.handlePersonAction(fixAddress)))
	mux.Handle("GET /admin/audit", s.requireStaff(areaAudit, s.handleAudit()))

	// JSON API (docs/api.md, web/openapi.json): programs with a bearer
	// token (apiRoutes), and the document, open to anyone. Its own mux
	// answers unknown paths and wrong methods under /api/v1/ with JSON
	// errors (404, 405).
	api := http.NewServeMux()
	api.Handle("GET /api/v1/openapi.json", handleOpenAPI())
	for _, rt := range apiRoutes {
		api.Handle(rt.pattern, s.apiHandler(rt.roles, rt.handler(s)))
	}
	mux.Handle("/api/v1/", s.handleAPIFallback(api))

	if s.DevOutbox {
		mux.Handle("GET /dev/outbox", s.handleDevOutbox())
	}
	// Anything else: 405 with Allow for a known path under another
	// method, 404 for an unknown one (render.go).
	mux.Handle("/", s.handleUnmatched(mux))
}

// MetricsRoutes is the handler of the metrics listener
// (server.metrics_addr): GET /metrics, and 404 for anything else.
func MetricsRoutes(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", handleMetrics(reg))
	return mux
}

// apiRoute is a route of the JSON API that needs a token: its pattern,
// the roles whose tokens may call it, and its handler.
type apiRoute struct {
	pattern string
	roles   []string
	handler func(*server) apiFunc
}

// apiRoutes is the JSON API, the one list of its routes: routes mounts
// it, and the tests hold it to the OpenAPI document and the role matrix
// of docs/api.md. apiStaff = operator and support tokens, apiSupport =
// support tokens only.
var apiRoutes = []apiRoute{
	{"GET /api/v1/people", apiStaff, (*server).handleAPIPeople},
	{"POST /api/v1/people", apiSupport, (*server).handleAPICreatePerson},
	{"GET /api/v1/people/{username}", apiStaff, (*server).handleAPIPerson},
	{"POST /api/v1/people/{username}/disable", apiSupport, (*server).handleAPIDisable},
	{"GET /api/v1/people/{username}/mfa", apiStaff, (*server).handleAPIPersonMFA},
	{"POST /api/v1/people/{username}/reset-mfa", apiSupport, (*server).handleAPIResetMFA},
	{"POST /api/v1/people/{username}/unlock", apiSupport, (*server).handleAPIUnlock},
	{"POST /api/v1/people/{username}/address-fixed", apiSupport, (*server).handleAPIAddressFixed},
	{"GET /api/v1/audit", apiStaff, (*server).handleAPIAudit},
	{"GET /api/v1/rollout", apiStaff, (*server).handleAPIRollout},
	{"GET /api/v1/rollout/progress", apiStaff, (*server).handleAPIProgress},
}
