package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// handleUnmatched answers what no route of mux matches, as our page: 405
// with Allow when the path takes other methods, as the API's fallback
// does, and 404 otherwise. It is the catch-all route, so the mux's own
// plain-text 405 never answers; it asks mux which methods would match
// instead. That costs a copy of the request, only on this path.
func handleUnmatched(mux *http.ServeMux) site.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			msg := "This page does not take what was sent. Go back and try again"
			if !slices.Contains(allow, http.MethodGet) {
				msg = "This address only takes a form sent from its page. Go back and use the button on the page"
			}
			return &site.HTTPError{Status: http.StatusMethodNotAllowed, Code: site.CodeMethod, Message: msg}
		}
		return mfagate.Errorf(mfagate.ENOTFOUND,
			"If you typed the web address, check it is correct. If you pasted it, check you copied the whole address")
	}
}

// probeMethods are the methods allowedMethods tries.
var probeMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// allowedMethods lists, in order, the methods for which a route of mux
// other than the catch-all matches r's path. GET routes take HEAD too.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	probe := r.Clone(r.Context())
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}
