package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/sqlstore"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
)

// requestLog is an Observer that keeps what it was told.
type requestLog struct {
	mu    sync.Mutex
	kinds []sqlstore.RequestKind
	took  []time.Duration
}

func (l *requestLog) ObserveRequest(kind sqlstore.RequestKind, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kinds = append(l.kinds, kind)
	l.took = append(l.took, d)
}

// TestObserverTimesEveryRequest: each Update, View and Ping is reported
// once, with its kind, failed ones too, and a transaction's time runs
// from its start to its commit.
func TestObserverTimesEveryRequest(t *testing.T) {
	log := &requestLog{}
	b := sqltest.SQLite()
	db := b.OpenWith(t, b.DSN(t), sqlstore.Options{Observer: log})
	sqltest.MustMigrate(t, db)
	log.mu.Lock()
	log.kinds, log.took = nil, nil // opening pings once; migrating is not a request
	log.mu.Unlock()

	ctx := context.Background()
	const hold = 30 * time.Millisecond
	if err := db.Update(ctx, func(tx mfagate.Tx) error { time.Sleep(hold); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx mfagate.Tx) error { return errors.New("refused") }); err == nil {
		t.Fatal("the failing update succeeded")
	}
	if err := db.View(ctx, func(tx mfagate.Tx) error { _, err := tx.Users(mfagate.UserFilter{}); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	want := []sqlstore.RequestKind{sqlstore.RequestUpdate, sqlstore.RequestUpdate, sqlstore.RequestView, sqlstore.RequestPing}
	if !reflect.DeepEqual(log.kinds, want) {
		t.Fatalf("got %v, want %v", log.kinds, want)
	}
	if log.took[0] < hold {
		t.Errorf("the update that held its transaction %v was reported as %v", hold, log.took[0])
	}
	if got := []string{want[0].String(), want[2].String(), want[3].String()}; !reflect.DeepEqual(got, []string{"update", "view", "ping"}) {
		t.Errorf("names: got %v", got)
	}
}
