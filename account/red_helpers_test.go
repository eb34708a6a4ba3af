package account_test

// Helpers of the red-team tests (red_*_test.go): a store whose transactions
// can be paused at a chosen call, so that two requests on two replicas
// interleave exactly as an attacker racing them would make them, without
// relying on timing.

import (
	"context"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

// hookStore runs hooks before some Tx calls of its Update transactions.
// A hook runs inside the transaction, holding whatever it holds.
type hookStore struct {
	mfagate.Store
	mu    sync.Mutex
	hooks map[string]func(arg string) // by Tx method name
}

func newHookStore(s mfagate.Store) *hookStore {
	return &hookStore{Store: s, hooks: map[string]func(string){}}
}

// on sets the hook of method; nil removes it.
func (h *hookStore) on(method string, fn func(arg string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hooks[method] = fn
}

func (h *hookStore) run(method, arg string) {
	h.mu.Lock()
	fn := h.hooks[method]
	h.mu.Unlock()
	if fn != nil {
		fn(arg)
	}
}

func (h *hookStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	return h.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(&hookTx{Tx: tx, h: h}) })
}

type hookTx struct {
	mfagate.Tx
	h *hookStore
}

func (t *hookTx) UpdateUser(u *mfagate.User) error {
	t.h.run("UpdateUser", u.Username)
	return t.Tx.UpdateUser(u)
}

func (t *hookTx) DeleteUserSessions(userID int64, keep []byte) (int, error) {
	t.h.run("DeleteUserSessions", "")
	return t.Tx.DeleteUserSessions(userID, keep)
}

func (t *hookTx) CreateFactor(f *mfagate.Factor) error {
	t.h.run("CreateFactor", f.Method)
	return t.Tx.CreateFactor(f)
}

func (t *hookTx) HoldThrottle(key string) (*mfagate.Throttle, error) {
	t.h.run("HoldThrottle", key)
	return t.Tx.HoldThrottle(key)
}

func (t *hookTx) StartThrottle(key string, run int64, at time.Time) (bool, error) {
	t.h.run("StartThrottle", key)
	return t.Tx.StartThrottle(key, run, at)
}

func (t *hookTx) ClearThrottleIf(key string, run int64, failures int, anyLock bool, now time.Time) (bool, error) {
	t.h.run("ClearThrottleIf", key)
	return t.Tx.ClearThrottleIf(key, run, failures, anyLock, now)
}

func (t *hookTx) RecordSignIn(userID int64, at time.Time, rehash string) error {
	t.h.run("RecordSignIn", "")
	return t.Tx.RecordSignIn(userID, at, rehash)
}

func (t *hookTx) DeleteSession(hash []byte) error {
	t.h.run("DeleteSession", "")
	return t.Tx.DeleteSession(hash)
}

// pauseOnce returns a hook that, the first time it is called with arg
// matching (or any arg when match is ""), signals reached and waits for
// release; later calls pass.
func pauseOnce(match string, reached, release chan struct{}) func(string) {
	var once sync.Once
	return func(arg string) {
		if match != "" && arg != match {
			return
		}
		once.Do(func() {
			close(reached)
			<-release
		})
	}
}

// signalOnce returns a hook that signals reached the first time arg
// matches, without waiting.
func signalOnce(match string, reached chan struct{}) func(string) {
	var once sync.Once
	return func(arg string) {
		if match != "" && arg != match {
			return
		}
		once.Do(func() { close(reached) })
	}
}
