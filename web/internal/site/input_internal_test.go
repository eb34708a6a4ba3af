package site

import (
	"net/url"
	"testing"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		s          string
		line, form bool
	}{
		{"alice", true, true},
		{"Zoë Ñúñez 日本", true, true},
		{"", true, true},
		{"a\x00b", false, false},
		{"a\x1bb", false, false},
		{"a\x7fb", false, false},
		{"two\nlines\r\n\tindented", false, true},
		{"a\xffb", false, false},
		{"\xc0\xaf", false, false},     // an overlong "/"
		{"\xed\xa0\x80", false, false}, // a surrogate in UTF-8
		{"\u2028", true, true},         // not a C0 control; allowed
	}
	for _, tt := range tests {
		if got := CleanText(tt.s, LineText); got != tt.line {
			t.Errorf("CleanText(%q, LineText) = %v, want %v", tt.s, got, tt.line)
		}
		if got := CleanText(tt.s, FieldText); got != tt.form {
			t.Errorf("CleanText(%q, FieldText) = %v, want %v", tt.s, got, tt.form)
		}
	}
}

// TestCheckURLDoesNotAllocate keeps the edge check off forward-auth's
// bill: a path and a plain query cost a scan and nothing else.
func TestCheckURLDoesNotAllocate(t *testing.T) {
	for _, raw := range []string{"/auth/verify", "/auth/verify?redirect=true", "/admin/people?q=ada+lovelace&role=admin"} {
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			if err := CheckURL(u, false); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("CheckURL(%s) allocates %v times, want 0", raw, n)
		}
	}
}

// FuzzCheckURL: the edge check of a URL does not panic, and what it
// accepts has a clean path and clean query values.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"/login?rd=%2Faccount", "/admin/people/%00", "/x?%FF=1", "/x?a=%zz", "/x?a=b+c&d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.ParseRequestURI(raw)
		if err != nil || CheckURL(u, false) != nil || CheckURL(u, true) != nil {
			return
		}
		if !CleanText(u.Path, LineText) {
			t.Fatalf("accepted path %q", u.Path)
		}
		q, _ := url.ParseQuery(u.RawQuery)
		for k, vs := range q {
			for _, v := range append(vs, k) {
				if !CleanText(v, LineText) {
					t.Fatalf("accepted %q in the query of %q", v, raw)
				}
			}
		}
	})
}
