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

// errBadText is what people are told when PostgreSQL refuses text that
// the edge should have refused first (web's input checks): a NUL byte or
// bytes that are not UTF-8. It keeps a door that forgot to check from
// answering 500, and the command line from printing a driver error.
var errBadText = mfagate.Errorf(mfagate.EINVALID,
	"The text contains characters that cannot be stored, such as a NUL byte or bytes that are not UTF-8. Remove them and try again")

// badTextError is errBadText for people and its cause for the log.
type badTextError struct{ cause error }

func (e *badTextError) Error() string   { return "bad text: " + e.cause.Error() }
func (e *badTextError) Unwrap() []error { return []error{errBadText, e.cause} }

// pgBadText are PostgreSQL's codes for text it cannot hold: an invalid
// byte sequence (NUL included) and an untranslatable character.
var pgBadText = []string{"22021", "22P05"}

// unavailable marks err EUNAVAILABLE when the call's deadline (ctx's)
// passed or the database could not be reached, so that pages and the API
// answer 503 instead of 500, and EINVALID when the database refused text
// it cannot store. It is applied once, where a call leaves the store. An
// error that already has a code (ENOTFOUND from a Tx method, or any
// *mfagate.Error fn returned) is the caller's answer and left alone; so
// is a context cancelled by the caller, whose client has gone.
func unavailable(ctx context.Context, err error) error {
	if err == nil || mfagate.ErrorCode(err) != mfagate.EINTERNAL {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && slices.Contains(pgBadText, pe.Code) {
		return &badTextError{cause: err}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || unreachable(err) {
		return &unavailableError{cause: err}
	}
	return err
}

// pgUnavailable are the PostgreSQL error codes (besides class 08,
// connection exceptions) that mean the server cannot serve now, not that
// the statement is wrong: too many connections, shutting down, starting
// up, a statement cancelled by statement_timeout or an operator, and a
// transaction aborted to break a deadlock or a serialization conflict.
// The last two should not happen (transactions take their locks in one
// order: see doc.go); if they do, the answer is "try again", not a 500.
var pgUnavailable = []string{"53300", "57P01", "57P02", "57P03", "57014", "40P01", "40001"}

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
