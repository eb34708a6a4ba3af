// Package site is what every part of the web adapter shares: package web
// (the account holder's pages, forward-auth, health), web/console (the
// staff pages) and web/api (the JSON API) all import it, and it imports
// none of them, so mounting them from web's routes.go makes no cycle.
//
// It owns:
//   - the one handler shape, HandlerFunc, which writes its answer or
//     returns an error, and the one error adapter, Site.Error, which
//     turns that error into the HTML page or the JSON body by its
//     mfagate.Error code, logs the unexpected ones with the request id
//     and counts every one by code (mfagate_http_errors_total);
//   - rendering: the templates, parsed once at start-up (New fails on a
//     broken one), the Page every view embeds and Render;
//   - the request's id and client address, and the edge check of text
//     from outside (CheckInput);
//   - the session cookie (cookies.go), the sign-in guards that read it
//     (auth.go) and the return-address policy (redirect.go);
//   - the rollout and roles in words, for the help page and the console.
//
// It holds no route and no handler of its own beyond the guards and the
// edge check, and decides nothing a use case decides: that is package
// account's. The middleware only web applies, once, around its mux
// (security headers, request logs, panics) stays in web.
package site
