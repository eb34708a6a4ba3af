// Package api is the JSON API under /api/v1, for programs acting for
// operators and support with a bearer token: people and their MFA
// (people.go), the audit log and the rollout (rollout.go), request
// bodies read strictly (body.go), and the contract, openapi.json, served
// at GET /api/v1/openapi.json. docs/api.md is its guide.
//
// Package web mounts it: the routes, and the roles each allows, are one
// table in web's routes.go, which calls the makers exported here with
// Deps, and which a test holds to openapi.json. Errors go through the one
// adapter of web/internal/site as {"error", "code"}. Rules that protect
// people live in package account, not here; and it must not import web
// or web/console.
package api
