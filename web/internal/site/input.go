package site

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// The edge check: text from outside (the path, the query, form fields)
// is checked once, before routing, so that no handler, use case or store
// ever sees a NUL byte, invalid UTF-8 or a stray control character.
// PostgreSQL refuses such text in a query, which made it a 500 there
// while SQLite stored it; the fs behind /static/ refuses invalid names
// with a 500 too. A refusal is a 400 with our page, or the JSON error
// under /api/. JSON bodies are checked by web/api's decodeBody. In
// headers net/http refuses NUL and control bytes itself (a bare 400);
// bytes that are not UTF-8 may pass, and the headers read are hashed
// (the session cookie, a bearer token), parsed (X-Forwarded-For),
// cleaned where stored (the user agent, in package account) or checked
// where read (forward-auth's original URL, in package web).

// TextRule says which control characters a piece of text may hold.
type TextRule int

const (
	LineText  TextRule = iota // no control characters at all: paths, query strings
	FieldText                 // tab, newline and carriage return allowed: form fields (a staff reason has lines)
)

// CleanText reports whether s is valid UTF-8 without NUL, DEL or other
// control characters beyond what rule allows. It does not allocate.
func CleanText(s string, rule TextRule) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c < 0x20 || c == 0x7f:
			if rule != FieldText || (c != '\t' && c != '\n' && c != '\r') {
				return false
			}
		}
	}
	return ascii || utf8.ValidString(s)
}

// MaxFormBytes bounds every form body; a sign-in form is tiny. CheckInput
// reads and checks each posted form within it before any handler runs;
// the handlers keep their own limit and parse as a second line, which
// then find the work done.
const MaxFormBytes = 64 << 10

// Messages of the edge check, in words for people on pages and with the
// detail a programmer needs in the API.
const (
	// MsgBadAddress is for an address with characters that cannot be used.
	MsgBadAddress     = "The web address contains characters that cannot be used. If you typed or pasted it, check it and try again"
	msgBrokenAddress  = "The web address is damaged. If you pasted it, check you copied the whole address"
	msgBadForm        = "The form contains characters that cannot be used. Go back, check what you typed and try again"
	msgUnreadableForm = "The form could not be read. Go back and try again"
	apiBadText        = "control characters (such as NUL) and bytes that are not UTF-8 cannot be used"
)

// CheckInput refuses a request whose path, query or form holds text
// that CleanText refuses. A GET without a query string, as forward-auth
// gets from nginx, costs one scan of its path and no allocation.
func (s *Site) CheckInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := IsAPI(r)
		if err := CheckURL(r.URL, api); err != nil {
			s.Error(w, r, err)
			return
		}
		if !api && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			// The API reads no forms: it refuses them by media type.
			if err := checkForm(w, r); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// CheckURL checks the decoded path and each decoded query parameter name
// and value; api asks for the API's wording.
func CheckURL(u *url.URL, api bool) error {
	if !CleanText(u.Path, LineText) {
		if api {
			return mfagate.Errorf(mfagate.EINVALID, "The path holds characters that cannot be used: %s", apiBadText)
		}
		return mfagate.Errorf(mfagate.EINVALID, MsgBadAddress)
	}
	q := u.RawQuery
	if q == "" || plainQuery(q) {
		return nil
	}
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(rawKey)
		value, err2 := url.QueryUnescape(rawValue)
		switch {
		case err1 != nil || err2 != nil:
			if api {
				return mfagate.Errorf(mfagate.EINVALID, "The query string has a broken %%-escape in %q", Clip(pair))
			}
			return mfagate.Errorf(mfagate.EINVALID, msgBrokenAddress)
		case !CleanText(key, LineText) || !CleanText(value, LineText):
			if api {
				return mfagate.Errorf(mfagate.EINVALID, "Parameter %q holds characters that cannot be used: %s", Clip(key), apiBadText)
			}
			return mfagate.Errorf(mfagate.EINVALID, MsgBadAddress)
		}
	}
	return nil
}

// Clip shortens text from a request for a message: 40 bytes, valid UTF-8.
func Clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// plainQuery reports whether a raw query string is printable ASCII
// without escapes, so that decoding it cannot give anything CleanText
// would refuse. ("+" decodes to a space, which is fine.)
func plainQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= 0x20 || c >= 0x7f || c == '%' {
			return false
		}
	}
	return true
}

// checkForm parses a posted form (urlencoded or multipart) within
// MaxFormBytes and checks every field name and value. Handlers then read
// the same parsed values: their own ParseForm calls find it done.
func checkForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	var err error
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "multipart/form-data") {
		err = r.ParseMultipartForm(MaxFormBytes)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		// Handlers would see what was parsed before the error, so the
		// form is refused here, whatever its fields.
		return mfagate.Errorf(mfagate.EINVALID, msgUnreadableForm)
	}
	for k, vs := range r.PostForm {
		if !CleanText(k, FieldText) {
			return mfagate.Errorf(mfagate.EINVALID, msgBadForm)
		}
		for _, v := range vs {
			if !CleanText(v, FieldText) {
				return mfagate.Errorf(mfagate.EINVALID, msgBadForm)
			}
		}
	}
	if r.MultipartForm != nil {
		for k, fs := range r.MultipartForm.File {
			if !CleanText(k, FieldText) {
				return mfagate.Errorf(mfagate.EINVALID, msgBadForm)
			}
			for _, f := range fs {
				if !CleanText(f.Filename, LineText) {
					return mfagate.Errorf(mfagate.EINVALID, msgBadForm)
				}
			}
		}
	}
	return nil
}

// ParseForm reads a posted form within the size limit; an unreadable
// one is an invalid request.
func ParseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return mfagate.Errorf(mfagate.EINVALID, msgUnreadableForm)
	}
	return nil
}
