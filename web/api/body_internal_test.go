package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/web/internal/site"
)

func TestUnpairedSurrogate(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{`"plain"`, false},
		{`"\ud83d\ude00"`, false}, // a pair: 😀
		{`"\uD83D\uDE00"`, false},
		{`"\ud800"`, true},
		{`"\ud800x"`, true},
		{`"\ud800\u0041"`, true},
		{`"\udc00"`, true},
		{`"\ude00\ud83d"`, true},
		{`"\\ud800"`, false}, // a backslash, then "ud800"
		{`"\\\ud800"`, true},
		{`"\n\u0041"`, false},
	}
	for _, tt := range tests {
		if got := unpairedSurrogate([]byte(tt.raw)); got != tt.want {
			t.Errorf("unpairedSurrogate(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		body, want string // want "" means accepted
	}{
		{`{"reason": "lost phone\nnew one on Monday"}`, ""},
		{`{"a": {"b": 1}, "c": {"b": 2}}`, ""}, // the same key in two objects
		{`{"roles": ["user", "user"]}`, ""},    // arrays may repeat values
		{`{"a": 1, "a": 2}`, `Field "a" appears twice`},
		{`{"a": {"b": 1, "b": 2}}`, `Field "a.b" appears twice`},
		{`{"a": [{"b": 1}, {"b": 1, "B": 2}]}`, `Fields "a[1].b" and "a[1].B" are the same field`},
		{`{"reason": 1, "rea\u017fon": 2}`, `Fields "reason" and "reaſon" are the same field`}, // a long s
		{"{\"reason\": 1, \"rea\u017fon\": 2}", `Fields "reason" and "reaſon" are the same field`},
		{`{"k": 1, "\u212a": 2}`, "Fields \"k\" and \"\u212a\" are the same field"}, // the Kelvin sign
		{`{"a": [1, "x\u0000"]}`, `Field "a[1]" holds characters`},
		{`{"a": {"b\u0001": 1}}`, `A field name in "a" holds characters`},
		{`"\u0000"`, `The body holds characters`},
		{`{"a": 1, "a"`, `Field "a" appears twice`}, // found before the syntax error
		{`{"a": ]`, ""}, // a syntax error: the decoder reports it
		{``, ""},
	}
	for _, tt := range tests {
		err := checkJSONText([]byte(tt.body))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v, want it accepted", tt.body, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error with %q", tt.body, err, tt.want)
		}
	}
}

// FuzzCheckJSONText: whatever the body, the check does not panic, and a
// body it accepts decodes to clean strings only.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"reason": "x"}`, `{"a": [1, {"b": "\ud83d\ude00"}]}`, `{"a":1,"a":2}`, "{\"a\": \"\xff\"}", `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if checkJSONText(body) != nil {
			return
		}
		var v any
		if json.Unmarshal(body, &v) != nil {
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if !site.CleanText(v, site.FieldText) {
					t.Fatalf("accepted %q, which decodes to %q", body, v)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}

// fuzzBody has a field of each kind the API's bodies have.
type fuzzBody struct {
	Reason string   `json:"reason"`
	Roles  []string `json:"roles"`
	Force  *bool    `json:"force"`
	Days   int      `json:"days"`
}

// FuzzDecodeBody: decodeBody either refuses a request (415 for another
// media type, 413 over 64 KiB, invalid otherwise) or fills the value
// from a body of one JSON object with only known fields, none given
// twice in any spelling encoding/json takes for the same, and only clean
// strings.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []struct{ ctype, body string }{
		{"application/json", `{"reason": "lost phone", "roles": ["user"], "force": true, "days": 3}`},
		{"application/json; charset=utf-8", `{"reason": "x"}`},
		{"Application/JSON", `{}`},
		{"text/plain", `{"reason": "x"}`},
		{"application/json;", `{"reason": "x"}`},
		{"application/json", `[]`},
		{"application/json", `{"reason": "a"} {"reason": "b"}`},
		{"application/json", `{"reason": "a", "Reason": "b"}`},
		{"application/json", `{"roles": ["a"], "ROLES": ["b"]}`},
		{"application/json", `{"reasoN": "\u00e9"}`},
		{"application/json", `{"reason": "\ud800"}`},
		{"application/json", `{"reason": 1}`},
		{"application/json", `{"force": null, "days": 1e3}`},
		{"application/json", `{"unknown": 1}`},
		{"application/json", `{"reason": "` + strings.Repeat("x", maxAPIBody) + `"}`},
	} {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/people", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		var dst fuzzBody
		err := decodeBody(httptest.NewRecorder(), r, &dst)
		mt, _, mtErr := mime.ParseMediaType(ctype)
		if err != nil {
			var he *site.HTTPError
			switch {
			case errors.As(err, &he) && he.Status == http.StatusUnsupportedMediaType:
				if mtErr == nil && mt == "application/json" {
					t.Fatalf("content type %q: got 415", ctype)
				}
			case errors.As(err, &he) && he.Status == http.StatusRequestEntityTooLarge:
				if len(body) <= maxAPIBody {
					t.Fatalf("a body of %d bytes: got 413", len(body))
				}
			case mfagate.ErrorCode(err) != mfagate.EINVALID || strings.ContainsAny(err.Error(), "\r\n") || err.Error() == "":
				t.Fatalf("got %q (%T, code %s), want 413, 415 or an invalid error of one line", err, err, mfagate.ErrorCode(err))
			}
			return
		}
		if mtErr != nil || mt != "application/json" || len(body) > maxAPIBody {
			t.Fatalf("accepted a body of %d bytes sent as %q", len(body), ctype)
		}
		for _, s := range append([]string{dst.Reason}, dst.Roles...) {
			if !site.CleanText(s, site.FieldText) {
				t.Fatalf("accepted %q, which gives the string %q", body, s)
			}
		}
		if why := oneObjectOnce(body, []string{"reason", "roles", "force", "days"}); why != "" {
			t.Fatalf("accepted %q: %s", body, why)
		}
	})
}

// oneObjectOnce says what is wrong with body as a request body, or "":
// it must hold one JSON object whose keys are among known, and no object
// in it may have two keys that encoding/json takes for one
// (bytes.EqualFold).
func oneObjectOnce(body []byte, known []string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var value func(top bool) string
	value = func(top bool) string {
		tok, err := dec.Token()
		if err != nil {
			return "it is not JSON"
		}
		d, ok := tok.(json.Delim)
		if top && d != '{' {
			return fmt.Sprintf("it is not an object but %v", tok)
		}
		switch {
		case ok && d == '{':
			var keys []string
			for dec.More() {
				tok, _ := dec.Token()
				k, _ := tok.(string)
				for _, prev := range keys {
					if strings.EqualFold(prev, k) {
						return fmt.Sprintf("keys %q and %q are one field", prev, k)
					}
				}
				if top && !slices.ContainsFunc(known, func(n string) bool { return strings.EqualFold(n, k) }) {
					return fmt.Sprintf("key %q is not a field", k)
				}
				keys = append(keys, k)
				if why := value(false); why != "" {
					return why
				}
			}
			dec.Token()
		case ok && d == '[':
			for dec.More() {
				if why := value(false); why != "" {
					return why
				}
			}
			dec.Token()
		}
		return ""
	}
	if why := value(true); why != "" {
		return why
	}
	if _, err := dec.Token(); err != io.EOF {
		return "something follows the object"
	}
	return ""
}
