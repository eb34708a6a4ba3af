package web

import "net/http"

// routes lists every route of the service, once.
func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(s.Store, s.Logger))
	mux.Handle("GET /metrics", handleMetrics(s.Registry))

	mux.Handle("GET /login", s.handleLoginForm())
	mux.Handle("POST /login", s.handleLogin())
	mux.Handle("POST /logout", s.handleLogout())
	mux.Handle("GET /help", s.handleHelp())

	mux.Handle("GET /{$}", s.requireSignIn(s.handleHome()))
	mux.Handle("GET /account", s.requireSignIn(s.handleAccount()))
	mux.Handle("GET /account/password", s.requireSignIn(s.handlePasswordForm()))
	mux.Handle("POST /account/password", s.requireSignIn(s.handlePasswordChange()))
	mux.Handle("POST /account/sessions/end-others", s.requireSignIn(s.handleEndOtherSessions()))

	if s.DevOutbox {
		mux.Handle("GET /dev/outbox", s.handleDevOutbox())
	}
	mux.Handle("/", s.handleNotFound())
}
