// Package web is mfagate's HTTP adapter: NewServer builds the whole
// http.Handler, with security headers on every response and cross-origin
// protection on every state change.
//
// It owns the one routes.go, where every route of the service is listed
// once as "METHOD /path", and mounts from there the parts it is made of:
//   - here, the account holder's pages: signing in and out (login.go),
//     a forgotten password (forgot.go) and the pages emailed links open
//     (links.go), the second step (challenge.go, setup.go, steps.go), recovery codes
//     (recovery.go), the account page (account.go, banner.go) and the
//     help page (help.go); forward-auth for reverse proxies
//     (forwardauth.go); health, readiness and metrics (health.go,
//     metrics.go); the dev outbox (outbox.go); the middleware every
//     response passes through (middleware.go); and the layout every page
//     is drawn in, the account holder's templates and the static files;
//   - web/console, the staff's pages under /admin;
//   - web/api, the JSON API under /api/v1 and its OpenAPI document;
//   - web/internal/site, what all of them share: the handler shape
//     (site.HandlerFunc), the one error adapter (site.Error), rendering,
//     the session cookie, the sign-in guards and the return-address
//     policy.
//
// Handlers are makers that take only what they use and return a
// site.HandlerFunc: they write their answer or return an error, which
// site.Error turns into the page or the JSON body. Use cases live in
// package account, not here.
package web
