package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// KeySize is the length of a key: 32 bytes for AES-256.
const KeySize = 32

// version is the first byte of every sealed value, so the format can
// change (another cipher, a key id) while old values still open.
const version = 1

const (
	nonceSize = 12 // the standard GCM nonce
	tagSize   = 16
	// Overhead is how many bytes Seal adds to the plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// ErrKeySize means the key is not KeySize bytes long: a configuration
// mistake, not something a person typed.
var ErrKeySize = errors.New("seal: the key must be exactly 32 bytes")

// ErrCannotOpen is returned by Open for anything that does not open: a
// wrong key, a wrong context, or a value that is truncated, altered or of
// an unknown version. Which of these it was is not told, since GCM cannot
// tell a wrong key from an altered value.
var ErrCannotOpen = errors.New("seal: cannot open sealed value: wrong key or context, or damaged data")

// Seal encrypts plaintext under key with AES-256-GCM and returns
//
//	version (1 byte, 1) || nonce (12 random bytes from rand) || ciphertext and tag
//
// context is authenticated but not stored: Open must be given the same
// bytes. Use one that names where the value lives, such as "totp:user:42".
// Random nonces are safe for up to 2^32 values under one key, far more
// than mfagate seals before the operator changes it.
func Seal(key, plaintext, context []byte, rand io.Reader) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, context), nil
}

// Open reverses Seal. It returns an error wrapping ErrKeySize for a key of
// the wrong length (as Seal does) and ErrCannotOpen for everything else that goes wrong.
func Open(key, sealed, context []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < Overhead || sealed[0] != version {
		return nil, ErrCannotOpen
	}
	plain, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], context)
	if err != nil {
		return nil, ErrCannotOpen
	}
	if plain == nil {
		plain = []byte{} // an empty secret opens as empty, not nil
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w, got %d", ErrKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
