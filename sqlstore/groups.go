package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

// The rollout groups (migration 0007): every account is in one group, and
// rollout_groups keeps how many are in each. Each change that can move an
// account to another group calls regroup in its transaction, after the
// change; regroup compares the account with its own copy of its group
// (users.group_roles, users.group_state) and, when it moved, notes -1 for
// the old group and +1 for the new one on the transaction. Update writes
// the noted counts just before it commits (flushGroups), so that the
// counts and the accounts change together or not at all.

// Bits of users.group_state.
const (
	stateEmail     = 1  // has an email factor
	stateTOTP      = 2  // has a TOTP factor
	stateSkipped   = 4  // skipped setting up MFA at least once
	stateNever     = 8  // never signed in
	stateDisabled  = 16 // the account is disabled
	stateUnreached = 32 // a mail server refused their address for good
	stateInvited   = 64 // invited, and not yet accepted
)

// userFlags is the part of group_state read from the users row alone.
const userFlags = `CASE WHEN users.skips > 0 THEN 4 ELSE 0 END
	+ CASE WHEN users.last_sign_in_at IS NULL THEN 8 ELSE 0 END
	+ users.disabled * 16
	+ CASE WHEN users.unreached_at IS NULL THEN 0 ELSE 32 END
	+ CASE WHEN users.invited_at IS NULL THEN 0 ELSE 64 END`

// groupState computes one account's group_state from users and factors.
const groupState = `(CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'email') THEN 1 ELSE 0 END
	+ CASE WHEN EXISTS (SELECT 1 FROM factors f WHERE f.user_id = users.id AND f.method = 'totp') THEN 2 ELSE 0 END
	+ ` + userFlags + `)`

// groupRoles computes an account's group_roles: its roles sorted by byte
// and joined with commas, as rolesKey does in Go (role names cannot hold
// a comma: account.NormalizeRoles), "" for none. PostgreSQL collations do
// not sort by byte, hence COLLATE "C".
func (d dialect) groupRoles() string {
	return `COALESCE((SELECT ` + d.rolesAgg() + ` FROM user_roles WHERE user_roles.user_id = users.id), '')`
}

// rolesAgg joins user_roles.role values as group_roles holds them.
func (d dialect) rolesAgg() string {
	if d == dialectPostgres {
		return `string_agg(role, ',' ORDER BY role COLLATE "C")`
	}
	return `group_concat(role, ',' ORDER BY role)`
}

// accountGroups is a subquery giving every account's group as it is now
// (id, roles, state) and as it kept it (kept_roles, kept_state): joins of
// one pass over each table, which the database does in a few seconds at
// a million accounts, where groupRoles and groupState per account, a
// lookup each, took minutes.
func (d dialect) accountGroups() string {
	return `SELECT users.id AS id, users.group_roles AS kept_roles, users.group_state AS kept_state,
		COALESCE(r.roles, '') AS roles,
		COALESCE(f.bits, 0) + ` + userFlags + ` AS state
		FROM users
		LEFT JOIN (SELECT user_id, ` + d.rolesAgg() + ` AS roles FROM user_roles GROUP BY user_id) r ON r.user_id = users.id
		LEFT JOIN (SELECT user_id, SUM(CASE method WHEN 'email' THEN 1 WHEN 'totp' THEN 2 ELSE 0 END) AS bits
			FROM factors GROUP BY user_id) f ON f.user_id = users.id`
}

// rolesKey is group_roles for roles already sorted.
func rolesKey(roles []string) string { return strings.Join(roles, ",") }

// groupShards is how many rows a group's count is spread over.
const groupShards = 16

// groupKey names one group.
type groupKey struct {
	roles string
	state int
}

// noteMove notes that account userID moves from group from to group to;
// a state below zero is no group (an account not counted yet). The
// transaction writes its counts in the shard of the first account it
// moves: changes to different people mostly land on different rows, and
// changes to one person wait for each other on their row anyway.
func (t *tx) noteMove(userID int64, from, to groupKey) {
	if from == to {
		return
	}
	if t.groups == nil {
		t.groups = make(map[groupKey]int)
		t.groupShard = int(uint64(userID) % groupShards)
	}
	if from.state >= 0 {
		t.groups[from]--
	}
	t.groups[to]++
}

// regroup moves the account to the group it now belongs in, if that
// changed. On PostgreSQL the account's row is locked first, in its own
// statement, so that what is read next is what the last transaction to
// change the account committed: a concurrent change waits and then sees
// this one's group. On SQLite write transactions run one at a time.
// A missing account is not an error: there is nothing to count.
func (t *tx) regroup(userID int64) error {
	if err := t.lockUser(userID); err != nil {
		return err
	}
	var was, now groupKey
	err := t.queryRow(`SELECT group_roles, group_state, `+t.dialect.groupRoles()+`, `+groupState+`
		FROM users WHERE id = ?`, userID).Scan(&was.roles, &was.state, &now.roles, &now.state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	if was == now {
		return nil
	}
	if _, err := t.exec(`UPDATE users SET group_roles = ?, group_state = ? WHERE id = ?`, now.roles, now.state, userID); err != nil {
		return fmt.Errorf("group: %w", err)
	}
	t.noteMove(userID, was, now)
	return nil
}

// lockUser locks the user's row until the transaction ends, on PostgreSQL;
// see regroup. A missing user is not an error here.
func (t *tx) lockUser(userID int64) error {
	if !t.writable {
		return errReadOnly
	}
	if t.dialect != dialectPostgres {
		return nil
	}
	var id int64
	err := t.queryRow(`SELECT id FROM users WHERE id = ? FOR UPDATE`, userID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}

// flushGroups writes the counts the transaction noted, in its shard
// (noteMove), in the order of their keys, as the transaction's last
// statements. Locks on count rows are so taken last, and in one order by
// every transaction: one that holds some waits for no other lock but
// another count row further in that order, so they cannot deadlock, and
// they are held only for the commit.
func (t *tx) flushGroups() error {
	if len(t.groups) == 0 {
		return nil
	}
	keys := make([]groupKey, 0, len(t.groups))
	for k, n := range t.groups {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(strings.Compare(a.roles, b.roles), cmp.Compare(a.state, b.state))
	})
	shard := t.groupShard
	for _, k := range keys {
		if _, err := t.exec(`INSERT INTO rollout_groups (roles, state, shard, people) VALUES (?, ?, ?, ?)
			ON CONFLICT (roles, state, shard) DO UPDATE SET people = rollout_groups.people + excluded.people`,
			k.roles, k.state, shard, t.groups[k]); err != nil {
			return fmt.Errorf("count groups: %w", err)
		}
	}
	t.groups = nil
	return nil
}

// groupRow is one group's kept count.
type groupRow struct {
	groupKey
	people int
}

// groupRows reads the kept count of every group with anyone in it.
func (t *tx) groupRows() ([]groupRow, error) {
	rows, err := t.query(`SELECT roles, state, SUM(people) FROM rollout_groups
		GROUP BY roles, state HAVING SUM(people) <> 0`)
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	var out []groupRow
	for rows.Next() {
		var g groupRow
		if err := rows.Scan(&g.roles, &g.state, &g.people); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read groups: %w", err)
		}
		out = append(out, g)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	return out, nil
}

// splitRoles is the roles of a group_roles value.
func splitRoles(key string) []string {
	if key == "" {
		return nil
	}
	return strings.Split(key, ",")
}

// methodsOf is the factor methods of a group_state value, sorted.
func methodsOf(state int) []string {
	var m []string
	if state&stateEmail != 0 {
		m = append(m, mfagate.MethodEmail)
	}
	if state&stateTOTP != 0 {
		m = append(m, mfagate.MethodTOTP)
	}
	return m
}

func (k groupKey) group(people int) *mfagate.Group {
	return &mfagate.Group{
		Roles: splitRoles(k.roles), Methods: methodsOf(k.state),
		Skipped: k.state&stateSkipped != 0, NeverSignedIn: k.state&stateNever != 0,
		Unreached: k.state&stateUnreached != 0, Disabled: k.state&stateDisabled != 0,
		Invited: k.state&stateInvited != 0,
		People:  people,
	}
}

// Groups returns the kept count of every group and the people extended
// past extendedAfter; see mfagate.People. One statement, so that the two
// agree even in View, where each statement sees the database as it is
// when it runs: a transaction's accounts and counts commit together.
func (t *tx) Groups(extendedAfter time.Time) ([]*mfagate.Group, []*mfagate.Person, error) {
	rows, err := t.query(`SELECT 0, roles, state, SUM(people), 0, '', 0, 0 FROM rollout_groups
			GROUP BY roles, state HAVING SUM(people) <> 0
		UNION ALL
		SELECT 1, group_roles, group_state, 1, id, username, extended_until, skips FROM users
			WHERE extended_until > ? AND group_state >= 0`, extendedAfter.UnixMilli())
	if err != nil {
		return nil, nil, fmt.Errorf("read groups: %w", err)
	}
	var (
		groups   []*mfagate.Group
		extended []*mfagate.Person
	)
	for rows.Next() {
		var (
			kind, people int
			k            groupKey
			p            mfagate.Person
			until        int64
		)
		if err := rows.Scan(&kind, &k.roles, &k.state, &people, &p.ID, &p.Username, &until, &p.Skips); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read groups: %w", err)
		}
		g := k.group(people)
		if kind == 0 {
			groups = append(groups, g)
			continue
		}
		p.ExtendedUntil = time.UnixMilli(until).UTC()
		p.Roles, p.Methods, p.SignedIn, p.Unreached, p.Disabled, p.Invited = g.Roles, g.Methods, !g.NeverSignedIn, g.Unreached, g.Disabled, g.Invited
		extended = append(extended, &p)
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, fmt.Errorf("read groups: %w", err)
	}
	slices.SortFunc(extended, func(a, b *mfagate.Person) int { return cmp.Compare(a.ID, b.ID) })
	return groups, extended, nil
}

// RecountGroups compares the kept counts with a recount; see
// mfagate.People. The comparison is one statement, so that it sees one
// state of the database even while accounts change: a transaction's
// accounts and counts commit together.
func (t *tx) RecountGroups(fix bool) ([]*mfagate.GroupMismatch, error) {
	if fix && !t.writable {
		return nil, errReadOnly
	}
	if fix && t.dialect == dialectPostgres {
		// Nothing may change an account between the recount and the new
		// counts; reads go on.
		if _, err := t.exec(`LOCK TABLE users, user_roles, factors, rollout_groups IN EXCLUSIVE MODE`); err != nil {
			return nil, fmt.Errorf("recount groups: %w", err)
		}
	}
	rows, err := t.query(`WITH recount AS (
			SELECT roles, state, COUNT(*) AS people,
				SUM(CASE WHEN roles = kept_roles AND state = kept_state THEN 0 ELSE 1 END) AS wrong
			FROM (` + t.dialect.accountGroups() + `) g
			GROUP BY roles, state),
		kept AS (SELECT roles, state, SUM(people) AS people FROM rollout_groups GROUP BY roles, state)
		SELECT COALESCE(k.roles, r.roles), COALESCE(k.state, r.state), COALESCE(k.people, 0),
			COALESCE(r.people, 0), COALESCE(r.wrong, 0)
		FROM kept k FULL OUTER JOIN recount r ON k.roles = r.roles AND k.state = r.state
		WHERE COALESCE(k.people, 0) <> COALESCE(r.people, 0) OR COALESCE(r.wrong, 0) <> 0`)
	if err != nil {
		return nil, fmt.Errorf("recount groups: %w", err)
	}
	var out []*mfagate.GroupMismatch
	for rows.Next() {
		var (
			k                    groupKey
			kept, recount, wrong int
		)
		if err := rows.Scan(&k.roles, &k.state, &kept, &recount, &wrong); err != nil {
			rows.Close()
			return nil, fmt.Errorf("recount groups: %w", err)
		}
		out = append(out, &mfagate.GroupMismatch{Group: *k.group(kept), Recounted: recount, WrongPeople: wrong})
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("recount groups: %w", err)
	}
	slices.SortFunc(out, func(a, b *mfagate.GroupMismatch) int {
		return cmp.Or(slices.Compare(a.Group.Roles, b.Group.Roles), cmp.Compare(a.Recounted, b.Recounted))
	})
	if fix && len(out) > 0 {
		if err := t.countAll(); err != nil {
			return out, fmt.Errorf("recount groups: %w", err)
		}
	}
	return out, nil
}

// countAll puts every account in its group and counts the groups afresh.
func (t *tx) countAll() error {
	if _, err := t.exec(`UPDATE users SET group_roles = g.roles, group_state = g.state
		FROM (` + t.dialect.accountGroups() + `) g
		WHERE g.id = users.id AND (g.roles <> g.kept_roles OR g.state <> g.kept_state)`); err != nil {
		return err
	}
	if _, err := t.exec(`DELETE FROM rollout_groups`); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO rollout_groups (roles, state, shard, people)
		SELECT group_roles, group_state, 0, COUNT(*) FROM users GROUP BY group_roles, group_state`)
	return err
}

// countUncounted counts the accounts that are in no group yet (right
// after migration 0007, or created by an older release during an
// upgrade), under the migration lock; see Migrate.
func (db *DB) countUncounted(t *tx) error {
	// Along users_uncounted (migration 0007): one row at most, at every
	// start, however many accounts there are.
	var id int64
	err := t.queryRow(`SELECT id FROM users WHERE group_state < 0 LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.dialect == dialectPostgres {
		if _, err := t.exec(`LOCK TABLE users, user_roles, factors, rollout_groups IN EXCLUSIVE MODE`); err != nil {
			return err
		}
	}
	return t.countAll()
}
