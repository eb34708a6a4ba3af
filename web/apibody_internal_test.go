package web

import (
	"encoding/json"
	"strings"
	"testing"
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
				if !cleanText(v, fieldText) {
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
