package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Request bodies of the JSON API: read strictly, so that what a program
// meant is what is done, or it is told why not.

// decodeBody reads the request's JSON object into dst strictly: the media
// type must be JSON, the body at most 64 KiB, one object with only the
// fields dst has, each once and of the right type, its text clean
// (checkJSONText).
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &site.HTTPError{Status: http.StatusUnsupportedMediaType, Code: site.CodeMediaType,
			Message: "Send the body as JSON, with the header \"Content-Type: application/json\""}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		return bodyError(err)
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	// Decoding null into a struct changes nothing and is no error.
	if first := bytes.TrimLeft(body, " \t\r\n"); first[0] != '{' {
		return mfagate.Errorf(mfagate.EINVALID, "The body must be a JSON object, not a JSON null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return mfagate.Errorf(mfagate.EINVALID, "The body must hold one JSON object and nothing after it")
	}
	return nil
}

// bodyError says in one sentence what is wrong with a request body.
func bodyError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		invalid = func(format string, args ...any) error { return mfagate.Errorf(mfagate.EINVALID, format, args...) }
	)
	switch {
	case errors.As(err, &tooBig):
		return &site.HTTPError{Status: http.StatusRequestEntityTooLarge, Code: site.CodeTooLarge,
			Message: fmt.Sprintf("The body is larger than %d KiB", maxAPIBody>>10)}
	case errors.Is(err, io.EOF):
		return invalid("The body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("The body ends in the middle of its JSON")
	case errors.As(err, &syntax):
		return invalid("The body is not valid JSON (at byte %d): %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "invalid character "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return invalid("The body must be a JSON object, not a JSON %s", typ.Value)
		}
		return invalid("Field %q must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("Unknown field %s: check its spelling against the API document", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalid("The body could not be read as JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind as JSON does.
func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}

// checkJSONText walks the body's first JSON value token by token and
// refuses what encoding/json would let through without a word: a field
// given twice (it keeps the last, and it matches field names without
// regard to case, so "reason" and "Reason" fill one field: see foldKey),
// and strings with bytes that are not UTF-8 or unpaired surrogate escapes (it puts
// U+FFFD in their place), NUL or control characters other than tab and
// line breaks. Syntax errors are left to the decoder, whose messages say
// where. The standard library's Decoder.Token is enough for this; bodies
// are at most 64 KiB, so the second pass costs little.
func checkJSONText(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*jsonFrame
	var start int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error for the decoder to report
		}
		end := dec.InputOffset()
		// The token's bytes as sent, with the separators before it
		// (spaces, ":" and ","), which are ASCII.
		raw := body[start:end]
		start = end
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil
			}
			stack[len(stack)-1].advance()
			continue
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			key := tok.(string) // the decoder allows nothing else here
			if !jsonTextOK(raw, key) {
				return mfagate.Errorf(mfagate.EINVALID, "A field name%s holds characters that cannot be used: %s", top.where(), jsonBadText)
			}
			folded := foldKey(key)
			if first, dup := top.seen[folded]; dup {
				if first == key {
					return mfagate.Errorf(mfagate.EINVALID, "Field %q appears twice: give each field once", top.child(key))
				}
				return mfagate.Errorf(mfagate.EINVALID, "Fields %q and %q are the same field (names are matched without regard to case): give it once",
					top.child(first), top.child(key))
			}
			top.seen[folded], top.key, top.wantKey = key, key, false
			continue
		}
		name := ""
		if top != nil {
			name = top.child(top.key)
		}
		switch v := tok.(type) {
		case json.Delim: // '{' or '['
			f := &jsonFrame{object: v == '{', path: name, wantKey: v == '{'}
			if f.object {
				f.seen = map[string]string{}
			}
			stack = append(stack, f)
			continue
		case string:
			if !jsonTextOK(raw, v) {
				if name == "" {
					return mfagate.Errorf(mfagate.EINVALID, "The body holds characters that cannot be used: %s", jsonBadText)
				}
				return mfagate.Errorf(mfagate.EINVALID, "Field %q holds characters that cannot be used: %s", name, jsonBadText)
			}
		}
		if top == nil {
			return nil
		}
		top.advance()
	}
}

// foldKey spells key so that any two keys encoding/json fills one field
// with spell the same. It matches names as bytes.EqualFold does, by
// Unicode simple folding, not only by case: "reaſon" (a long s) and
// "reason" are one field to it, and so are "\u212a" (the Kelvin sign)
// and "k". Each rune becomes the least of its folding orbit.
func foldKey(key string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, key)
}

// jsonBadText says what checkJSONText refuses in strings.
const jsonBadText = "NUL and other control characters (tab and line breaks are fine), bytes that are not UTF-8 and unpaired surrogate escapes are refused"

// jsonFrame is an object or array that checkJSONText is inside.
type jsonFrame struct {
	object  bool
	path    string            // its own name, as in "roles[1]"; "" for the body itself
	seen    map[string]string // object: the keys given so far, by lower-case spelling
	key     string            // object: the key whose value comes next
	wantKey bool              // object: a key comes next, or the end
	index   int               // array: the next element's index
}

// child names the value at key (objects) or at the next index (arrays).
func (f *jsonFrame) child(key string) string {
	if !f.object {
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	key = site.Clip(key)
	if f.path == "" {
		return key
	}
	return f.path + "." + key
}

// where names the object a field name is in, for a message.
func (f *jsonFrame) where() string {
	if f.path == "" {
		return ""
	}
	return fmt.Sprintf(" in %q", f.path)
}

// advance moves past a value that ended.
func (f *jsonFrame) advance() {
	if f.object {
		f.wantKey, f.key = true, ""
		return
	}
	f.index++
}

// jsonTextOK reports whether a string token is clean: raw (as sent)
// valid UTF-8 with every surrogate escape paired, decoded (as
// encoding/json gives it) free of NUL and control characters.
func jsonTextOK(raw []byte, decoded string) bool {
	return utf8.Valid(raw) && !unpairedSurrogate(raw) && site.CleanText(decoded, site.FieldText)
}

// unpairedSurrogate reports whether raw holds a \uD800-\uDFFF escape that
// is not a high half followed at once by a low half.
func unpairedSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+6 > len(raw) || raw[i+1] != 'u' {
			i++ // an escaped character: "\\u" is a backslash, then u
			continue
		}
		switch r := hex4(raw[i+2 : i+6]); {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return true
			}
			if lo := hex4(raw[i+8 : i+12]); lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads four hex digits; -1 if they are not.
func hex4(b []byte) int {
	n := 0
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return n
}
