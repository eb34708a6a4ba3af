package web_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// overlapStore counts the reads /metrics and /readyz make of the
// database, and how many of each kind ran at once. Each read waits for
// ten of its kind to be running (or for a second, when they are not),
// so that reads which may overlap do.
type overlapStore struct {
	mfagate.Store
	mu             sync.Mutex
	pings, views   int
	inPing, inView int
	maxPing        int
	maxView        int
	crowd          [2]chan struct{} // closed once ten reads of a kind overlapped
}

func newOverlapStore(s mfagate.Store) *overlapStore {
	return &overlapStore{Store: s, crowd: [2]chan struct{}{make(chan struct{}), make(chan struct{})}}
}

// crowd is how many overlapping reads of a kind release them all.
const crowd = 10

func (s *overlapStore) enter(kind int) func() {
	s.mu.Lock()
	n, count, most := &s.inPing, &s.pings, &s.maxPing
	if kind == 1 {
		n, count, most = &s.inView, &s.views, &s.maxView
	}
	*n++
	*count++
	*most = max(*most, *n)
	if *n == crowd {
		select {
		case <-s.crowd[kind]:
		default:
			close(s.crowd[kind])
		}
	}
	s.mu.Unlock()
	select {
	case <-s.crowd[kind]:
	case <-time.After(time.Second):
	}
	return func() { s.mu.Lock(); *n--; s.mu.Unlock() }
}

func (s *overlapStore) Ping(ctx context.Context) error {
	defer s.enter(0)()
	return s.Store.Ping(ctx)
}

func (s *overlapStore) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	defer s.enter(1)()
	return s.Store.View(ctx, fn)
}

// TestScrapesDoNotPileUpOnTheDatabase: /metrics and /readyz are open to
// anyone, and each reads the database. Forty clients asking both at once
// must not take forty of the database's connections, which sign-ins
// need (max_open_conns is 20 by default on PostgreSQL): at most one read
// of a kind runs at a time, and the clients waiting share its answer.
func TestScrapesDoNotPileUpOnTheDatabase(t *testing.T) {
	var store *overlapStore
	h := newHarness(t, func(o *harnessConfig) { store = newOverlapStore(o.Store); o.Store = store })
	const clients = 40
	var wg sync.WaitGroup
	bad := make(chan string, 2*clients)
	for range clients {
		for _, path := range []string{"/metrics", "/readyz"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := h.get(t, h.client(t), path)
				if res.StatusCode != http.StatusOK {
					bad <- path + ": " + res.Status
				}
			}()
		}
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Error(b)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	t.Logf("%d scrapes and %d readiness checks: %d pings (at most %d at once), %d reads of the queue (at most %d at once)",
		clients, clients, store.pings, store.maxPing, store.views, store.maxView)
	if store.maxPing > 1 || store.maxView > 1 {
		t.Errorf("reads of the database at once: %d pings, %d reads of the queue; want at most 1 of each", store.maxPing, store.maxView)
	}
}
