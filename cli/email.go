package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

// userSetEmail gives an account another email address, which the person
// confirms at their next sign-in (account.ChangeEmail); at the command
// line, staff accounts too.
func userSetEmail(ctx context.Context, e *env, args []string) error {
	var email *string
	return staffActionWith(ctx, e, args, "set-email", "NAME --email ADDRESS --reason TEXT", func(fs *flag.FlagSet) func() error {
		email = fs.String("email", "", "the account's new email `address`")
		return func() error {
			if strings.TrimSpace(*email) == "" {
				return usagef("give --email, such as --email ada@example.com")
			}
			return nil
		}
	}, func(a *app, name, reason string) (string, error) {
		if err := a.accounts.ChangeEmail(ctx, cliActor, name, *email, reason); err != nil {
			return "", err
		}
		u, err := a.accounts.User(ctx, name)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("The email address of %s is now %s, to be confirmed by them after their next sign-in; until then security codes still go to %s. "+
			"They have been signed out everywhere, and an email is on its way to both addresses.", u.Username, u.Email, u.CodeAddress()), nil
	})
}
