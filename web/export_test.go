package web

import "strings"

// APIRoute is a route of the JSON API as the tests read it; Roles is nil
// for the document, which needs no token.
type APIRoute struct {
	Method, Path string
	Roles        []string
}

// APIRoutes lists every route routes mounts under /api/v1/: the
// document, then apiRoutes.
func APIRoutes() []APIRoute {
	out := []APIRoute{{Method: "GET", Path: "/api/v1/openapi.json"}}
	for _, rt := range apiRoutes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		out = append(out, APIRoute{Method: method, Path: path, Roles: rt.roles})
	}
	return out
}
