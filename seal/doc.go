// Package seal owns the encryption of secrets at rest (TOTP secrets, and
// anything else that must be read back rather than only compared):
// AES-256-GCM under the operator's key, with a context string as
// additional authenticated data, so a sealed value opens only in the place
// it was sealed for ("totp:user:42" does not open as "totp:user:43").
//
// It is pure: the key and the randomness come in as arguments. It does not
// read key files or the environment (config and cli do), store anything or
// log; its errors never contain key, plaintext or sealed bytes.
package seal
