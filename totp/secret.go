package totp

import (
	"encoding/base32"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/mfagate/mfagate"
)

// SecretSize is the length in bytes of the secrets NewSecret makes: 160
// bits, the size RFC 4226 recommends and every common app accepts.
const SecretSize = 20

// MinSecretSize is the shortest secret DecodeSecret accepts: 128 bits, the
// floor of RFC 4226 section 4.
const MinSecretSize = 16

// maxKeyInput bounds the text DecodeSecret looks at, so that pasting a
// novel into the field costs nothing.
const maxKeyInput = 256

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns SecretSize bytes read from rand, which should be
// crypto/rand.Reader outside tests.
func NewSecret(rand io.Reader) ([]byte, error) {
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(rand, secret); err != nil {
		return nil, fmt.Errorf("read random secret: %w", err)
	}
	return secret, nil
}

// EncodeSecret returns secret in the form apps take: upper-case base32 of
// RFC 4648 without padding.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// FormatSecret splits an encoded secret into groups of four characters
// separated by spaces, the way the setup page shows it to be typed in by
// hand. Spaces already present are dropped first, so it can be applied twice.
func FormatSecret(encoded string) string {
	s := strings.ReplaceAll(encoded, " ", "")
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// DecodeSecret reverses EncodeSecret and FormatSecret. It accepts lower
// case, spaces, hyphens and trailing '=' padding, since people copy keys
// from many places. Bad input gets an EINVALID error that says what is
// wrong; a secret shorter than MinSecretSize is refused.
func DecodeSecret(s string) ([]byte, error) {
	if len(s) > maxKeyInput {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The key is too long")
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '\t' || r == '-':
			return -1
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
	clean = strings.TrimRight(clean, "=")
	if clean == "" {
		return nil, mfagate.Errorf(mfagate.EINVALID, "Enter the key")
	}
	for _, r := range clean {
		if !('A' <= r && r <= 'Z' || '2' <= r && r <= '7') {
			return nil, mfagate.Errorf(mfagate.EINVALID,
				"The key can only contain the letters A to Z and the numbers 2 to 7")
		}
	}
	secret, err := b32.DecodeString(clean)
	// Every character is valid, so only the length can be wrong. The decoder
	// ignores a lone trailing character, hence the comparison.
	if err != nil || b32.EncodeToString(secret) != clean {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The key is not complete. Check that you copied all of it")
	}
	if len(secret) < MinSecretSize {
		return nil, mfagate.Errorf(mfagate.EINVALID, "The key is too short. Check that you copied all of it")
	}
	return secret, nil
}

// URI returns the otpauth:// URI that apps read from a QR code:
//
//	otpauth://totp/ISSUER:ACCOUNT?algorithm=SHA1&digits=6&issuer=ISSUER&period=30&secret=...
//
// The issuer appears in the label and in the query (SPEC.md section 4):
// older apps read only the label, newer ones prefer the parameter. Both
// parts of the label are percent-escaped, a colon inside either as %3A, and
// spaces are written %20 everywhere because some apps show a '+' literally.
//
// The Key URI Format forbids a colon in the issuer: apps split the decoded
// label at its first colon, so an issuer holding one would make them misread
// the account name. Configuration should refuse such an issuer; URI still
// escapes it rather than change what the operator wrote.
func URI(issuer, account string, secret []byte) string {
	label := labelEscape(issuer) + ":" + labelEscape(account)
	q := url.Values{
		"secret":    {EncodeSecret(secret)},
		"issuer":    {issuer},
		"algorithm": {"SHA1"},
		"digits":    {"6"},
		"period":    {"30"},
	}
	// Encode writes a literal '+' as %2B, so each '+' left is a space.
	query := strings.ReplaceAll(q.Encode(), "+", "%20")
	return "otpauth://totp/" + label + "?" + query
}

// labelEscape escapes one part of the label. PathEscape leaves ':' alone,
// which here is the separator between issuer and account.
func labelEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}
