package config

import "time"

// The database keys' defaults. sqlstore.DefaultOptions holds the same
// numbers for callers without a configuration; a test in package cli keeps
// the two in step. docs/configuration.md says why each is what it is.
const (
	defaultRequestTimeout  = 5 * time.Second
	defaultConnectTimeout  = 5 * time.Second
	defaultConnMaxLifetime = 30 * time.Minute
	defaultConnMaxIdleTime = 5 * time.Minute
)

// databaseDefaults are the pool sizes for driver: PostgreSQL 20 open (three
// replicas use at most 60 of the server's default 100 connections), all
// of them kept idle (closing those beyond 10 after each burst cost the
// authenticator-code step a quarter of its rate; conn_max_idle_time
// still closes them after a quiet spell); SQLite 8 and 8, since it writes
// one transaction at a time and has no server to spare.
func databaseDefaults(driver string) (maxOpen, maxIdle int) {
	if driver == "postgres" {
		return 20, 20
	}
	return 8, 8
}

// minOpenConns is the smallest pool allowed: walking every account
// (People) streams three tables through three connections at once on
// SQLite, and with fewer than three one slow call holds up every other.
const minOpenConns = 3

// validatePool fills the database keys left out (or 0) with their defaults
// and checks the ones given.
func (c *Config) validatePool(v *validator) {
	d := &c.Database
	orDefault := func(p *time.Duration, def time.Duration) {
		if *p == 0 {
			*p = def
		}
	}
	orDefault(&d.RequestTimeout, defaultRequestTimeout)
	orDefault(&d.ConnectTimeout, defaultConnectTimeout)
	orDefault(&d.ConnMaxLifetime, defaultConnMaxLifetime)
	orDefault(&d.ConnMaxIdleTime, defaultConnMaxIdleTime)
	// The server's write timeout is 60 s: a longer request timeout could
	// not reach the browser anyway.
	v.durationRange("database.request_timeout", d.RequestTimeout, time.Second, time.Minute)
	v.durationRange("database.connect_timeout", d.ConnectTimeout, time.Second, time.Minute)
	v.durationRange("database.conn_max_lifetime", d.ConnMaxLifetime, time.Minute, 24*time.Hour)
	v.durationRange("database.conn_max_idle_time", d.ConnMaxIdleTime, time.Minute, 24*time.Hour)

	maxOpen, maxIdle := databaseDefaults(d.Driver)
	if d.MaxOpenConns == 0 {
		d.MaxOpenConns = maxOpen
	}
	if d.MaxIdleConns == 0 {
		d.MaxIdleConns = min(maxIdle, max(d.MaxOpenConns, 1))
	}
	v.intRange("database.max_open_conns", d.MaxOpenConns, minOpenConns, 1000)
	switch {
	case d.MaxIdleConns < 1:
		v.fail("database.max_idle_conns", "database.max_idle_conns is %d; it must be at least 1", d.MaxIdleConns)
	case d.MaxIdleConns > d.MaxOpenConns && d.MaxOpenConns >= minOpenConns:
		v.fail("database.max_idle_conns", "database.max_idle_conns (%d) must not be more than database.max_open_conns (%d)", d.MaxIdleConns, d.MaxOpenConns)
	}
}
