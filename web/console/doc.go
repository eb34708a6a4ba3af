// Package console is the staff's pages under /admin: the rollout
// dashboard (dashboard.go, chart.go), the people list and its CSV export
// (people.go), a person's page and the support actions (person.go), and
// the audit log (audit.go), and their templates (templates/, drawn in
// web's layout; templates.go). Who may use which part is one table,
// consoleAccess (access.go), read by RequireStaff, which guards every
// console route, and by the navigation.
//
// Package web mounts it: its routes are listed in web's routes.go, which
// calls the makers exported here. It takes what it uses in Deps, renders
// with the shared templates and answers errors through the one adapter
// (web/internal/site). It holds no rule that protects people: the use
// cases in package account do, for the console, the API and the CLI
// alike; and it must not import web or web/api.
package console
