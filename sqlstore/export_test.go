package sqlstore

import (
	"context"
	"fmt"
)

// MigrateTo applies the embedded migrations up to and including the file
// named last, leaving the database as a release that shipped with last
// would. It exists for the tests of upgrades in package sqlstore_test.
func MigrateTo(ctx context.Context, db *DB, last string) ([]string, error) {
	ms, err := loadMigrations(migrationsFS(), db.dialect)
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		if m.name == last {
			return db.migrate(ctx, ms[:i+1])
		}
	}
	return nil, fmt.Errorf("no migration %q", last)
}

// Exec runs one statement, written with ? placeholders, outside the Store
// interface: for rows that only an older schema can hold.
func Exec(ctx context.Context, db *DB, query string, args ...any) error {
	_, err := db.db.ExecContext(ctx, db.dialect.rebind(query), args...)
	return err
}

// QueryInt runs a query, written with ? placeholders, that returns one
// integer: for what the Store interface cannot see.
func QueryInt(ctx context.Context, db *DB, query string, args ...any) (int64, error) {
	var n int64
	err := db.db.QueryRowContext(ctx, db.dialect.rebind(query), args...).Scan(&n)
	return n, err
}
