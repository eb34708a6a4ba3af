// Package password hashes and checks passwords: argon2id stored as PHC
// strings, so the parameters can be raised later and old hashes upgraded at
// the next sign-in, and the policy of SPEC.md section 4 (length limits, no
// composition rules, common passwords refused).
//
// It is pure: randomness comes in as an io.Reader and it does no other I/O.
package password
