package mfagate

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status and one JSON "code" value.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // it would clash with something that exists
	EUNAUTHORIZED = "unauthorized" // not signed in, or the credentials are wrong
	EFORBIDDEN    = "forbidden"    // signed in but not allowed
	ETHROTTLED    = "throttled"    // too many attempts; try later
	EUNAVAILABLE  = "unavailable"  // the database did not answer in time or cannot be reached; try again shortly
	EINTERNAL     = "internal"     // anything else; details are logged, not shown
)

// Error is an error whose Message is safe to show to the person who caused
// it. Any other error is treated as internal: logged, and shown only as
// "Something went wrong".
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL when there is none. A nil error has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic sentence for internal errors, so details never leak to users of
// the pages and the API. The command line runs at the server and shows the
// operator the cause instead.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong. Try again later" // pages end the sentence
}
