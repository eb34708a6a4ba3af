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

	if s.DevOutbox {
		mux.Handle("GET /dev/outbox", s.handleDevOutbox())
	}
	mux.Handle("/", s.handleNotFound())
}
