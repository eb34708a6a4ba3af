package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"
)

// maxStatements bounds a DB's statement cache. mfagate's fixed queries
// come to well under a hundred (each with one or two shapes: FOR UPDATE
// or not, a LIMIT or not); the bound is for what is built at run time,
// such as a search's combination of filters, which once it is reached
// runs as before, unprepared.
const maxStatements = 256

// stmtCache keeps, for each query string a DB's helpers (tx.query,
// tx.queryRow, tx.exec) run, its text rebound for the dialect and, where
// the DB prepares statements, the statement prepared once for the whole
// DB and reused by every call. database/sql prepares it again on each
// pooled connection the first time it is used there, and inside a
// transaction tx.StmtContext uses the connection's copy.
//
// It pays on SQLite, whose driver otherwise compiles the SQL again at
// every call (a third of a forward-auth check's database time went on
// parsing). On PostgreSQL pgx already keeps each connection's prepared
// statements, and a second cache in front only adds database/sql's
// bookkeeping, so there only the rebound text is kept (see
// preparesStatements).
//
// Statements are closed by Close, before the database: none outlives the
// DB, so none can point at a file that a restore replaced (a restore
// cannot even start while a DB has the file open: lock.go).
type stmtCache struct {
	db      *sql.DB
	dialect dialect
	prepare bool
	// timeout bounds a statement prepared in the background.
	timeout time.Duration

	mu      sync.RWMutex
	entries map[string]*stmtEntry
	closed  bool
	// pending are the background prepares still running; Close waits
	// for them, so that none holds a connection past it.
	pending sync.WaitGroup
}

// stmtEntry is one cached query.
type stmtEntry struct {
	text string    // the query rebound for the dialect
	stmt *sql.Stmt // nil until prepared, and when the DB does not prepare
	// preparing is set while a background prepare runs, so one is
	// started at a time.
	preparing bool
}

func newStmtCache(db *sql.DB, d dialect, timeout time.Duration) *stmtCache {
	return &stmtCache{db: db, dialect: d, prepare: preparesStatements(d), timeout: timeout, entries: map[string]*stmtEntry{}}
}

// preparesStatements says whether statements are prepared on d, which
// BenchmarkStatementCache measured: on SQLite a cached statement cuts a
// point read by about half; on PostgreSQL it gains nothing over pgx's own
// cache of each connection's statements.
func preparesStatements(d dialect) bool { return d == dialectSQLite }

// cacheable reports whether query is worth a place in the cache: reads
// and writes, not schema changes (migrations run each once, and change
// what a statement compiled against), and not queries with an IN list
// built for the call ("IN (?, ?, ...)", one string for each length),
// which would fill the cache with strings each used a few times.
func cacheable(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
	default:
		if !strings.HasPrefix(strings.ToUpper(q[:5]), "WITH ") {
			return false
		}
	}
	return !strings.Contains(query, "IN (?, ")
}

// lookup returns query's entry, making it when there is room. nil means
// the query is not cached: run it as it is, rebound.
func (c *stmtCache) lookup(query string) *stmtEntry {
	c.mu.RLock()
	e, ok := c.entries[query]
	full := len(c.entries) >= maxStatements || c.closed
	c.mu.RUnlock()
	if ok {
		return e
	}
	if full || !cacheable(query) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[query]; ok {
		return e
	}
	if len(c.entries) >= maxStatements || c.closed {
		return nil
	}
	e = &stmtEntry{text: c.dialect.rebind(query)}
	c.entries[query] = e
	return e
}

// statement returns e's prepared statement, preparing it when it has
// none yet. Outside a transaction (inTx false) it is prepared there and
// then, on a connection of its own. A transaction already holds a
// connection, and preparing on the DB takes another: with every
// connection in a transaction that would wait for ever, so there the
// call runs unprepared and the statement is prepared in the background
// for the calls after it. nil means: run e.text unprepared.
func (c *stmtCache) statement(ctx context.Context, e *stmtEntry, inTx bool) *sql.Stmt {
	if !c.prepare {
		return nil
	}
	c.mu.RLock()
	s, busy := e.stmt, e.preparing || c.closed
	c.mu.RUnlock()
	if s != nil || busy {
		return s
	}
	// One call prepares; the others run unprepared meanwhile rather than
	// all prepare it at once.
	c.mu.Lock()
	if e.stmt != nil || e.preparing || c.closed {
		s = e.stmt
		c.mu.Unlock()
		return s
	}
	e.preparing = true
	if inTx {
		c.pending.Add(1) // under c.mu, so that close, once it saw closed, waits for it
	}
	c.mu.Unlock()
	if inTx {
		go func() {
			defer c.pending.Done()
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			c.prepareEntry(ctx, e)
		}()
		return nil
	}
	return c.prepareEntry(ctx, e)
}

// prepareEntry prepares e's statement and keeps it, unless another call
// did so first or the cache was closed meanwhile. A statement that does
// not prepare (the database is away, the deadline passed) is left for
// the next call, and this one runs unprepared: its error, if any, is then
// the query's own.
func (c *stmtCache) prepareEntry(ctx context.Context, e *stmtEntry) *sql.Stmt {
	s, err := c.db.PrepareContext(ctx, e.text)
	c.mu.Lock()
	e.preparing = false
	if err != nil {
		c.mu.Unlock()
		return nil
	}
	if c.closed || e.stmt != nil {
		kept := e.stmt
		c.mu.Unlock()
		// Never under c.mu: closing waits for every connection the
		// statement was prepared on, and one of them may be running a
		// transaction that needs the cache (it then held the SQLite write
		// lock for the whole busy timeout).
		s.Close()
		return kept
	}
	e.stmt = s
	c.mu.Unlock()
	return s
}

// close closes every statement; from then on every query runs
// unprepared (and fails, its database being closed).
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.pending.Wait()
	c.mu.Lock()
	var stmts []*sql.Stmt
	for _, e := range c.entries {
		if e.stmt != nil {
			stmts = append(stmts, e.stmt)
			e.stmt = nil
		}
	}
	c.mu.Unlock()
	for _, s := range stmts { // outside c.mu, as in prepareEntry
		s.Close()
	}
}

// len is how many statements are prepared and how many queries cached,
// for tests.
func (c *stmtCache) len() (prepared, cached int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, e := range c.entries {
		if e.stmt != nil {
			prepared++
		}
	}
	return prepared, len(c.entries)
}
