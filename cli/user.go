package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"golang.org/x/term"
)

const userUsage = `Usage: mfagate user SUBCOMMAND [options]

Subcommands:
  add NAME --email ADDRESS --roles ROLE[,ROLE] [--name "Full Name"] [--invite | --password-stdin | --no-password]
                                 --invite emails them a link to choose their own password
  import [--invite] FILE.csv     columns: username,email,name,roles (all or nothing)
  invite NAME [--reason TEXT]    send a new invitation (the old link stops working)
  invite NAME --revoke [--reason TEXT]
                                 withdraw the invitation: its link stops working
  list [--role ROLE]
  show NAME
  set-password NAME [--password-stdin]
  disable NAME --reason TEXT
  enable NAME --reason TEXT
  reset-mfa NAME --reason TEXT   remove every factor; the person sets up again at next sign-in
  unlock NAME --reason TEXT      lift a lock after too many failed attempts
  set-roles NAME --roles ROLE[,ROLE] --reason TEXT
                                 give the account these roles (from the configuration's roles)
  set-email NAME --email ADDRESS --reason TEXT
                                 give the account another address; the person confirms it at next sign-in

Every subcommand takes --config FILE, or --data FOLDER for the demo's data.`

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stdout, userUsage)
		if len(args) == 0 {
			return usagef("name a user subcommand: add, import, invite, list, show, set-password, disable, enable, reset-mfa, unlock, set-roles or set-email")
		}
		return nil
	}
	sub := map[string]func(context.Context, *env, []string) error{
		"add": userAdd, "import": userImport, "invite": userInvite, "list": userList, "show": userShow,
		"set-password": userSetPassword, "disable": userDisable, "enable": userEnable,
		"reset-mfa": userResetMFA, "unlock": userUnlock, "set-roles": userSetRoles,
		"set-email": userSetEmail,
	}[args[0]]
	if sub == nil {
		return usagef("unknown user subcommand %q; run \"mfagate user -h\" to see them", args[0])
	}
	return sub(ctx, e, args[1:])
}

// storeFlags adds --config and --data to a user subcommand.
type storeFlags struct{ config, data *string }

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		config: fs.String("config", "", "the configuration `file`"),
		data:   fs.String("data", "", "the demo's data `folder`, instead of --config"),
	}
}

// load reads --config, or makes the demo's configuration for --data.
func (f storeFlags) load(e *env) (*config.Config, error) {
	if *f.data == "" {
		return loadConfig(e, *f.config)
	}
	if *f.config != "" {
		return nil, usagef("give --config or --data, not both")
	}
	cfg := demoConfig(*f.data, filepath.Join(*f.data, "secret.key"), "127.0.0.1:0", "http://127.0.0.1", time.Now())
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (f storeFlags) open(ctx context.Context, e *env) (*app, error) {
	cfg, err := f.load(e)
	if err != nil {
		return nil, err
	}
	return openApp(ctx, e, cfg)
}

var cliActor = account.Actor{Name: mfagate.ActorCLI, AtServer: true}

func userAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user add", "NAME --email ADDRESS --roles ROLES [--name NAME] [--invite | --password-stdin | --no-password]")
	sf := addStoreFlags(fs)
	email := fs.String("email", "", "the person's email `address`")
	name := fs.String("name", "", "the person's full `name` (default: the username)")
	roles := fs.String("roles", "", "comma-separated `roles`, such as admin or user")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	noPassword := fs.Bool("no-password", false, "create the account without a password (it cannot sign in until one is set)")
	invite := fs.Bool("invite", false, "email them a link to choose their own password")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate user add alice --email alice@example.com --roles user\"")
	}
	if n := countTrue(*fromStdin, *noPassword, *invite); n > 1 {
		return usagef("give one of --invite, --password-stdin and --no-password, not several")
	}
	// The command line first, then the configuration, and only then the
	// password: nobody types a password for a command that cannot run.
	switch {
	case strings.TrimSpace(*email) == "":
		return usagef("give --email ADDRESS, as in \"mfagate user add %s --email %s@example.com --roles user\"", pos[0], pos[0])
	case strings.TrimSpace(*roles) == "":
		return usagef("give --roles, such as --roles user or --roles admin,user")
	}
	cfg, err := sf.load(e)
	if err != nil {
		return err
	}
	pw := ""
	if !*noPassword && !*invite {
		if pw, err = readPassword(e, *fromStdin, "Password for "+pos[0]); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.accounts.CreateUser(ctx, cliActor, account.NewUser{
		Username: pos[0], Email: *email, Name: *name, Roles: account.SplitRoles(*roles), Password: pw, Invite: *invite,
	})
	if err != nil {
		return forAdministrator(err)
	}
	fmt.Fprintf(e.stdout, "Created account %s (%s) with roles %s.\n", u.Username, u.Email, strings.Join(u.Roles, ","))
	if *invite {
		fmt.Fprintf(e.stdout, "%s\n", invitationOnItsWay(a, 1))
	}
	return nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// readPassword reads a password from standard input: one line with
// --password-stdin, or typed twice without echo at a terminal. Passwords
// are never taken from flags, which other users can see in ps.
func readPassword(e *env, fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			// What came in is wrong, not the command: exit status 1.
			return "", errors.New("standard input held no password: give it on one line")
		}
		return pw, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("standard input is not a terminal: pass the password with --password-stdin")
	}
	fmt.Fprintf(e.stderr, "%s: ", prompt)
	first, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(e.stderr, "Type it again: ")
	second, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords do not match")
	}
	return string(first), nil
}

func userImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user import", "[--invite] FILE.csv")
	sf := addStoreFlags(fs)
	invite := fs.Bool("invite", false, "email each person a link to choose their own password")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one CSV file, as in \"mfagate user import people.csv\"")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("open import file: %w", err)
	}
	defer f.Close()
	rows, err := account.ParseImportCSV(f)
	if err != nil {
		return fmt.Errorf("%s %s; nothing was imported", pos[0], operatorMessage(err))
	}
	for i := range rows {
		rows[i].Invite = *invite
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // every row in one transaction
	defer cancel()
	n, err := a.accounts.ImportUsers(ctx, cliActor, rows)
	if err != nil {
		if mfagate.ErrorCode(err) == mfagate.EINTERNAL {
			return err
		}
		return fmt.Errorf("%s %s; nothing was imported", pos[0], operatorMessage(err))
	}
	if *invite {
		fmt.Fprintf(e.stdout, "Imported %s. %s\n", mfagate.Plural(n, "account", "accounts"), invitationOnItsWay(a, n))
		return nil
	}
	fmt.Fprintf(e.stdout, "Imported %s. %s no password yet: invite them with \"mfagate user invite NAME\" "+
		"(next time, import with --invite), or set one with \"mfagate user set-password NAME\".\n",
		mfagate.Plural(n, "account", "accounts"), map[bool]string{true: "It has", false: "They have"}[n == 1])
	return nil
}

func userList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user list", "[--role ROLE]")
	sf := addStoreFlags(fs)
	role := fs.String("role", "", "list only accounts with this `role`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := noArguments("user list", pos); err != nil {
		return err
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // every account, however many
	defer cancel()
	us, err := a.accounts.Users(ctx, mfagate.UserFilter{Role: strings.ToLower(*role)})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tEMAIL\tROLES\tSTATUS\tLAST SIGN-IN")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Email, strings.Join(u.Roles, ","), status(u), when(u.LastSignInAt))
	}
	return tw.Flush()
}

func userShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user show", "NAME")
	sf := addStoreFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate user show alice\"")
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.accounts.User(ctx, pos[0])
	if err != nil {
		return err
	}
	factors, err := a.accounts.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	left, err := a.accounts.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return err
	}
	locked, hard, err := a.accounts.Locked(ctx, u.Username)
	if err != nil {
		return err
	}
	st := status(u)
	switch {
	case hard:
		st += ", locked until unlocked by support"
	case locked:
		st += ", locked for a while after failed attempts"
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Username:\t%s\nName:\t%s\nEmail:\t%s\nRoles:\t%s\nStatus:\t%s\nPassword:\t%s\nCreated:\t%s\nLast sign-in:\t%s\n",
		u.Username, u.Name, u.Email, strings.Join(u.Roles, ","), st,
		map[bool]string{true: "set", false: "not set"}[u.PasswordHash != ""], when(u.CreatedAt), when(u.LastSignInAt))
	inv, err := a.accounts.PendingInvitation(ctx, u)
	if err != nil {
		return err
	}
	if inv != nil {
		state := "its link works until " + when(inv.ExpiresAt)
		if inv.Expired(a.accounts.Now()) {
			state = "its link expired on " + when(inv.ExpiresAt) + `: send a new one with "mfagate user invite ` + u.Username + `"`
		}
		fmt.Fprintf(tw, "Invitation:\tsent %s, not yet accepted; %s\n", when(inv.SentAt), state)
	}
	if u.EmailUnconfirmed() {
		fmt.Fprintf(tw, "Email confirmed:\tnot yet, set by staff %s; security codes still go to %s\n", when(u.EmailUnconfirmedAt), u.CodeAddress())
	}
	if len(factors) == 0 {
		fmt.Fprintf(tw, "MFA:\tnot set up\n")
	}
	for _, f := range factors {
		fmt.Fprintf(tw, "MFA:\t%s, added %s, last used %s\n", mfagate.MethodName(f.Method), when(f.CreatedAt), when(f.LastUsedAt))
	}
	if len(factors) > 0 {
		fmt.Fprintf(tw, "Recovery codes:\t%d unused\n", left)
	}
	return tw.Flush()
}

func status(u *mfagate.User) string {
	if u.Disabled {
		return "disabled"
	}
	return "active"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func userSetPassword(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user set-password", "NAME [--password-stdin]")
	sf := addStoreFlags(fs)
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate user set-password alice\"")
	}
	cfg, err := sf.load(e)
	if err != nil {
		return err
	}
	pw, err := readPassword(e, *fromStdin, "New password for "+pos[0])
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.accounts.SetPassword(ctx, cliActor, pos[0], pw); err != nil {
		return forAdministrator(err)
	}
	fmt.Fprintf(e.stdout, "Set a new password for %s and signed them out everywhere. An email telling them is on its way: the running server sends it.\n", pos[0])
	return nil
}

func userDisable(ctx context.Context, e *env, args []string) error {
	return setDisabled(ctx, e, args, true)
}
func userEnable(ctx context.Context, e *env, args []string) error {
	return setDisabled(ctx, e, args, false)
}

func setDisabled(ctx context.Context, e *env, args []string, disabled bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	return staffAction(ctx, e, args, verb, func(a *app, name, reason string) (string, error) {
		if err := a.accounts.SetDisabled(ctx, cliActor, name, disabled, reason); err != nil {
			return "", err
		}
		if disabled {
			return fmt.Sprintf("Disabled %s and ended their sessions.", name), nil
		}
		return fmt.Sprintf("Enabled %s.", name), nil
	})
}

func userResetMFA(ctx context.Context, e *env, args []string) error {
	return staffAction(ctx, e, args, "reset-mfa", func(a *app, name, reason string) (string, error) {
		if err := a.accounts.ResetMFA(ctx, cliActor, name, reason); err != nil {
			return "", err
		}
		u, err := a.accounts.User(ctx, name)
		if err != nil {
			return "", err
		}
		// What the rollout, not the reset, asks of them now.
		next := outcomeWords[a.accounts.DecideAt(u, nil, a.accounts.RolloutNow()).Outcome][0]
		return fmt.Sprintf("Removed the security codes of %s and ended their sessions. An email telling them is on its way. At their next sign-in, %s %s.",
			name, name, next), nil
	})
}

func userUnlock(ctx context.Context, e *env, args []string) error {
	return staffAction(ctx, e, args, "unlock", func(a *app, name, reason string) (string, error) {
		if err := a.accounts.Unlock(ctx, cliActor, name, reason); err != nil {
			return "", err
		}
		return fmt.Sprintf("Unlocked %s. An email telling them is on its way: the running server sends it.", name), nil
	})
}

// staffAction runs a support action on one account that needs a reason
// for the audit log.
// userSetRoles gives an account new roles; at the command line, operator
// and support too.
func userSetRoles(ctx context.Context, e *env, args []string) error {
	var roles *string
	return staffActionWith(ctx, e, args, "set-roles", "NAME --roles ROLE[,ROLE] --reason TEXT", func(fs *flag.FlagSet) func() error {
		roles = fs.String("roles", "", "the account's `roles` from now on, comma-separated")
		return func() error {
			if strings.TrimSpace(*roles) == "" {
				return usagef("give --roles, such as --roles admin,user")
			}
			return nil
		}
	}, func(a *app, name, reason string) (string, error) {
		if err := a.accounts.SetRoles(ctx, cliActor, name, account.SplitRoles(*roles), reason); err != nil {
			return "", err
		}
		u, err := a.accounts.User(ctx, name)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s now has the roles %s. An email telling them is on its way; what they can reach follows from their next request.",
			name, strings.Join(u.Roles, ", ")), nil
	})
}

func staffAction(ctx context.Context, e *env, args []string, verb string, do func(a *app, name, reason string) (string, error)) error {
	return staffActionWith(ctx, e, args, verb, "NAME --reason TEXT", nil, do)
}

// staffActionWith is staffAction with more flags, added by flags, and
// their usage. The function flags returns checks them once parsed,
// before anything is opened.
func staffActionWith(ctx context.Context, e *env, args []string, verb, usage string, flags func(*flag.FlagSet) func() error,
	do func(a *app, name, reason string) (string, error)) error {
	fs := newFlags(e, "user "+verb, usage)
	sf := addStoreFlags(fs)
	reason := fs.String("reason", "", "why, for the audit log")
	check := func() error { return nil }
	if flags != nil {
		check = flags(fs)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one username, as in \"mfagate user %s alice --reason \\\"lost her phone\\\"\"", verb)
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("give a --reason; it is kept in the audit log")
	}
	if err := check(); err != nil {
		return err
	}
	a, err := sf.open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	msg, err := do(a, pos[0], *reason)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, msg)
	return nil
}
