// Package web is mfagate's HTTP adapter: NewServer builds the whole
// http.Handler — pages rendered from embedded html/template files, the
// stylesheet, health and metrics endpoints — with security headers on
// every response and cross-origin protection on every state change.
//
// Every route is listed once, in routes.go. Handlers are makers that take
// only what they use; use cases live in package account, not here.
package web
