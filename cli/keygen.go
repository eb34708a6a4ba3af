package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func runKeygen(ctx context.Context, e *env, args []string) error {
	flags := newFlags(e, "keygen", "FILE")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one file to write the key to, as in \"mfagate keygen /etc/mfagate/secret.key\"")
	}
	if err := writeKey(pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote a new secret key to %s. Keep it safe: without it, authenticator app secrets cannot be read.\n", pos[0])
	return nil
}

// writeKey writes base64 of 32 random bytes to a new file readable only
// by its owner. It never overwrites: replacing a key in use would make
// every stored secret unreadable.
func writeKey(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("make key: %w", err)
	}
	// A folder that does not exist yet is made for the key alone: readable
	// by its owner only. An existing one is left as it is.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the key's folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; a key in use must not be replaced, so choose another file name", path)
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}
