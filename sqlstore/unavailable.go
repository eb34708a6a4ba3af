package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mfagate/mfagate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// errUnavailable is what people are told when the database does not
// answer: nothing they did wrong, and worth trying again.
var errUnavailable = mfagate.Errorf(mfagate.EUNAVAILABLE,
	"The service cannot reach its database just now. Try again in a minute")

// unavailableError is errUnavailable for people and its cause for the log.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{errUnavailable, e.cause} }

// unavailable marks err EUNAVAILABLE when the call's deadline (ctx's)
// passed or the database could not be reached, so that pages and the API
// answer 503 instead of 500. It is applied once, where a call leaves the
// store. An error that already has a code (ENOTFOUND from a Tx method, or
// any *mfagate.Error fn returned) is the caller's answer and left alone;
// so is a context cancelled by the caller, whose client has gone.
func unavailable(ctx context.Context, err error) error {
	if err == nil || mfagate.ErrorCode(err) != mfagate.EINTERNAL {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || unreachable(err) {
		return &unavailableError{cause: err}
	}
	return err
}

// pgUnavailable are the PostgreSQL error codes (besides class 08,
// connection exceptions) that mean the server cannot serve now, not that
// the statement is wrong: too many connections, shutting down, starting
// up, and a statement cancelled by statement_timeout or an operator.
var pgUnavailable = []string{"53300", "57P01", "57P02", "57P03", "57014"}

// unreachable reports whether err says the database did not answer or
// could not be reached, on either backend.
func unreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || pgconn.Timeout(err) {
		return true
	}
	var (
		ce *pgconn.ConnectError
		ne net.Error
		pe *pgconn.PgError
		se *sqlite.Error
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || slices.Contains(pgUnavailable, pe.Code)
	case errors.As(err, &se):
		// Another connection held the lock past busy_timeout, or the call
		// was interrupted when its context ended.
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT:
			return true
		}
	}
	return false
}
