package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"github.com/mfagate/mfagate"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Names accepted by Open.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// sqlitePragmas are added to every SQLite DSN, after busy_timeout (see
// sqliteDSN). WAL lets readers go on while one connection writes;
// _txlock=immediate takes the write lock at BEGIN, so two transactions
// never both read and then deadlock upgrading to write.
const sqlitePragmas = "_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// DB is a SQL database holding mfagate's state. It implements
// mfagate.Store and is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect dialect
	// requestTimeout is the deadline of an Update, View or Ping whose
	// context has none.
	requestTimeout time.Duration
	// mailQueued is signalled after a transaction that queued security
	// mail commits; see MailQueued.
	mailQueued chan struct{}
	// lock is the shared lock on a SQLite file's lock file (lock.go), held
	// until Close; nil for PostgreSQL and in-memory SQLite.
	lock *fileLock
	// path is the SQLite database file; "" for PostgreSQL and in-memory
	// SQLite.
	path     string
	observer Observer // may be nil
	// stmts holds the queries run so far, rebound and, on SQLite,
	// prepared (stmtcache.go).
	stmts *stmtCache
}

var _ mfagate.Store = (*DB)(nil)

// MailQueued is signalled, without blocking, each time a transaction that
// queued a security message (mfagate.MailSecurity) commits, so that this
// process's security sender hands it to the mail server at once rather
// than at its next poll. Several commits may be signalled once. Messages
// queued by other replicas are not signalled here: their own senders send
// them.
func (db *DB) MailQueued() <-chan struct{} { return db.mailQueued }

// Open connects to a database with the driver's DefaultOptions; see
// OpenWith.
func Open(ctx context.Context, driver, dsn string) (*DB, error) {
	return OpenWith(ctx, driver, dsn, Options{})
}

// OpenWith connects to a database, bounds its connection pool by o, and
// checks that it answers. driver is "sqlite" (dsn is a file path or a
// "file:" URI; a missing parent folder is created) or "postgres" (dsn is
// a pgx connection string or URL). OpenWith does not migrate: call
// Migrate.
func OpenWith(ctx context.Context, driver, dsn string, o Options) (*DB, error) {
	o = o.orDefaults(driver)
	var (
		d    dialect
		sdb  *sql.DB
		lock *fileLock
		path string
	)
	switch driver {
	case DriverSQLite:
		d = dialectSQLite
		var err error
		if lock, path, err = lockSQLite(dsn); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		if err = createPrivate(path); err != nil {
			lock.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		if dsn, err = sqliteDSN(dsn, o.RequestTimeout); err != nil {
			lock.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		if sdb, err = sql.Open("sqlite", dsn); err != nil {
			lock.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
	case DriverPostgres:
		d = dialectPostgres
		if dsn == "" {
			return nil, fmt.Errorf("open database: empty %s DSN", driver)
		}
		cfg, err := pgConfig(dsn, o.ConnectTimeout)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		sdb = stdlib.OpenDB(*cfg)
	default:
		return nil, fmt.Errorf("open database: unknown driver %q (want %q or %q)", driver, DriverSQLite, DriverPostgres)
	}
	sdb.SetMaxOpenConns(o.MaxOpenConns)
	sdb.SetMaxIdleConns(o.MaxIdleConns)
	sdb.SetConnMaxLifetime(o.ConnMaxLifetime)
	sdb.SetConnMaxIdleTime(o.ConnMaxIdleTime)
	db := &DB{db: sdb, dialect: d, requestTimeout: o.RequestTimeout, mailQueued: make(chan struct{}, 1),
		lock: lock, path: path, observer: o.Observer, stmts: newStmtCache(sdb, d, o.RequestTimeout)}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// lockSQLite takes the shared lock of the SQLite database dsn names, after
// creating its folder: none for an in-memory database, which nothing else
// can open. It refuses at once, rather than wait, while a restore is
// replacing the file: the operator sees why, and a supervisor such as
// systemd starts the server again later.
func lockSQLite(dsn string) (*fileLock, string, error) {
	path, inMemory, err := sqlitePath(dsn)
	if err != nil || inMemory {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", fmt.Errorf("create database folder: %w", err)
	}
	lock, err := lockFile(path, false)
	if errors.Is(err, errLocked) {
		return nil, "", fmt.Errorf("%s is being replaced by \"mfagate restore\"; start again once it has finished", path)
	}
	return lock, path, err
}

// pgConfig parses a PostgreSQL DSN and gives it the connect timeout,
// unless the DSN (or PGCONNECT_TIMEOUT) sets one: the operator's word
// wins. pgx reads connect_timeout=0 as "none", so zero there counts as
// unset: mfagate never waits for ever for a connection.
func pgConfig(dsn string, connectTimeout time.Duration) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	return cfg, nil
}

// sqliteDSN makes sure the folder of the database file exists and adds the
// pragmas every connection needs. busy_timeout, how long a writer waits
// for another's lock, is the request timeout: waiting longer would only
// outlast the request it serves.
func sqliteDSN(dsn string, busy time.Duration) (string, error) {
	path, inMemory, err := sqlitePath(dsn)
	if err != nil {
		return "", err
	}
	if !inMemory {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fmt.Errorf("create database folder: %w", err)
		}
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%s_pragma=busy_timeout(%d)&%s", dsn, sep, busy.Milliseconds(), sqlitePragmas), nil
}

// sqlitePath returns the file a SQLite DSN names (a path or a "file:"
// URI), or inMemory for a database that lives in memory only. A URI's
// path is read as SQLite reads it: %XX decoded, and an authority of
// localhost or none (file:///abs/path) left out; SQLite refuses any
// other host, and so does this. The lock, backup and restore must mean
// the very file SQLite opens.
func sqlitePath(dsn string) (path string, inMemory bool, err error) {
	path, query, _ := strings.Cut(dsn, "?")
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		rest, _, _ = strings.Cut(rest, "#")
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			host, p, _ := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return "", false, fmt.Errorf("the sqlite DSN %q names the host %q: the database file must be on this machine", dsn, host)
			}
			rest = "/" + p
		}
		if path, err = url.PathUnescape(rest); err != nil {
			return "", false, fmt.Errorf("the sqlite DSN %q is not a valid file: URI: %w", dsn, err)
		}
	}
	if path == "" {
		return "", false, errors.New("empty sqlite DSN")
	}
	if path == ":memory:" || strings.Contains(query, "mode=memory") {
		return "", true, nil
	}
	return path, false, nil
}

// SQLitePath returns the database file a SQLite DSN names, and an error
// for an empty DSN or an in-memory database, which has no file.
func SQLitePath(dsn string) (string, error) {
	path, inMemory, err := sqlitePath(dsn)
	if err == nil && inMemory {
		err = errors.New("the database is in memory: it has no file")
	}
	return path, err
}

// withDeadline gives ctx the request timeout when the caller set no
// deadline. A caller's own deadline, shorter or longer, is kept: work
// that legitimately runs long (a migration, a walk over every account)
// says so by setting one where it starts.
func (db *DB) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.requestTimeout)
}

// Update runs fn in one read-write transaction; see mfagate.Store. When
// the deadline passes or the database cannot be reached, the error is
// EUNAVAILABLE (see unavailable) and the transaction is rolled back.
func (db *DB) Update(ctx context.Context, fn func(mfagate.Tx) error) (err error) {
	defer db.observe(RequestUpdate, time.Now())
	ctx, cancel := db.withDeadline(ctx)
	defer cancel()
	defer func() { err = unavailable(ctx, err) }()
	sqlTx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// Rolling back in a defer also covers a panic in fn, which must not
	// leave the connection inside a transaction.
	committed := false
	defer func() {
		if !committed {
			sqlTx.Rollback()
		}
	}()
	t := &tx{ctx: ctx, q: sqlTx, sqlTx: sqlTx, stmts: db.stmts, dialect: db.dialect, writable: true}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flushGroups(); err != nil {
		return err
	}
	committed = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	if t.securityMail {
		select {
		case db.mailQueued <- struct{}{}:
		default: // a signal is waiting already
		}
	}
	return nil
}

// View runs fn on the database without a transaction, so reads never wait
// for a writer. Each statement sees the database as it is when it runs.
// Writes are refused. Deadlines and errors are as for Update.
func (db *DB) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	defer db.observe(RequestView, time.Now())
	ctx, cancel := db.withDeadline(ctx)
	defer cancel()
	return unavailable(ctx, fn(&tx{ctx: ctx, q: db.db, stmts: db.stmts, dialect: db.dialect}))
}

// Ping checks that the database answers, within the request timeout unless
// ctx has a deadline: EUNAVAILABLE when it does not.
func (db *DB) Ping(ctx context.Context) error {
	defer db.observe(RequestPing, time.Now())
	ctx, cancel := db.withDeadline(ctx)
	defer cancel()
	if err := db.db.PingContext(ctx); err != nil {
		return unavailable(ctx, fmt.Errorf("ping database: %w", err))
	}
	return nil
}

// observe tells the observer how long a request that began at start took.
func (db *DB) observe(kind RequestKind, start time.Time) {
	if db.observer != nil {
		db.observer.ObserveRequest(kind, time.Since(start))
	}
}

// Close releases the prepared statements, the database and then its
// lock, once every connection is closed: a restore waiting for the lock
// never replaces a file still open here.
func (db *DB) Close() error {
	db.stmts.close()
	err := db.db.Close()
	db.lock.Close()
	return err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx implements mfagate.Tx on a transaction (Update) or on the database
// itself (View).
type tx struct {
	ctx context.Context
	q   querier
	// sqlTx is q in a transaction (Update), nil in View; statements
	// prepared on the DB run in it through StmtContext.
	sqlTx *sql.Tx
	// stmts is the DB's statement cache; nil (in tests and tools that
	// make a tx by hand) runs every query as it is.
	stmts    *stmtCache
	dialect  dialect
	writable bool
	// securityMail is set when the transaction queued security mail.
	securityMail bool
	// groups are the changes to the rollout groups' counts the
	// transaction noted, written just before it commits (groups.go).
	groups     map[groupKey]int
	groupShard int // the shard they go to
}

var _ mfagate.Tx = (*tx)(nil)

// errReadOnly is returned when fn writes inside View.
var errReadOnly = errors.New("write attempted inside View")

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if !t.writable {
		return nil, errReadOnly
	}
	text, s := t.prepared(query)
	if s != nil {
		return s.ExecContext(t.ctx, args...)
	}
	return t.q.ExecContext(t.ctx, text, args...)
}

// prepared returns query rebound for the dialect and, when the DB has it
// prepared, its statement for this tx (nil otherwise: run the text).
func (t *tx) prepared(query string) (string, *sql.Stmt) {
	if t.stmts == nil {
		return t.dialect.rebind(query), nil
	}
	e := t.stmts.lookup(query)
	if e == nil {
		return t.dialect.rebind(query), nil
	}
	s := t.stmts.statement(t.ctx, e, t.sqlTx != nil)
	if s != nil && t.sqlTx != nil {
		// The transaction's connection's copy, prepared there the first
		// time; closed with the transaction, the DB's statement kept.
		s = t.sqlTx.StmtContext(t.ctx, s)
	}
	return e.text, s
}

// execCount runs a write and returns the number of rows it changed.
func (t *tx) execCount(query string, args ...any) (int, error) {
	res, err := t.exec(query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	text, s := t.prepared(query)
	if s != nil {
		return s.QueryContext(t.ctx, args...)
	}
	return t.q.QueryContext(t.ctx, text, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	text, s := t.prepared(query)
	if s != nil {
		return s.QueryRowContext(t.ctx, args...)
	}
	return t.q.QueryRowContext(t.ctx, text, args...)
}

// writeQuery runs a write that returns rows (INSERT/UPDATE ... RETURNING).
func (t *tx) writeQuery(query string, args ...any) (*sql.Rows, error) {
	if !t.writable {
		return nil, errReadOnly
	}
	return t.query(query, args...)
}

// insertID runs an INSERT ... RETURNING id. ok is false when the insert
// returned no row (ON CONFLICT DO NOTHING skipped it).
func (t *tx) insertID(query string, args ...any) (id int64, ok bool, err error) {
	rows, err := t.writeQuery(query, args...)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return 0, false, err
		}
		ok = true
	}
	if err := rows.Close(); err != nil {
		return 0, false, err
	}
	return id, ok, rows.Err()
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// limitClause returns " LIMIT n" for a positive n, or nothing.
func limitClause(n int, args []any) (string, []any) {
	if n <= 0 {
		return "", args
	}
	return " LIMIT ?", append(args, n)
}

// whereClause joins conditions with AND.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
