package sqlstore

import (
	"database/sql"
	"fmt"
	"slices"

	"github.com/mfagate/mfagate"
)

var _ mfagate.People = (*tx)(nil)

// People calls fn for every account, in ID order, with its roles and
// factor methods; see mfagate.People. fn gets a new *Person each call, which it
// may keep. It works in View and in Update alike.
//
// Nothing is loaded up front, so memory stays flat however many accounts
// there are; how the rows stream depends on the database (measured with
// BenchmarkPeople on a million accounts):
//
//   - SQLite: three cursors, each ordered by user ID (users; user_roles;
//     factors), read side by side and merged here, each table once along
//     its primary key or unique index. SQLite runs several statements on
//     one connection, so this works inside a transaction too. A join of
//     the three was about 1.4 times slower, and one query with a
//     correlated string_agg per person 1.7 times: with this driver each
//     row and column read costs a few calls into SQLite.
//   - PostgreSQL: one LEFT JOIN of the three, merged by the server. A
//     connection cannot stream three results at once ("bad connection"
//     inside a transaction), and in View, on three connections, the
//     cursors were still slower than the join.
//
// In View on SQLite each cursor has its own pooled connection and sees the
// data as of its own start: an account created meanwhile may come without
// its roles or factors, or not at all, but every account that existed
// throughout comes once, in order.
func (t *tx) People(fn func(*mfagate.Person) error) error {
	if t.dialect == dialectPostgres {
		return t.peopleJoined(fn)
	}
	return t.peopleMerged(fn)
}

// personColumns are read for every person from users. The flags and the
// skip count share one integer,
// (skips << 4) | invited << 3 | unreached << 2 | signed in << 1 | disabled:
// with SQLite each column of each row costs a few calls into the driver,
// and this saves four of eight columns on a million rows.
const personColumns = `users.id, users.username, users.extended_until,
	users.skips * 16 + CASE WHEN users.invited_at IS NULL THEN 0 ELSE 8 END
	+ CASE WHEN users.unreached_at IS NULL THEN 0 ELSE 4 END
	+ CASE WHEN users.last_sign_in_at IS NULL THEN 0 ELSE 2 END + users.disabled`

// errPeople wraps a database error of People; fn's own errors are returned
// as they are.
func errPeople(err error) error { return fmt.Errorf("list people: %w", err) }

func (t *tx) peopleMerged(fn func(*mfagate.Person) error) error {
	users, err := t.query(`SELECT ` + personColumns + ` FROM users ORDER BY users.id`)
	if err != nil {
		return errPeople(err)
	}
	defer users.Close()
	roles, err := t.openPairs(`SELECT user_id, role FROM user_roles ORDER BY user_id, role`)
	if err != nil {
		return errPeople(fmt.Errorf("roles: %w", err))
	}
	defer roles.close()
	methods, err := t.openPairs(`SELECT user_id, method FROM factors ORDER BY user_id, method`)
	if err != nil {
		return errPeople(fmt.Errorf("factors: %w", err))
	}
	defer methods.close()

	scan := newPersonScan()
	for users.Next() {
		p, err := scan.person(users)
		if err != nil {
			return errPeople(err)
		}
		if p.Roles, err = roles.take(p.ID, nil); err != nil {
			return errPeople(fmt.Errorf("roles: %w", err))
		}
		if p.Methods, err = methods.take(p.ID, nil); err != nil {
			return errPeople(fmt.Errorf("factors: %w", err))
		}
		// Sorted here as well as by ORDER BY: PostgreSQL collations do not
		// sort by byte. Already sorted, this is one pass over a few items.
		slices.Sort(p.Roles)
		slices.Sort(p.Methods)
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := closeRows(users); err != nil {
		return errPeople(err)
	}
	return nil
}

// peopleJoined reads people through one cursor: each user once per pair
// of its roles and methods (one row when it has neither), in ID order.
func (t *tx) peopleJoined(fn func(*mfagate.Person) error) error {
	rows, err := t.query(`SELECT ` + personColumns + `, r.role, f.method
		FROM users
		LEFT JOIN user_roles r ON r.user_id = users.id
		LEFT JOIN factors f ON f.user_id = users.id
		ORDER BY users.id`)
	if err != nil {
		return errPeople(err)
	}
	defer rows.Close()
	var (
		p            *mfagate.Person
		role, method sql.NullString
		scan         = newPersonScan(&role, &method)
	)
	flush := func() error {
		if p == nil {
			return nil
		}
		// A user with two roles and two methods came in four rows.
		slices.Sort(p.Roles)
		slices.Sort(p.Methods)
		p.Roles, p.Methods = slices.Compact(p.Roles), slices.Compact(p.Methods)
		return fn(p)
	}
	for rows.Next() {
		q, err := scan.person(rows)
		if err != nil {
			return errPeople(err)
		}
		if p == nil || q.ID != p.ID {
			if err := flush(); err != nil {
				return err
			}
			p = q
		}
		if role.Valid {
			p.Roles = append(p.Roles, role.String)
		}
		if method.Valid {
			p.Methods = append(p.Methods, method.String)
		}
	}
	if err := closeRows(rows); err != nil {
		return errPeople(err)
	}
	return flush()
}

// personScan reads rows of personColumns, and of extra columns after
// them, into reused buffers.
type personScan struct {
	id       int64
	username string
	extended sql.NullInt64
	packed   int64
	dest     []any
}

func newPersonScan(extra ...any) *personScan {
	s := &personScan{}
	s.dest = append([]any{&s.id, &s.username, &s.extended, &s.packed}, extra...)
	return s
}

func (s *personScan) person(rows *sql.Rows) (*mfagate.Person, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return nil, err
	}
	return &mfagate.Person{
		ID:            s.id,
		Username:      s.username,
		ExtendedUntil: fromMillis(s.extended),
		Skips:         int(s.packed >> 4),
		Invited:       s.packed&8 != 0,
		Unreached:     s.packed&4 != 0,
		SignedIn:      s.packed&2 != 0,
		Disabled:      s.packed&1 != 0,
	}, nil
}

// pairs is an open cursor of (user_id, text) rows ordered by user_id, read
// alongside the users.
type pairs struct {
	rows *sql.Rows
	id   int64 // the user of the current row
	val  string
	done bool
	// seen keeps one copy of each distinct value: roles and methods repeat
	// across a million people, and sharing them saves an allocation a row.
	seen map[string]string
	raw  sql.RawBytes
}

func (t *tx) openPairs(query string) (*pairs, error) {
	rows, err := t.query(query)
	if err != nil {
		return nil, err
	}
	c := &pairs{rows: rows, seen: make(map[string]string)}
	if err := c.next(); err != nil {
		rows.Close()
		return nil, err
	}
	return c, nil
}

// next moves to the following row, or sets done after the last.
func (c *pairs) next() error {
	if !c.rows.Next() {
		c.done = true
		return closeRows(c.rows)
	}
	if err := c.rows.Scan(&c.id, &c.raw); err != nil {
		return err
	}
	v, ok := c.seen[string(c.raw)]
	if !ok {
		v = string(c.raw)
		if len(c.seen) < 1024 { // a bound, in case values do not repeat
			c.seen[v] = v
		}
	}
	c.val = v
	return nil
}

// take appends to dst the values of user id and moves past them. Rows of
// smaller IDs belong to users the users cursor did not see (created after
// it started) and are skipped.
func (c *pairs) take(id int64, dst []string) ([]string, error) {
	for !c.done && c.id <= id {
		if c.id == id {
			dst = append(dst, c.val)
		}
		if err := c.next(); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func (c *pairs) close() { c.rows.Close() }
