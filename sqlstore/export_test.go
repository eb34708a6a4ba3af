package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/mfagate/mfagate"
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

// ExecInTx runs fn in one write transaction, handing it an exec for
// statements written with ? placeholders: for seeding large populations.
func ExecInTx(ctx context.Context, db *DB, fn func(exec func(query string, args ...any) error) error) error {
	sqlTx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	t := &tx{ctx: ctx, q: sqlTx, dialect: db.dialect, writable: true}
	if err := fn(func(query string, args ...any) error {
		_, err := t.exec(query, args...)
		return err
	}); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// PeopleMerged and PeopleJoined stream people in View the one way or the
// other, on either backend, so that BenchmarkPeople can compare them.
func PeopleMerged(ctx context.Context, db *DB, fn func(*mfagate.Person) error) error {
	return (&tx{ctx: ctx, q: db.db, dialect: db.dialect}).peopleMerged(fn)
}

func PeopleJoined(ctx context.Context, db *DB, fn func(*mfagate.Person) error) error {
	return (&tx{ctx: ctx, q: db.db, dialect: db.dialect}).peopleJoined(fn)
}

// MailQueueStatements are MailQueue's statements with their arguments,
// for the test of their plans.
var MailQueueStatements = []struct {
	Query string
	Args  []any
}{{queueCountSQL, nil}, {queueDueSQL, []any{2, 2, int64(1800000000000), queueHead}}}

// Explain returns the database's plan of query, one line per step.
func Explain(ctx context.Context, db *DB, query string, args ...any) (string, error) {
	prefix := "EXPLAIN "
	if db.dialect == dialectSQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.db.QueryContext(ctx, prefix+db.dialect.rebind(query), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1])) // the step's text is the last column
	}
	return strings.Join(plan, "\n"), rows.Err()
}

// SetPrepare turns the preparing of statements on or off for db, for
// BenchmarkStatementCache to compare the two on either backend; it must
// be called before db runs any query.
func SetPrepare(db *DB, on bool) { db.stmts.prepare = on }

// StatementsCached is how many statements db has prepared and how many
// queries its cache holds.
func StatementsCached(db *DB) (prepared, cached int) { return db.stmts.len() }
