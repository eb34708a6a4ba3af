package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/mfagate/mfagate"
)

// TestOperatorMessage: the operator at the server is told the cause of an
// internal error, where a page would say only "Something went wrong"; an
// error meant for people reads as they would read it.
func TestOperatorMessage(t *testing.T) {
	disk := errors.New("unable to open database file: out of memory (14)")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"internal, wrapped", fmt.Errorf("open database: %w", disk), "Something went wrong: open database: unable to open database file: out of memory (14)"},
		{"for people", mfagate.Errorf(mfagate.EINVALID, "Enter an email address"), "Enter an email address"},
		{"for people, wrapped", fmt.Errorf("line 3: %w", mfagate.Errorf(mfagate.ECONFLICT, "That username is already taken")), "That username is already taken"},
		{"unavailable", mfagate.Errorf(mfagate.EUNAVAILABLE, "The database did not answer in time"), "The database did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := operatorMessage(tt.err); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// And what the command finally prints: the cause, with exit status 1.
	var stderr bytes.Buffer
	err := fmt.Errorf("bootstrap account %q: %s", "admin", operatorMessage(fmt.Errorf("create user: %w", disk)))
	if code := exitStatus(&stderr, err); code != 1 {
		t.Fatalf("got exit status %d, want 1", code)
	}
	if got, want := stderr.String(), "mfagate: Bootstrap account \"admin\": Something went wrong: create user: unable to open database file: out of memory (14).\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
