package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/mfagate/mfagate"
)

const tokenUsage = `Usage: mfagate token SUBCOMMAND [options]

Subcommands:
  create --name NAME --role operator|support   make a token for the JSON API; it is shown once
  list                                         name, role, created, last used, revoked
  revoke NAME                                  stop the token from working, at once

Every subcommand takes --config FILE, or --data FOLDER for the demo's data.
What each role may do is in docs/api.md.`

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, tokenUsage)
		if len(args) == 0 {
			return usagef("name a token subcommand: create, list or revoke")
		}
		return nil
	}
	sub := map[string]func(context.Context, *env, []string) error{
		"create": tokenCreate, "list": tokenList, "revoke": tokenRevoke,
	}[args[0]]
	if sub == nil {
		return usagef("unknown token subcommand %q; run \"mfagate token -h\" to see them", args[0])
	}
	return sub(ctx, e, args[1:])
}

func tokenCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token create", "--name NAME --role operator|support")
	sf := addStoreFlags(fs)
	name := fs.String("name", "", "who or what holds the token, such as helpdesk-bot; its actions are audited as token:`NAME`")
	role := fs.String("role", "", "operator (reads everything) or support (also changes people); see docs/api.md")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("\"mfagate token create\" takes no arguments, only options, as in \"mfagate token create --name helpdesk-bot --role support\"")
	}
	if *name == "" || *role == "" {
		return usagef("give --name and --role, as in \"mfagate token create --name helpdesk-bot --role support\"")
	}
	// The roles a token may have are fixed, so another is a usage mistake.
	if *role != mfagate.RoleOperator && *role != mfagate.RoleSupport {
		return usagef("--role is operator or support, not %q; what each may do is in docs/api.md", *role)
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	plain, tok, err := a.accounts.CreateToken(ctx, cliActor, *name, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created the %s token %s. Copy it now: it will not be shown again.\n%s\n", tok.Role, tok.Name, plain)
	return nil
}

func tokenList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token list", "")
	sf := addStoreFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArguments("token list", pos); err != nil {
		return err
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	toks, err := a.accounts.Tokens(ctx)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		fmt.Fprintln(e.stdout, "No API tokens yet; make one with \"mfagate token create --name NAME --role operator|support\".")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tREVOKED")
	for _, t := range toks {
		revoked := "no"
		if !t.RevokedAt.IsZero() {
			revoked = when(t.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, when(t.CreatedAt), when(t.LastUsedAt), revoked)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token revoke", "NAME")
	sf := addStoreFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one token name, as in \"mfagate token revoke helpdesk-bot\"")
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.accounts.RevokeToken(ctx, cliActor, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Revoked the token %s: programs using it are refused from now on.\n", pos[0])
	return nil
}
