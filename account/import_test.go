package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
)

func TestParseImportCSV(t *testing.T) {
	tests := []struct {
		name, csv string
		want      string // part of the error, or "" for success
		rows      int
	}{
		{"good", "username,email,name,roles\nann,ann@example.com,Ann,\"admin,user\"\nbo,bo@example.com,Bo,user\n", "", 2},
		{"byte-order mark and blank line", "\ufeffusername,email,name,roles\n\nann,ann@example.com,Ann,user\n", "", 1},
		{"roles by semicolon", "username,email,name,roles\nann,ann@example.com,Ann,admin;user\n", "", 1},
		{"no header", "ann,ann@example.com,Ann,user\n", "line 1: the first line must be the header", 0},
		{"empty", "", "no accounts", 0},
		{"header only", "username,email,name,roles\n", "no accounts", 0},
		{"missing column", "username,email,name,roles\nann,ann@example.com,Ann,user\nbo,bo@example.com\n", "line 3: expected 4 columns", 0},
		{"bad quote", "username,email,name,roles\nann,\"ann@example.com,Ann,user\n", "line 2", 0},
		{"not UTF-8", "username,email,name,roles\nann,ann@example.com,An\xffn,user\n", "line 2: the file must be UTF-8", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := account.ParseImportCSV(strings.NewReader(tt.csv))
			if tt.want == "" {
				if err != nil || len(rows) != tt.rows {
					t.Fatalf("got %d rows, %v; want %d rows", len(rows), err, tt.rows)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.mustUser(t, "taken", pw)
	tests := []struct{ name, csv, want string }{
		{"bad email on line 3", "username,email,name,roles\nann,ann@example.com,Ann,user\nbo,not-an-email,Bo,user\n", "line 3: Enter an email address"},
		{"taken username on line 4", "username,email,name,roles\nann,ann@example.com,Ann,user\nbo,bo@example.com,Bo,user\nTAKEN,t@example.com,T,user\n", "line 4: username"},
		{"duplicate in file", "username,email,name,roles\nann,ann@example.com,Ann,user\nAnn,ann2@example.com,Ann,user\n", "line 3: Username \"Ann\" appears more than once"},
		{"bad role", "username,email,name,roles\nann,ann@example.com,Ann,chief.exec\n", "line 2: Role"},
		{"no role", "username,email,name,roles\nann,ann@example.com,Ann,\n", "line 2: Give at least one role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := account.ParseImportCSV(strings.NewReader(tt.csv))
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.ImportUsers(ctx, account.Actor{Name: "cli"}, rows)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			us, _ := f.svc.Users(ctx, mfagate.UserFilter{})
			if len(us) != 1 {
				t.Fatalf("got %d accounts after a failed import, want 1 (nothing imported)", len(us))
			}
		})
	}
	rows, _ := account.ParseImportCSV(strings.NewReader("username,email,name,roles\nann,ann@example.com,Ann,\"admin, user\"\nbo,bo@example.com,,user\n"))
	n, err := f.svc.ImportUsers(ctx, account.Actor{Name: "cli"}, rows)
	if err != nil || n != 2 {
		t.Fatalf("got %d, %v; want 2 imported", n, err)
	}
	ann, _ := f.svc.User(ctx, "ann")
	if strings.Join(ann.Roles, ",") != "admin,user" || ann.PasswordHash != "" {
		t.Fatalf("got roles %v and hash %q, want admin,user and no password", ann.Roles, ann.PasswordHash)
	}
	if bo, _ := f.svc.User(ctx, "bo"); bo.Name != "bo" {
		t.Fatalf("got name %q, want the username when the name is empty", bo.Name)
	}
}

func FuzzParseImportCSV(f *testing.F) {
	f.Add("username,email,name,roles\nann,ann@example.com,Ann,\"admin,user\"\n")
	f.Add("username,email,name,roles\n\"\n")
	f.Add("\ufeffUsername,Email,Name,Roles\r\na,b,c,d\r\n")
	f.Fuzz(func(t *testing.T, data string) {
		rows, err := account.ParseImportCSV(strings.NewReader(data))
		if err != nil {
			if mfagate.ErrorCode(err) != mfagate.EINVALID {
				t.Fatalf("got code %q for %v, want invalid", mfagate.ErrorCode(err), err)
			}
			return
		}
		for _, r := range rows {
			if r.Line < 2 {
				t.Fatalf("row on line %d, want line 2 or later", r.Line)
			}
		}
	})
}
