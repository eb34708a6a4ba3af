package sqlstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mfagate/mfagate"
)

// Revocations: the transaction that ends sessions announces them, and
// every server hears it and forgets what it remembers of those sessions.
//
// On PostgreSQL the announcement is a pg_notify, which PostgreSQL
// delivers when (and only if) the transaction commits, to every
// connection listening on the channel; each replica keeps one such
// connection (Listener).
//
// On SQLite it is a row of ended_sessions (migration 0008), written in the
// transaction: the server is alone, but commands run beside it ("mfagate
// user disable", "mfagate user reset-mfa") end sessions from another
// process, and tests run two servers on one file. Each server reads the
// new rows every half second (Poller).

// endedChannel is the SQL for the channel's name: one per schema, so that
// two installations (or two tests) sharing a database do not hear each
// other; hashed, because a channel name is at most 63 bytes and a schema
// name may be as long.
const endedChannel = `'mfagate_ended_' || left(md5(current_schema()), 16)`

// maxPayload bounds an announcement: PostgreSQL refuses payloads of 8000
// bytes and more. A transaction ending more than fits announces "*":
// forget everything.
const maxPayload = 7000

// AnnounceEnded tells the other replicas which sessions ended; see
// mfagate.Sessions. The payload is words separated by spaces: "h" and a
// token hash in hex, "u" and a user id, or "*" alone.
func (t *tx) AnnounceEnded(hashes [][]byte, users []int64) error {
	if len(hashes) == 0 && len(users) == 0 {
		return nil
	}
	if !t.writable {
		return errReadOnly
	}
	payload := endedPayload(hashes, users)
	q := `SELECT pg_notify(` + endedChannel + `, ?)`
	if t.dialect == dialectSQLite {
		q = `INSERT INTO ended_sessions (at, payload) VALUES (` + t.dialect.nowMillis() + `, ?)`
	}
	if _, err := t.exec(q, payload); err != nil {
		return fmt.Errorf("announce ended sessions: %w", err)
	}
	return nil
}

func endedPayload(hashes [][]byte, users []int64) string {
	var b strings.Builder
	for _, h := range hashes {
		b.WriteString(" h")
		b.WriteString(hex.EncodeToString(h))
	}
	for _, u := range users {
		b.WriteString(" u")
		b.WriteString(strconv.FormatInt(u, 10))
	}
	if b.Len() > maxPayload {
		return "*"
	}
	return b.String()[1:]
}

// parseEnded reads a payload endedPayload wrote. Words it does not know
// make it forget everything: a newer version may say more than this one
// understands, and forgetting too much only costs lookups.
func parseEnded(payload string) mfagate.Ended {
	var e mfagate.Ended
	for _, w := range strings.Fields(payload) {
		switch {
		case w[0] == 'h':
			h, err := hex.DecodeString(w[1:])
			if err != nil {
				return mfagate.Ended{All: true}
			}
			e.Hashes = append(e.Hashes, h)
		case w[0] == 'u':
			id, err := strconv.ParseInt(w[1:], 10, 64)
			if err != nil {
				return mfagate.Ended{All: true}
			}
			e.Users = append(e.Users, id)
		default:
			return mfagate.Ended{All: true}
		}
	}
	return e
}

// Listener follows the announcements of ended sessions on PostgreSQL
// over one connection of its own, outside the pool; see
// mfagate.Revocations.
type Listener struct {
	cfg *pgx.ConnConfig
	log *slog.Logger
	// Ping is how long the connection may stay silent before it is
	// checked: a connection lost without a word (a network cut) is
	// found within Ping plus the check's timeout.
	Ping time.Duration
	// Retry is the first wait before connecting again; each failure
	// doubles it, up to a minute.
	Retry time.Duration
}

var _ mfagate.Revocations = (*Listener)(nil)

// NewListener returns a Listener for the PostgreSQL database dsn names,
// connecting as the pool does (connectTimeout as in Options). log, when
// not nil, hears of lost connections.
func NewListener(dsn string, connectTimeout time.Duration, log *slog.Logger) (*Listener, error) {
	cfg, err := pgConfig(dsn, connectTimeout)
	if err != nil {
		return nil, fmt.Errorf("revocation listener: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{cfg: cfg, log: log, Ping: 20 * time.Second, Retry: time.Second}, nil
}

// Follow listens until ctx is done; see mfagate.Revocations.
func (l *Listener) Follow(ctx context.Context, listening func(bool), ended func(mfagate.Ended)) {
	wait := l.Retry
	for ctx.Err() == nil {
		err := l.listen(ctx, listening, ended)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("not hearing of sessions ended on other replicas: sessions are checked in the database again every few seconds until this is back",
			"err", err, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

// listen connects, listens and hands on announcements until the
// connection fails or ctx is done. listening(false) follows every
// listening(true).
func (l *Listener) listen(ctx context.Context, listening func(bool), ended func(mfagate.Ended)) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var channel string
	if err := conn.QueryRow(ctx, `SELECT `+endedChannel).Scan(&channel); err != nil {
		return fmt.Errorf("name the channel: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening(true)
	defer listening(false)
	for {
		wctx, cancel := context.WithTimeout(ctx, l.Ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			ended(parseEnded(n.Payload))
			continue
		case wctx.Err() == nil:
			return fmt.Errorf("wait for announcements: %w", err)
		}
		// Silent for Ping: make sure the connection is still there.
		pctx, cancel := context.WithTimeout(ctx, l.cfg.ConnectTimeout+time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("check the connection: %w", err)
		}
	}
}

// Poller follows the announcements of ended sessions on SQLite, reading
// the rows of ended_sessions written since it last looked; see
// mfagate.Revocations.
type Poller struct {
	db *DB
	// Every is how often it looks.
	Every time.Duration
	// Keep is how long rows are kept. A poller that could not read for
	// longer may have missed some: it then says so, and the cache
	// forgets everything.
	Keep time.Duration
	log  *slog.Logger
}

var _ mfagate.Revocations = (*Poller)(nil)

// NewPoller returns a Poller of db, which must be SQLite. log, when not
// nil, hears of failed reads.
func NewPoller(db *DB, log *slog.Logger) (*Poller, error) {
	if db == nil || db.dialect != dialectSQLite {
		return nil, errors.New("revocation poller: only SQLite announces in a table; PostgreSQL uses pg_notify and a Listener")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{db: db, Every: 500 * time.Millisecond, Keep: 5 * time.Minute, log: log}, nil
}

// Follow reads announcements until ctx is done; see mfagate.Revocations.
// It is listening from its first read on; a read that fails stops it
// listening until one succeeds again. Every tenth read it also removes
// the rows older than Keep.
func (p *Poller) Follow(ctx context.Context, listening func(bool), ended func(mfagate.Ended)) {
	var (
		last int64 // the last row read
		on   bool
	)
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for n := 0; ; n++ {
		err := p.read(ctx, &last, on, ended)
		if err == nil && n%10 == 0 {
			err = p.db.Update(ctx, func(t mfagate.Tx) error {
				_, err := t.(*tx).exec(`DELETE FROM ended_sessions WHERE at < `+p.db.dialect.nowMillis()+` - ?`, p.Keep.Milliseconds())
				return err
			})
		}
		switch {
		case ctx.Err() != nil:
			if on {
				listening(false)
			}
			return
		case err != nil && on:
			p.log.Warn("not hearing of sessions ended by other processes: sessions are checked in the database again every few seconds until this is back", "err", err)
			on = false
			listening(false)
		case err == nil && !on:
			on = true
			listening(true)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// read hands on the rows after *last. The first read of a run (was false:
// not listening) only finds where the rows end: what came before it was
// in the database already when the cache was emptied (listening(true)).
// Row ids follow commits without gaps (one writer at a time, and a
// rolled-back insert takes no id), so a gap after *last means rows were
// removed unread: everything is forgotten.
func (p *Poller) read(ctx context.Context, last *int64, was bool, ended func(mfagate.Ended)) error {
	return p.db.View(ctx, func(t mfagate.Tx) error {
		q := t.(*tx)
		if !was {
			return q.queryRow(`SELECT COALESCE(MAX(id), 0) FROM ended_sessions`).Scan(last)
		}
		rows, err := q.query(`SELECT id, payload FROM ended_sessions WHERE id > ? ORDER BY id`, *last)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id      int64
				payload string
			)
			if err := rows.Scan(&id, &payload); err != nil {
				return err
			}
			if id != *last+1 {
				ended(mfagate.Ended{All: true})
			} else {
				ended(parseEnded(payload))
			}
			*last = id
		}
		return closeRows(rows)
	})
}
