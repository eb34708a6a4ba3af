package sqlstore

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the database flavour. The SQL is the same for both; only
// placeholders, a few words in the migrations and error codes differ.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// rebind turns the ? placeholders of query into $1, $2... for PostgreSQL.
// Question marks inside single-quoted literals are left alone.
func (d dialect) rebind(query string) string {
	if d != dialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// nowMillis is the database's own clock, in Unix milliseconds, as an SQL
// expression. Mail leases are set and compared with it, never with a
// server's clock: two replicas whose clocks disagree by more than a
// lease would otherwise each think the other's lease had ended, and both
// send the message.
func (d dialect) nowMillis() string {
	if d == dialectPostgres {
		return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
	}
	return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
}

// skipLocked is appended to the SELECT that picks mail to claim: on
// PostgreSQL concurrent claimers pass over rows another is claiming instead
// of queueing behind it. SQLite has one writer at a time and needs nothing.
func (d dialect) skipLocked() string {
	if d == dialectPostgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// forUpdate is appended to a SELECT whose row the transaction is about to
// change from what it read (a read-modify-write such as counting a wrong
// code). On PostgreSQL, whose transactions are READ COMMITTED, it locks the
// row so a concurrent transaction waits and then reads the new value
// instead of overwriting it. SQLite transactions already run one at a time
// (BEGIN IMMEDIATE), and outside a transaction (View) there is nothing to
// hold a lock for.
func (t *tx) forUpdate() string {
	if t.dialect == dialectPostgres && t.writable {
		return " FOR UPDATE"
	}
	return ""
}

// isUniqueViolation reports whether err is a unique or primary key
// constraint violation on either backend.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// millis is how a time is stored: Unix milliseconds, or NULL for the zero
// time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis reads back what millis stored, in UTC.
func fromMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// blob is how an optional byte string is stored: NULL when empty, so that
// nil and empty both read back as nil on either backend.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// boolInt is how a boolean is stored: INTEGER 0 or 1 on both backends.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// foldASCII returns SQL that lower-cases the ASCII letters of the text
// expression expr and nothing else, the same on both databases. SQLite's
// lower() folds only ASCII; PostgreSQL's would also fold other letters,
// depending on the database's locale, so there it is spelled out. With
// both sides folded, LIKE matches alike whether it is case-sensitive
// (PostgreSQL) or not for ASCII (SQLite).
func (d dialect) foldASCII(expr string) string {
	if d == dialectPostgres {
		return "translate(" + expr + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
	}
	return "lower(" + expr + ")"
}
