package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/mail"
	"github.com/mfagate/mfagate/sqlstore"
)

// app is an opened installation: its configuration, database and use
// cases, ready for a subcommand to use.
type app struct {
	cfg      *config.Config
	store    *sqlstore.DB
	accounts *account.Service
	clock    mfagate.Clock
	rclock   mfagate.Clock // the rollout's time: moved by a rehearsal, nothing else is
	log      *slog.Logger
	key      []byte
	// rehearsal marks every page: the clock was moved on purpose.
	rehearsal bool
	// dbTimes times the store's requests, for serve's metrics.
	dbTimes *dbTimes
}

// appOption adjusts how an installation is opened.
type appOption func(*app)

// atClock runs the installation as if it were t, from now on.
func atClock(t time.Time) appOption {
	return func(a *app) {
		a.rclock = mfagate.NewOffsetClock(t, time.Now())
		a.rehearsal = true
	}
}

// openApp reads the secret key, opens the database, applies pending
// migrations and builds the use cases.
func openApp(ctx context.Context, e *env, cfg *config.Config, opts ...appOption) (*app, error) {
	plan, err := cfg.Plan()
	if err != nil {
		return nil, err
	}
	key, err := readKey(cfg.Secrets.KeyFile)
	if err != nil {
		return nil, err
	}
	times := newDBTimes()
	store, err := openStore(ctx, cfg, times)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	a := &app{cfg: cfg, store: store, clock: mfagate.SystemClock{}, key: key, dbTimes: times,
		log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	for _, o := range opts {
		o(a)
	}
	siteURL := ""
	if cfg.Server.ParsedBaseURL != nil {
		siteURL = cfg.Server.ParsedBaseURL.String()
	}
	a.accounts, err = account.New(account.Options{
		Store: store, Clock: a.clock, RolloutClock: a.rclock,
		SessionIdle: cfg.Server.SessionIdleTimeout, SessionMaxAge: cfg.Server.SessionMaxAge,
		SessionCacheSize: cfg.Server.SessionCacheSize, SharedStore: cfg.Database.Driver == sqlstore.DriverPostgres,
		Product: cfg.MFA.Issuer, SiteURL: siteURL,
		Support:  account.Contacts{Email: cfg.Support.Email, Phone: cfg.Support.Phone, Hours: cfg.Support.Hours},
		Location: cfg.Rollout.Location,
		Key:      key,
		MFA:      mfaSettings(cfg),
		Throttle: account.ThrottleSettings(cfg.Throttle),
		Rollout:  plan,
		Roles:    cfg.RoleNames(),
		RoleHelp: cfg.RoleHelp(),

		MailRetryFor: cfg.Mail.RetryFor,
		InviteTTL:    cfg.Invite.TTL,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.store.Close() }

// mfaSettings carries the configured limits over to the use cases.
func mfaSettings(cfg *config.Config) account.MFASettings {
	m := cfg.MFA
	skew := m.TOTP.SkewSteps
	if skew == 0 {
		skew = -1 // the configuration's 0 means none; the settings' 0 means the default
	}
	checkup := m.Checkup
	if checkup == 0 {
		checkup = -1 // as with skew: the configuration's 0 turns the check-up off
	}
	return account.MFASettings{
		Checkup: checkup,
		Issuer:  m.Issuer, CodeTTL: m.Email.CodeTTL, MaxFailures: m.Email.MaxAttempts,
		ResendCooldown: m.Email.ResendCooldown, HourlyCap: m.Email.HourlyCap,
		TOTPSkew: skew, RecoveryCodes: m.RecoveryCodes.Count,
	}
}

// readKey reads a key file written by "mfagate keygen": base64 of 32
// random bytes. The key encrypts secrets at rest, so a missing or damaged
// file stops start-up with a message saying which.
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("secrets.key_file is not set; create a key with \"mfagate keygen FILE\"")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret key file %s does not exist; create it with \"mfagate keygen %s\"", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secret key file %s does not hold a key: it must be base64 of 32 bytes, as \"mfagate keygen\" writes", path)
	}
	return key, nil
}

// mailer returns the Mailer the configuration asks for.
func (a *app) mailer() (mfagate.Mailer, error) {
	m := a.cfg.Mail
	if m.Driver == "outbox" {
		return mail.NewDevOutbox(), nil
	}
	return mail.NewSMTP(mail.SMTPConfig{
		Host: m.SMTP.Host, Port: m.SMTP.Port, Username: m.SMTP.Username, Password: m.SMTP.Password,
		TLS: m.SMTP.TLS, From: m.From, Clock: a.clock,
	})
}

// bootstrap creates the configured accounts that do not exist yet.
func (a *app) bootstrap(ctx context.Context) error {
	for _, b := range a.cfg.Admin.Bootstrap {
		pw, err := os.ReadFile(b.PasswordFile)
		if err != nil {
			return fmt.Errorf("read password file of bootstrap account %q: %w", b.Username, err)
		}
		created, err := a.accounts.EnsureUser(ctx, account.Actor{Name: mfagate.ActorSystem, AtServer: true}, account.NewUser{
			Username: b.Username, Email: b.Email, Name: b.Name, Roles: b.Roles,
			Password: strings.TrimRight(string(pw), "\r\n"),
		})
		if err != nil {
			return fmt.Errorf("bootstrap account %q: %s", b.Username, operatorMessage(forAdministrator(err)))
		}
		if created {
			a.log.Info("created bootstrap account", "username", b.Username)
		}
	}
	return nil
}

// openStore opens the configured database without migrating it; obs,
// when not nil, times its requests.
func openStore(ctx context.Context, cfg *config.Config, obs sqlstore.Observer) (*sqlstore.DB, error) {
	o := storeOptions(cfg.Database)
	o.Observer = obs
	return sqlstore.OpenWith(ctx, cfg.Database.Driver, cfg.Database.DSN, o)
}

// longCommandTimeout is the deadline of a command's work that reads or
// writes every account in one go (simulate, user list, user import):
// database.request_timeout is for requests and would stop them at a
// size an installation can reach.
const longCommandTimeout = 10 * time.Minute

// storeOptions carries the configured deadlines and pool to the store.
func storeOptions(d config.Database) sqlstore.Options {
	return sqlstore.Options{
		RequestTimeout: d.RequestTimeout, ConnectTimeout: d.ConnectTimeout,
		MaxOpenConns: d.MaxOpenConns, MaxIdleConns: d.MaxIdleConns,
		ConnMaxLifetime: d.ConnMaxLifetime, ConnMaxIdleTime: d.ConnMaxIdleTime,
	}
}
