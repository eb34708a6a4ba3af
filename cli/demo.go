package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
)

// demoAccount is one of the accounts the demo seeds.
type demoAccount struct {
	username, name string
	roles          []string
}

var demoAccounts = []demoAccount{
	{"ada", "Ada Administrator", []string{mfagate.RoleAdmin}},
	{"uma", "Uma User", []string{mfagate.RoleUser}},
	{"sam", "Sam Support", []string{mfagate.RoleOperator, mfagate.RoleSupport}},
}

// demoStaff is the demo account that opens the console.
func demoStaff() string {
	for _, d := range demoAccounts {
		if slices.Contains(d.roles, mfagate.RoleOperator) || slices.Contains(d.roles, mfagate.RoleSupport) {
			return d.username
		}
	}
	return ""
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", "[--addr 127.0.0.1:8080] [--data ./mfagate-data] [--clock TIME --rehearsal]")
	addr := fs.String("addr", "127.0.0.1:8080", "the loopback `address` to listen on")
	data := fs.String("data", "mfagate-data", "the `folder` for the database, key and demo passwords")
	rf := addRehearsalFlags(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("demo", pos); err != nil {
		return err
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	keyFile := filepath.Join(*data, "secret.key")
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		if err := writeKey(keyFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another mfagate running? choose another port with --addr)", *addr, err)
	}
	defer ln.Close()
	baseURL := "http://" + ln.Addr().String()

	cfg := demoConfig(*data, keyFile, ln.Addr().String(), baseURL, time.Now())
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	opts, err := rf.options(cfg)
	if err != nil {
		return err
	}
	mem := setMemoryDefaults(e.getenv) // cli/runtime.go
	defer mem.undo()
	a, err := openApp(ctx, e, cfg, opts...)
	if err != nil {
		return err
	}
	defer a.Close()
	lines, err := seedDemo(ctx, a, filepath.Join(*data, "demo-passwords.txt"))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "mfagate demo is running at %s\n", baseURL)
	if *rf.clock != "" {
		at, err := parseTime(*rf.clock, cfg.Rollout.Location)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "This is a rehearsal: the demo behaves as on %s, the clock running on from there, and every page says so.\n",
			at.In(cfg.Rollout.Location).Format("2 January 2006 at 15:04 MST"))
	}
	for _, l := range lines {
		fmt.Fprintln(e.stdout, l)
	}
	fmt.Fprintf(e.stdout, "The console (%s/admin) opens for %s, the operator and support account: staff set up a security code at their first sign-in.\n",
		baseURL, demoStaff())
	fmt.Fprintf(e.stdout, "Emails are not sent: read them at %s/dev/outbox\n", baseURL)
	fmt.Fprintf(e.stdout, "The rollout: %s\n", demoSchedule(cfg))
	fmt.Fprintf(e.stdout, "Data is kept in %s. Press Ctrl+C to stop.\n", *data)
	a.log.Info("memory settings", "go", mem.String())
	return a.serve(ctx, ln, nil)
}

// checkLoopback refuses to run the demo, with its plain-HTTP cookies,
// anywhere but this machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q is not host:port, as in 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return usagef("the demo listens only on this machine (127.0.0.1 or localhost), not on %q; use \"mfagate serve\" with a configuration file to serve others", host)
	}
	return nil
}

func demoConfig(data, keyFile, addr, baseURL string, today time.Time) *config.Config {
	cfg := config.Default()
	cfg.Server.Addr = addr
	cfg.Server.BaseURL = baseURL
	cfg.Server.DevInsecureCookies = true
	cfg.Server.ShutdownDelay = 0 // no balancer to wait for: Ctrl+C stops at once
	cfg.Database.Driver = "sqlite"
	cfg.Database.DSN = filepath.Join(data, "mfagate.db")
	cfg.Secrets.KeyFile = keyFile
	cfg.Mail.From = "mfagate demo <mfagate@example.com>"
	cfg.Mail.Driver = "outbox"
	cfg.Support = config.Support{Email: "support@example.com", Phone: "+44 20 7946 0000", Hours: "Monday to Friday, 9am to 5pm"}
	cfg.Rollout.Timezone = "UTC"
	cfg.Rollout.Phases = demoPhases(today)
	return cfg
}

// demoPhases is the four-phase schedule of the example configuration,
// placed so that today falls in optional enrollment: email verification
// becomes required in two weeks, for everyone a month from now. As in the
// example, administrators may skip three times, and at full enforcement
// each person has 14 days of their own from their first sign-in.
func demoPhases(today time.Time) []config.Phase {
	day := func(days int) string { return today.UTC().AddDate(0, 0, days).Format("2006-01-02") }
	both := []string{mfagate.MethodEmail, mfagate.MethodTOTP}
	return []config.Phase{
		{Name: "Communication", Starts: day(-14), Audience: []string{mfagate.RoleAdmin}, Requirement: "notify",
			Notice: &config.Notice{Subject: "Sign-in is getting a second step",
				Body: "To protect your organisation's data, signing in will soon need a second step as well as your password: a code from your email or from an authenticator app. We will tell you before anything changes."}},
		{Name: "Optional enrollment", Starts: day(-2), Audience: []string{mfagate.RoleAdmin}, Requirement: "optional", Methods: both,
			MaxSkips: 3, Then: "required"},
		{Name: "Email verification required", Starts: day(14), Audience: []string{mfagate.RoleAdmin}, Requirement: "required",
			Methods: both, DefaultMethod: mfagate.MethodEmail, Reminders: []string{"7d", "1d"}},
		{Name: "Full enforcement", Starts: day(30), Audience: []string{"all"}, Requirement: "required",
			Methods: both, Reminders: []string{"7d", "1d"}, Grace: "14d"},
	}
}

// demoSchedule says in one line when each demo phase starts.
func demoSchedule(cfg *config.Config) string {
	var parts []string
	for _, p := range cfg.Rollout.Phases {
		parts = append(parts, p.Name+" "+p.Starts)
	}
	return strings.Join(parts, ", ")
}

// seedDemo makes sure the demo accounts exist with the passwords kept in
// passFile, creating both on the first run, and returns one line per
// account to print.
func seedDemo(ctx context.Context, a *app, passFile string) ([]string, error) {
	passwords, err := readDemoPasswords(passFile)
	fresh := errors.Is(err, fs.ErrNotExist)
	if err != nil && !fresh {
		return nil, err
	}
	if fresh {
		passwords = map[string]string{}
		var b strings.Builder
		for _, d := range demoAccounts {
			passwords[d.username] = demoPassword()
			fmt.Fprintf(&b, "%s %s\n", d.username, passwords[d.username])
		}
		if err := os.WriteFile(passFile, []byte(b.String()), 0o600); err != nil {
			return nil, fmt.Errorf("save demo passwords: %w", err)
		}
	}
	by := account.Actor{Name: mfagate.ActorSystem, AtServer: true}
	var lines []string
	for _, d := range demoAccounts {
		pw, ok := passwords[d.username]
		if !ok {
			return nil, fmt.Errorf("%s has no password for %s; delete the file to make new ones", passFile, d.username)
		}
		created, err := a.accounts.EnsureUser(ctx, by, account.NewUser{
			Username: d.username, Email: d.username + "@example.com", Name: d.name, Roles: d.roles, Password: pw,
		})
		if err != nil {
			return nil, fmt.Errorf("create demo account %s: %w", d.username, err)
		}
		if !created && fresh {
			if err := a.accounts.SetPassword(ctx, by, d.username, pw); err != nil {
				return nil, fmt.Errorf("reset demo password of %s: %w", d.username, err)
			}
		}
		lines = append(lines, fmt.Sprintf("account: %s password: %s roles: %s", d.username, pw, strings.Join(d.roles, ",")))
	}
	return lines, nil
}

func readDemoPasswords(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, pw, ok := strings.Cut(strings.TrimSpace(sc.Text()), " "); ok {
			m[name] = pw
		}
	}
	return m, sc.Err()
}

// demoPassword returns four groups of four random letters and digits.
func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	rand.Read(b)
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return out.String()
}
