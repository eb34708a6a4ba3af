package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mfagate/mfagate"
)

// env is what every subcommand receives from Run.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// usageError is a mistake in how the command was called: exit status 2.
//
// The rule: a command line is a usage mistake (2) when it can be seen to
// be wrong without reading the configuration, the database or standard
// input: an unknown command, subcommand or flag, a required flag or
// argument missing or empty, too many or too few arguments, flags that
// exclude each other, a value outside a fixed set the command's -h names
// (token create --role operator|support) or a time not written as a date
// or RFC 3339 time. Standard input that is not a terminal when a password
// must be typed is one too: the command needed --password-stdin.
// Everything else is a failure of a well-formed command (1): the
// configuration or the database cannot be read, a file cannot be opened,
// a name is not found or is taken, or the installation's rules refuse a
// value (an address, a password, a role the configuration lacks, a row
// of an import).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "run everything on built-in defaults, for trying mfagate out", runDemo},
		{"serve", "run the server from a configuration file", runServe},
		{"migrate", "apply database migrations", runMigrate},
		{"backup", "write a consistent copy of the SQLite database while it runs", runBackup},
		{"restore", "put a backup in place of the SQLite database (the server stopped)", runRestore},
		{"keygen", "write a new secret key file", runKeygen},
		{"user", "add, import, list and manage accounts", runUser},
		{"token", "create, list and revoke tokens for the JSON API", runToken},
		{"rollout", "show, check, simulate and run the phased rollout", runRollout},
		{"version", "print the version", runVersion},
	}
}

// Run runs the mfagate command with args (without the program name) and
// returns the exit status: 0 on success, 2 for a usage error, 1 for any
// other failure. Errors are written to stderr as one sentence.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitStatus(stderr, c.run(ctx, e, args[1:]))
		}
	}
	return exitStatus(stderr, usagef("unknown command %q; run \"mfagate help\" to see the commands", args[0]))
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mfagate adds multi-factor sign-in to your accounts and rolls it out in dated phases.")
	fmt.Fprintln(w, "\nUsage: mfagate COMMAND [options]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"mfagate COMMAND -h\" for a command's options.")
}

func exitStatus(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	msg := sentence(err.Error())
	msg = strings.TrimSuffix(msg, ".")
	fmt.Fprintf(stderr, "mfagate: %s.\n", msg)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// sentence starts msg with a capital letter, unless its first word is a
// name written as it must be typed: a file such as bad.csv or
// ./people.csv, a flag, a quoted value.
func sentence(msg string) string {
	first, _, _ := strings.Cut(msg, " ")
	first = strings.TrimRight(first, ":;,")
	if first == "" || strings.HasPrefix(first, "-") || strings.ContainsAny(first, "./\\_\"'0123456789") {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// operatorMessage says what went wrong to the operator at the server, who
// may see the cause: an *mfagate.Error's message as people read it, and
// for anything else "Something went wrong: " and the error itself, where
// mfagate.ErrorMessage, written for pages, would hide it.
func operatorMessage(err error) string {
	if mfagate.ErrorCode(err) != mfagate.EINTERNAL {
		return mfagate.ErrorMessage(err)
	}
	return "Something went wrong: " + err.Error()
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports errors in one sentence
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: mfagate %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("user show alice --config f"), and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	usage := fs.Usage
	fs.Usage = func() {} // flag calls it on errors too; print it only for -h
	defer func() { fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, usagef("%v; run \"mfagate %s -h\" to see the options", err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// noArguments refuses arguments to a command that takes only options:
// "rollout show extra" is a typing mistake, not something to ignore.
func noArguments(cmd string, pos []string) error {
	if len(pos) == 0 {
		return nil
	}
	return usagef("\"mfagate %s\" takes no arguments, only options (got %q); run \"mfagate %s -h\" to see them", cmd, pos[0], cmd)
}

// forAdministrator words the account layer's refusals for the
// administrator at the command line, who acts on someone else's account:
// "The password must be…", not "Your password must be…".
func forAdministrator(err error) error {
	code := mfagate.ErrorCode(err)
	if code == mfagate.EINTERNAL {
		return err
	}
	msg := mfagate.ErrorMessage(err)
	if !strings.Contains(msg, "Your password") {
		return err
	}
	msg = strings.ReplaceAll(msg, "Your password", "The password")
	msg = strings.ReplaceAll(msg, "your username or email address", "the account's username or email address")
	return mfagate.Errorf(code, "%s", msg)
}
