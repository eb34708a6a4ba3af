// Package rollout owns the dated MFA rollout: the phase model, the
// decision of what a person meets at sign-in (Decide), the checks that
// keep a schedule coherent (Validate) and the what-if counts operators ask
// for (Simulator).
//
// It is pure: it imports only the root package and the standard library,
// reads no clock (now is always an argument), does no I/O and keeps no
// state between calls. Config turns YAML into a Rollout, account asks
// Decide at every sign-in, and the CLI and admin pages print timelines and
// simulations from it; none of them repeats its rules.
//
// The rules, from SPEC section 3: a started phase stays in force; for a
// person the strictest started phase whose audience includes one of their
// roles (or "all") wins, the later one on a tie; and a person who has a
// factor is always challenged with it, whatever the phase, so MFA once set
// up is never bypassed.
package rollout
