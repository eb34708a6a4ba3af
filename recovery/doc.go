// Package recovery owns recovery codes, with the numbers of SPEC.md
// section 4: each code carries 80 random bits as 16 base32 characters,
// shown in groups of four, and is stored only as a keyed hash bound to
// its owner.
//
// It is pure: randomness comes in as an io.Reader. It never stores codes,
// marks them used, throttles attempts or sends the email that says a code
// was used; those belong to the caller (package account) and the store,
// which redeems a code by looking up the hash Hash returns.
package recovery
