package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// TestStaffNoticesNameWhoActedInWords: the email telling a person of a
// password set for them names a staff member as one of their support
// team, and the server's command line, the server itself and an API
// token as "your support team": never by the audit log's internal names
// (cli, system, token:NAME).
func TestStaffNoticesNameWhoActedInWords(t *testing.T) {
	sqltest.EachBackend(t, func(t *testing.T, b sqltest.Backend) {
		ctx := context.Background()
		f := newBackendFixture(t, b)
		f.mustUser(t, "alice", pw)
		for _, tt := range []struct {
			name string
			by   account.Actor
			says string
		}{
			{"a staff member", account.Actor{Name: "sam", ClientAddr: "198.51.100.7"}, "by sam from your support team on "},
			{"the command line", account.Actor{Name: mfagate.ActorCLI, AtServer: true}, "by your support team on "},
			{"the server", account.Actor{Name: mfagate.ActorSystem, AtServer: true}, "by your support team on "},
			{"an API token", account.Actor{Name: "token:helpdesk-bot", ClientAddr: "198.51.100.8"}, "by your support team on "},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := f.svc.SetPassword(ctx, tt.by, "alice", "another horse battery staple"); err != nil {
					t.Fatal(err)
				}
				got := f.mailTo(t, "alice@example.com")
				if len(got) == 0 || got[0].Subject != "Your password was reset" {
					t.Fatalf("got %+v, want the notice of the new password", got)
				}
				text := got[0].Text
				if !strings.Contains(text, "A new password was set for your account alice "+tt.says) {
					t.Fatalf("the notice does not say %q:\n%s", tt.says, text)
				}
				for _, internal := range []string{"by cli", "by system", "token:", "cli from", "system from"} {
					if strings.Contains(text, internal) {
						t.Fatalf("the notice names %q:\n%s", internal, text)
					}
				}
			})
		}
	})
}
