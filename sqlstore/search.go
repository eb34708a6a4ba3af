package sqlstore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mfagate/mfagate"
)

// lockedUser is true for a user whose password or second-factor lock
// (mfagate.PasswordThrottleKey and FactorThrottleKey) holds at the time
// bound to its one placeholder.
const lockedUser = `EXISTS (SELECT 1 FROM throttles th
	WHERE th.key IN ('user:' || users.username_key, 'mfa:' || users.username_key)
	AND (th.hard_locked = 1 OR th.locked_until > ?))`

// SearchPeople lists accounts matching f, in ID order; see mfagate.People.
//
// One query reads the page with each account's lock; then one query each
// reads the roles and factor methods of the page's accounts, by ID.
func (t *tx) SearchPeople(f mfagate.PeopleFilter) ([]*mfagate.PersonSummary, error) {
	now := f.Now.UnixMilli()
	var (
		conds []string
		args  = []any{now} // lockedUser in the select list
	)
	if f.Query != "" {
		pattern := "%" + escapeLike(foldASCII(f.Query)) + "%"
		var ors []string
		for _, col := range []string{"users.username", "users.name", "users.email"} {
			ors = append(ors, t.dialect.foldASCII(col)+` LIKE ? ESCAPE '\'`)
			args = append(args, pattern)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Role != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = ?)`)
		args = append(args, f.Role)
	}
	switch f.MFA {
	case mfagate.MFAAny:
	case mfagate.MFANone:
		conds = append(conds, `NOT EXISTS (SELECT 1 FROM factors fa WHERE fa.user_id = users.id)`)
	case mfagate.MFASetUp:
		conds = append(conds, `EXISTS (SELECT 1 FROM factors fa WHERE fa.user_id = users.id)`)
	case mfagate.MFAEmail, mfagate.MFATOTP:
		conds = append(conds, `EXISTS (SELECT 1 FROM factors fa WHERE fa.user_id = users.id AND fa.method = ?)`)
		args = append(args, f.MFA)
	default:
		return nil, mfagate.Errorf(mfagate.EINVALID, "unknown MFA state %q", f.MFA)
	}
	if f.Locked {
		conds = append(conds, lockedUser)
		args = append(args, now)
	}
	if f.Unreached {
		conds = append(conds, `users.unreached_at IS NOT NULL`)
	}
	if f.AfterID > 0 {
		conds = append(conds, `users.id > ?`)
		args = append(args, f.AfterID)
	}
	limit, args := limitClause(f.Limit, args)
	people, err := t.searchPage(`SELECT `+userColumns+`, `+lockedUser+` FROM users`+
		whereClause(conds)+` ORDER BY users.id`+limit, args)
	if err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	return people, nil
}

func (t *tx) searchPage(query string, args []any) ([]*mfagate.PersonSummary, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	var (
		people []*mfagate.PersonSummary
		ids    []int64
		locked bool
	)
	byID := make(map[int64]*mfagate.PersonSummary)
	for rows.Next() {
		u, err := scanUser(withExtra{rows, []any{&locked}})
		if err != nil {
			rows.Close()
			return nil, err
		}
		p := &mfagate.PersonSummary{User: u, Locked: locked}
		people, ids = append(people, p), append(ids, u.ID)
		byID[u.ID] = p
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	// By ID rather than by running the page's query again: a search by
	// text reads every account, and in View the page could have changed.
	if err := t.pairsOf(`SELECT user_id, role FROM user_roles WHERE user_id IN `, ids, func(id int64, role string) {
		if p := byID[id]; p != nil {
			p.User.Roles = append(p.User.Roles, role)
		}
	}); err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	if err := t.pairsOf(`SELECT user_id, method FROM factors WHERE user_id IN `, ids, func(id int64, method string) {
		if p := byID[id]; p != nil {
			p.Methods = append(p.Methods, method)
		}
	}); err != nil {
		return nil, fmt.Errorf("factors: %w", err)
	}
	for _, p := range people {
		// Sorted here, not by ORDER BY: PostgreSQL collations do not sort by byte.
		slices.Sort(p.User.Roles)
		slices.Sort(p.Methods)
	}
	return people, nil
}

// idsPerQuery bounds the placeholders of one IN list, well below what
// either database accepts; a page of up to this many accounts costs one
// query.
const idsPerQuery = 1000

// pairsOf runs prefix followed by "(?, ...)" for ids, in as few queries as
// the bound allows, and calls fn for each (user ID, text) row.
func (t *tx) pairsOf(prefix string, ids []int64, fn func(int64, string)) error {
	for chunk := range slices.Chunk(ids, idsPerQuery) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := t.query(prefix+"("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				id int64
				s  string
			)
			if err := rows.Scan(&id, &s); err != nil {
				rows.Close()
				return err
			}
			fn(id, s)
		}
		if err := closeRows(rows); err != nil {
			return err
		}
	}
	return nil
}

// withExtra scans a row's leading columns into what the wrapped caller
// asks for and the rest into extra.
type withExtra struct {
	rows  scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.rows.Scan(append(dest, w.extra...)...) }

// escapeLike escapes the wildcards of LIKE, and the escape character
// itself, so that s matches only itself (with ESCAPE '\').
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// foldASCII lower-cases the ASCII letters of s and nothing else, as
// dialect.foldASCII does in SQL.
func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
