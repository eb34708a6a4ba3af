package sqlstore

import "time"

// Options bound how a DB uses its database: how long a call may take and
// how many connections it keeps. Zero fields take DefaultOptions'.
type Options struct {
	// RequestTimeout is the deadline of each Update, View and Ping whose
	// context has none; past it the call fails with EUNAVAILABLE. Work
	// that may take longer sets its own deadline on the context.
	RequestTimeout time.Duration
	// ConnectTimeout bounds opening one PostgreSQL connection, unless the
	// DSN sets connect_timeout. SQLite opens a file and ignores it.
	ConnectTimeout time.Duration
	// MaxOpenConns bounds the connections open at once, in use or idle;
	// calls beyond it wait for one, within their deadline.
	MaxOpenConns int
	// MaxIdleConns is how many unused connections are kept for the next
	// call; at most MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime closes a connection this long after it was opened,
	// so that connections follow a database that failed over or moved.
	ConnMaxLifetime time.Duration
	// ConnMaxIdleTime closes a connection unused for this long, so a
	// burst's connections do not stay on the server for ever.
	ConnMaxIdleTime time.Duration

	// Observer, when set, is told how long each Update, View and Ping
	// took (not part of the defaults: DefaultOptions leaves it nil).
	Observer Observer
}

// RequestKind is what a database request was, for timing it.
type RequestKind int

// The kinds of request a DB times.
const (
	RequestUpdate RequestKind = iota // a read-write transaction, from begin to commit
	RequestView                      // reads outside a transaction
	RequestPing                      // a readiness check
)

// RequestKinds are every kind, in order.
var RequestKinds = []RequestKind{RequestUpdate, RequestView, RequestPing}

func (k RequestKind) String() string {
	switch k {
	case RequestUpdate:
		return "update"
	case RequestView:
		return "view"
	case RequestPing:
		return "ping"
	}
	return "unknown"
}

// Observer hears how long database requests take, waits for a connection
// and for locks included, failed ones too. It is called once per request
// on the request's goroutine, so it must be cheap and safe for concurrent
// use.
type Observer interface {
	ObserveRequest(kind RequestKind, d time.Duration)
}

// DefaultOptions are the settings Open uses for driver, and what
// configuration leaves out gets (config keeps its copy in step; a test in
// package cli checks it).
//
// PostgreSQL: 20 connections, so three replicas use at most 60 of the
// server's default max_connections of 100 and leave room for migrations,
// backups and a person with psql; all 20 kept idle. With 10, every burst
// beyond 10 requests at once closed its extra connections as it ended and
// the next opened them again (a few milliseconds each, more with TLS):
// account's BenchmarkTOTPStep, 16 at once, ran 1,550 steps/s so and
// 2,100 with all idle. ConnMaxIdleTime still closes a burst's connections
// after a quiet spell, so they do not stay on the server for ever.
//
// SQLite: 8 connections. SQLite writes one transaction at a time whatever
// the pool, and readers gain little beyond the cores, so more would only
// add page caches and writers waiting on the lock. It must be at least 3:
// streaming every account (the rollout forecast) reads three tables
// through three connections at once. Opening a SQLite connection is cheap,
// but there is no server to spare either, so all 8 may stay idle.
//
// Both: a call may take 5 s (then the person gets a page asking them to
// retry, not a hung browser), a PostgreSQL connection 5 s to open,
// connections live 30 minutes and close after 5 idle.
func DefaultOptions(driver string) Options {
	o := Options{
		RequestTimeout:  5 * time.Second,
		ConnectTimeout:  5 * time.Second,
		ConnMaxLifetime: 30 * time.Minute,
		ConnMaxIdleTime: 5 * time.Minute,
	}
	if driver == DriverPostgres {
		o.MaxOpenConns, o.MaxIdleConns = 20, 20
	} else {
		o.MaxOpenConns, o.MaxIdleConns = 8, 8
	}
	return o
}

// orDefaults fills o's zero fields from DefaultOptions(driver), and keeps
// MaxIdleConns within MaxOpenConns.
func (o Options) orDefaults(driver string) Options {
	d := DefaultOptions(driver)
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = d.RequestTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = d.ConnectTimeout
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = d.MaxOpenConns
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = d.MaxIdleConns
	}
	o.MaxIdleConns = min(o.MaxIdleConns, o.MaxOpenConns)
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = d.ConnMaxLifetime
	}
	if o.ConnMaxIdleTime <= 0 {
		o.ConnMaxIdleTime = d.ConnMaxIdleTime
	}
	return o
}
