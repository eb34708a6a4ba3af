package config

import (
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Config is the whole configuration of one mfagate installation. The fields
// tagged yaml:"-" are not keys: Validate fills them with parsed forms of the
// keys next to them.
type Config struct {
	Server    Server    `yaml:"server"`
	Database  Database  `yaml:"database"`
	Secrets   Secrets   `yaml:"secrets"`
	Mail      Mail      `yaml:"mail"`
	MFA       MFA       `yaml:"mfa"`
	Rollout   Rollout   `yaml:"rollout"`
	Throttle  Throttle  `yaml:"throttle"`
	Retention Retention `yaml:"retention"`
	Support   Support   `yaml:"support"`
	Admin     Admin     `yaml:"admin"`
	// ForwardAuth says who may reach the applications protected through
	// GET /auth/verify.
	ForwardAuth ForwardAuth `yaml:"forward_auth"`
	// Roles are the roles this installation gives people (roles.go).
	Roles []Role `yaml:"roles"`
	// Invite configures the invitations emailed to new people.
	Invite Invite `yaml:"invite"`

	// Warnings are problems that do not stop mfagate from starting, such as
	// an MFAGATE_ variable that matches no key. Callers should print them.
	Warnings []string `yaml:"-"`

	// src remembers where each key's value came from, so that Validate can
	// name the file line or the environment variable in its messages.
	src sources
}

// Server configures the HTTP listener, the public address and sessions.
type Server struct {
	Addr               string        `yaml:"addr"`
	BaseURL            string        `yaml:"base_url"`
	CookieDomain       string        `yaml:"cookie_domain"`
	TrustedProxies     []string      `yaml:"trusted_proxies"`
	DevInsecureCookies bool          `yaml:"dev_insecure_cookies"`
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
	SessionMaxAge      time.Duration `yaml:"session_max_age"`
	// MetricsAddr, when set, is where /metrics is served, alone; the
	// main listener then answers 404 for it.
	MetricsAddr string `yaml:"metrics_addr"`
	// ShutdownDelay is how long the server keeps serving after it is told
	// to stop, with /readyz answering 503, so that a load balancer stops
	// sending it requests before it stops taking them. 0: none.
	ShutdownDelay time.Duration `yaml:"shutdown_delay"`
	// SessionCacheSize is how many live sessions each server keeps in
	// memory for forward-auth's checks (account.DefaultSessionCacheSize).
	SessionCacheSize int `yaml:"session_cache_size"`

	// ParsedBaseURL is BaseURL parsed; nil when BaseURL is empty.
	ParsedBaseURL *url.URL `yaml:"-"`
	// TrustedProxyPrefixes is TrustedProxies parsed; a bare address becomes
	// a /32 or /128 prefix.
	TrustedProxyPrefixes []netip.Prefix `yaml:"-"`
}

// Database says which database to use, how to reach it and how much of
// it to use. Validate fills the zero durations and counts with the
// driver's defaults (see databaseDefaults).
type Database struct {
	Driver string `yaml:"driver"` // "sqlite" or "postgres"
	DSN    string `yaml:"dsn"`
	// RequestTimeout is how long one transaction or read may take before
	// the request is answered 503.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// ConnectTimeout bounds opening a PostgreSQL connection, unless the
	// DSN sets connect_timeout.
	ConnectTimeout  time.Duration `yaml:"connect_timeout"`
	MaxOpenConns    int           `yaml:"max_open_conns"`
	MaxIdleConns    int           `yaml:"max_idle_conns"`
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"`
	ConnMaxIdleTime time.Duration `yaml:"conn_max_idle_time"`
}

// Secrets names where the key that encrypts TOTP secrets at rest is kept.
type Secrets struct {
	KeyFile string `yaml:"key_file"`
}

// Mail configures outgoing email.
type Mail struct {
	From   string `yaml:"from"`
	Driver string `yaml:"driver"` // "smtp" or "outbox"
	SMTP   SMTP   `yaml:"smtp"`
	// RetryFor is how long a message is retried after temporary failures
	// before it is given up.
	RetryFor time.Duration `yaml:"retry_for"`
	// MaxPerSecond paces account notices and campaigns, per replica; 0
	// means no limit. Security mail is never paced.
	MaxPerSecond int `yaml:"max_per_second"`
	// Connections is how many SMTP connections each replica uses for
	// notices and campaigns; security mail has two more of its own.
	Connections int `yaml:"connections"`

	// FromAddress is From parsed.
	FromAddress *mail.Address `yaml:"-"`
}

// SMTP configures the SMTP server used when Mail.Driver is "smtp".
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	TLS      string `yaml:"tls"` // "starttls", "tls" or "none"
}

// MFA configures the second factors.
type MFA struct {
	Issuer        string        `yaml:"issuer"`
	Email         EmailCodes    `yaml:"email"`
	TOTP          TOTP          `yaml:"totp"`
	RecoveryCodes RecoveryCodes `yaml:"recovery_codes"`
	// Checkup is how long after a factor is added, while it is still
	// unused, it is asked for first at sign-in (and a reminder goes out
	// halfway); 0 turns the check-up off.
	Checkup time.Duration `yaml:"checkup"`
}

// EmailCodes configures one-time codes sent by email.
type EmailCodes struct {
	CodeTTL        time.Duration `yaml:"code_ttl"`
	MaxAttempts    int           `yaml:"max_attempts"`
	ResendCooldown time.Duration `yaml:"resend_cooldown"`
	HourlyCap      int           `yaml:"hourly_cap"`
}

// TOTP configures authenticator-app codes.
type TOTP struct {
	SkewSteps int `yaml:"skew_steps"` // 0 or 1
}

// Throttle bounds password and code guessing. Failures are counted per
// account and per client address in the database, across replicas.
type Throttle struct {
	DelayAfter        int           `yaml:"delay_after"`         // failures before each try must wait
	MaxDelay          time.Duration `yaml:"max_delay"`           // the longest wait between tries
	LockAfter         int           `yaml:"lock_after"`          // consecutive failures before a lock
	LockFor           time.Duration `yaml:"lock_for"`            // how long that lock lasts
	HardLockAfter     int           `yaml:"hard_lock_after"`     // failures before only support can unlock
	AddressDelayAfter int           `yaml:"address_delay_after"` // failures from one address before it must wait
}

// Retention says how long mfagate keeps what it no longer needs. Codes
// and sessions end by their own lifetimes; these are the rest.
type Retention struct {
	SentMail      time.Duration `yaml:"sent_mail"`      // sent and given-up outbox messages
	IdleThrottles time.Duration `yaml:"idle_throttles"` // failures of an address or unknown username with no new one
}

// RecoveryCodes configures the single-use recovery codes.
type RecoveryCodes struct {
	Count int `yaml:"count"`
}

// Rollout is the dated schedule of MFA phases.
type Rollout struct {
	Timezone string  `yaml:"timezone"`
	Phases   []Phase `yaml:"phases"`

	// Location is Timezone loaded.
	Location *time.Location `yaml:"-"`
}

// Phase is one step of the rollout, as written in the file. Package rollout
// checks how phases fit together; config checks only each one's shape.
type Phase struct {
	Name          string   `yaml:"name"`
	Starts        string   `yaml:"starts"`
	Audience      []string `yaml:"audience"`
	Requirement   string   `yaml:"requirement"` // "notify", "optional" or "required"
	Methods       []string `yaml:"methods"`     // "email", "totp"
	DefaultMethod string   `yaml:"default_method"`
	Notice        *Notice  `yaml:"notice"`
	Reminders     []string `yaml:"reminders"`
	// Pacing, person by person (see rollout.Phase): a grace window on a
	// required phase, capped skips on an optional one.
	Grace         string `yaml:"grace"`          // such as 14d
	GraceUntil    string `yaml:"grace_until"`    // a date: every window ends with that day
	MaxSkips      int    `yaml:"max_skips"`      // skips allowed before Then applies
	RepromptAfter string `yaml:"reprompt_after"` // such as 1d
	Then          string `yaml:"then"`           // "required"
	// Retire lists methods that stop counting for the audience from the
	// phase's start, such as [email]; methods then defaults to the rest.
	Retire []string `yaml:"retire"`

	// GraceFor, GraceEnd and RepromptFor are Grace, GraceUntil (the
	// first moment after that day) and RepromptAfter parsed.
	GraceFor    time.Duration `yaml:"-"`
	GraceEnd    time.Time     `yaml:"-"`
	RepromptFor time.Duration `yaml:"-"`

	// Start is Starts parsed; a date means midnight in the rollout's zone.
	Start time.Time `yaml:"-"`
	// ReminderOffsets is Reminders parsed: how long before Start each
	// reminder is sent.
	ReminderOffsets []time.Duration `yaml:"-"`
}

// Notice is the email sent to a phase's audience when the phase starts.
type Notice struct {
	Subject string `yaml:"subject"`
	Body    string `yaml:"body"`
}

// Support holds the contacts shown on the help page and in emails.
type Support struct {
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
	Hours string `yaml:"hours"`
}

// Invite configures invitations: the emailed link with which a new person
// chooses their first password.
type Invite struct {
	TTL time.Duration `yaml:"ttl"` // how long the link works (default 7 days)
}

// Admin lists the accounts created at start-up when they are missing.
type Admin struct {
	Bootstrap []BootstrapAccount `yaml:"bootstrap"`
}

// BootstrapAccount is an account created at start-up when missing. Its
// password is read from PasswordFile by the caller, not by config.
type BootstrapAccount struct {
	Username     string   `yaml:"username"`
	Email        string   `yaml:"email"`
	Name         string   `yaml:"name"`
	Roles        []string `yaml:"roles"`
	PasswordFile string   `yaml:"password_file"`
}

// ForwardAuth holds the access rules of forward-auth. Without rules every
// fully signed-in person may reach every protected application.
type ForwardAuth struct {
	Rules []AccessRule `yaml:"rules"`
}

// AccessRule says which roles may reach a host and path prefix. The first
// rule matching a request decides; a request no rule matches is let
// through for anyone signed in. Validate fills Path and Roles when they
// are left out.
type AccessRule struct {
	Host  string   `yaml:"host"`  // "app.example.com", "*.example.com" or "*"
	Path  string   `yaml:"path"`  // a path prefix; default "/"
	Roles []string `yaml:"roles"` // default [all]: everyone signed in
}

// Default returns a Config holding every default value and nothing else.
// It does not pass Validate: the required keys are empty.
func Default() *Config {
	return &Config{
		Server: Server{
			Addr:               "127.0.0.1:8080",
			SessionIdleTimeout: 30 * time.Minute,
			SessionMaxAge:      12 * time.Hour,
			ShutdownDelay:      5 * time.Second,
			SessionCacheSize:   100_000,
		},
		Mail: Mail{SMTP: SMTP{Port: 587, TLS: "starttls"}, RetryFor: 72 * time.Hour, Connections: 4},
		MFA: MFA{
			Issuer: "mfagate",
			Email: EmailCodes{
				CodeTTL:        10 * time.Minute,
				MaxAttempts:    5,
				ResendCooldown: 30 * time.Second,
				HourlyCap:      10,
			},
			TOTP:          TOTP{SkewSteps: 1},
			RecoveryCodes: RecoveryCodes{Count: 10},
			Checkup:       28 * 24 * time.Hour,
		},
		Throttle: Throttle{
			DelayAfter: 3, MaxDelay: 30 * time.Second,
			LockAfter: 10, LockFor: 15 * time.Minute,
			HardLockAfter: 50, AddressDelayAfter: 20,
		},
		Retention: Retention{SentMail: 30 * 24 * time.Hour, IdleThrottles: 24 * time.Hour},
		Rollout:   Rollout{Timezone: "UTC"},
		Roles:     slices.Clone(defaultRoles),
		Invite:    Invite{TTL: 7 * 24 * time.Hour},
	}
}

// Load reads the configuration file at path and returns it decoded,
// overridden from the environment through getenv (which may be nil),
// completed with defaults and validated. See Parse.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, getenv)
}

// LoadEnviron is Load with the environment given as "NAME=value" entries,
// as os.Environ returns them. Knowing every name, it also adds a warning for
// each MFAGATE_ variable that matches no key (see UnknownEnv).
func LoadEnviron(path string, environ []string) (*Config, error) {
	cfg, err := Load(path, lookup(environ))
	if err != nil {
		return nil, err
	}
	cfg.Warnings = append(cfg.Warnings, UnknownEnv(environ)...)
	return cfg, nil
}

// Parse decodes a configuration file's contents strictly, applies the
// MFAGATE_* overrides read through getenv (which may be nil), fills
// defaults and validates the result. The error, when not nil, is an *Error
// listing what is wrong; Parse never panics. A nil error means the returned
// Config is complete and valid.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	cfg.src = newSources()
	d := &decoder{src: cfg.src}
	d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	if len(d.problems) > 0 {
		return nil, &Error{Problems: d.problems}
	}
	if getenv != nil {
		if ps := applyEnv(cfg, getenv); len(ps) > 0 {
			return nil, &Error{Problems: ps}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Line    int    // line in the file, or 0
	Env     string // the environment variable the value came from, or ""
	Message string // names the key, e.g. `database.driver "mysql" is not one of sqlite, postgres`
}

// String formats the problem as one line that starts with where it is:
// "config line N: ", the environment variable's name, or "config: ".
func (p Problem) String() string {
	switch {
	case p.Env != "":
		return p.Env + ": " + p.Message
	case p.Line > 0:
		return fmt.Sprintf("config line %d: %s", p.Line, p.Message)
	default:
		return "config: " + p.Message
	}
}

// Error is the error returned by Parse, Load and Validate. Its message is
// one line: the problems joined by "; ".
type Error struct {
	Problems []Problem
}

// Error returns every problem on one line, separated by "; ".
func (e *Error) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}
