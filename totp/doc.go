// Package totp owns authenticator-app codes (RFC 6238 over the HOTP of RFC
// 4226) with the numbers of SPEC.md section 4: 20-byte secrets, SHA-1, 6
// digits, a 30-second step counted from the Unix epoch, one step of skew
// each way, and no code accepted at or before the last accepted step. It
// also makes the otpauth:// URI that apps scan and the key shown as text.
//
// It is pure: randomness comes in as an io.Reader and the time as an
// argument; it never reads the clock, stores anything or logs. Encrypting a
// secret at rest is package seal's job; remembering the last accepted step,
// auditing a refused replay and notifying the person are the caller's.
package totp
