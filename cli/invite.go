package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/mfagate/mfagate"
)

// Invitations at the command line: "user invite", and what add and
// import say of the invitations they queue.

// invitationOnItsWay says where n invitations are: queued in the
// database, for the running server to send.
func invitationOnItsWay(a *app, n int) string {
	what := "An invitation is on its way: the running server sends it."
	if n != 1 {
		what = "Their invitations are on their way: the running server sends them."
	}
	return fmt.Sprintf("%s Each link works once, for %s.", what, humanDays(a.cfg.Invite.TTL))
}

// humanDays writes a lifetime in days when it is whole days.
func humanDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return mfagate.Plural(int(d/(24*time.Hour)), "day", "days")
	}
	return d.String()
}

// userInvite sends an invitation again, or withdraws it with --revoke.
func userInvite(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user invite", "NAME [--revoke] [--reason TEXT]")
	sf := addStoreFlags(fs)
	revoke := fs.Bool("revoke", false, "withdraw the invitation instead: its link stops working")
	reason := fs.String("reason", "", "why, for the audit log (optional)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate user invite alice\"")
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	if *revoke {
		if err := a.accounts.RevokeInvite(ctx, cliActor, pos[0], *reason); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Withdrew the invitation of %s: its link no longer works.\n", pos[0])
		return nil
	}
	if err := a.accounts.Reinvite(ctx, cliActor, pos[0], *reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Sent %s a new invitation; the earlier link no longer works. %s\n", pos[0], invitationOnItsWay(a, 1))
	return nil
}
