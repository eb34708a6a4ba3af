package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/sqlstore"
)

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "backup", "FILE [--config FILE | --data FOLDER]")
	sf := addStoreFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usagef("give exactly one file to write, as in \"mfagate backup /var/backups/mfagate-2027-07-13.db --config /etc/mfagate/mfagate.yaml\"")
	}
	cfg, err := sf.load(e)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == sqlstore.DriverPostgres {
		return errors.New("mfagate backup copies SQLite databases only; back up PostgreSQL with pg_dump, as docs/operations.md#backups describes")
	}
	path, err := sqlstore.SQLitePath(cfg.Database.DSN)
	if err != nil {
		return fmt.Errorf("database.dsn: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the database %s does not exist, so there is nothing to back up", path)
	}
	// Not openApp: a backup must not migrate the database it copies (one
	// is taken before an upgrade) nor need the key.
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout) // the whole database
	defer cancel()
	info, err := store.Backup(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s: %s, %s, schema %s; its integrity check passed.\n",
		info.Path, byteSize(info.Size), mfagate.Plural(info.Accounts, "account", "accounts"), strings.TrimSuffix(info.Schema, ".sql"))
	if len(info.Newer) > 0 {
		fmt.Fprintf(e.stdout, "The database comes from a newer mfagate than this one (it has migration %s): restore this backup with that version or a later one.\n", info.Newer[0])
	}
	fmt.Fprintf(e.stdout, "Keep the secret key file %s too, stored apart from this backup: without it, the authenticator-app secrets in the backup cannot be read.\n", keyFileName(cfg))
	return nil
}

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "restore", "BACKUP [--config FILE | --data FOLDER]")
	sf := addStoreFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usagef("give exactly one backup file, as in \"mfagate restore /var/backups/mfagate-2027-07-13.db --config /etc/mfagate/mfagate.yaml\"")
	}
	cfg, err := sf.load(e)
	if err != nil {
		return err
	}
	if cfg.Database.Driver == sqlstore.DriverPostgres {
		return errors.New("mfagate restore restores SQLite databases only; restore PostgreSQL with pg_restore, as docs/operations.md#backups describes")
	}
	ctx, cancel := context.WithTimeout(ctx, longCommandTimeout)
	defer cancel()
	keyChecked := false
	info, err := sqlstore.RestoreWith(ctx, cfg.Database.DSN, pos[0], time.Now(), func(b sqlstore.BackupInfo) error {
		var err error
		keyChecked, err = keyOpensBackup(cfg, pos[0], b)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Checked %s: its integrity check passed; %s, schema %s.\n",
		info.Path, mfagate.Plural(info.Accounts, "account", "accounts"), strings.TrimSuffix(info.Schema, ".sql"))
	if info.WAL != "" {
		fmt.Fprintf(e.stdout, "It includes its newest changes, from %s beside it.\n", info.WAL)
	}
	if info.KeptAs != "" {
		fmt.Fprintf(e.stdout, "Kept the database it replaces as %s.\n", info.KeptAs)
	} else {
		fmt.Fprintf(e.stdout, "There was no database at %s yet.\n", info.Database)
	}
	fmt.Fprintf(e.stdout, "Restored %s into %s.\n", info.Path, info.Database)
	if n := len(info.Pending); n > 0 {
		fmt.Fprintf(e.stdout, "The backup is from an older version: \"mfagate serve\" applies the %s it lacks when it starts.\n", mfagate.Plural(n, "migration", "migrations"))
	}
	key := keyFileName(cfg)
	if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stdout, "The secret key file %s does not exist yet: put there the key kept with this backup before starting mfagate; with another key, authenticator apps stop working and people must set them up again.\n", key)
		return nil
	}
	if keyChecked {
		fmt.Fprintf(e.stdout, "The secret key file %s opens the authenticator-app secrets in the backup: it is the key this backup was made with.\n", key)
		return nil
	}
	fmt.Fprintf(e.stdout, "Start mfagate with the secret key file that was in use when the backup was taken (%s): with another key, authenticator apps stop working and people must set them up again.\n", key)
	return nil
}

// keyFileName is the configured secret key file, for messages.
func keyFileName(cfg *config.Config) string {
	if cfg.Secrets.KeyFile == "" {
		return "secrets.key_file"
	}
	return cfg.Secrets.KeyFile
}

// byteSize writes n bytes for people: 812 bytes, 4.2 MB, 1.3 GB.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return mfagate.Plural(int(n), "byte", "bytes")
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
