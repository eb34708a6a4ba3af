// Package emailcode owns the one-time codes sent by email, with the rules
// of SPEC.md section 4: six digits drawn uniformly from the random source
// (leading zeros kept), stored only as a keyed hash bound to the sign-in
// attempt, single use, an expiry, a cap on wrong tries and a resend
// cooldown. It decides; it does not remember.
//
// It is pure: randomness comes in as an io.Reader and the time as an
// argument. It never reads the clock, sends mail, stores codes or counts
// failures itself: the caller (package account) loads the mfagate.EmailCode,
// asks Check, and records the outcome. The hourly send cap needs a count
// from the store and is the caller's too.
package emailcode
