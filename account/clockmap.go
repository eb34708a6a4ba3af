package account

import (
	"sync"
	"sync/atomic"
)

// clockMap is a bounded map from a token hash to V, evicting by CLOCK
// (second chance): each slot has a bit set when it is read; when the map
// is full, a hand goes round the slots, clearing bits, and takes the first
// slot whose bit was clear, or any slot whose value has expired. Reads
// take a shared lock and set the bit atomically, so concurrent checks of
// the same hot sessions do not queue behind one another as an LRU's list
// would make them. The map is split in shards by the hash's first byte
// (uniform: it is a SHA-256), each with its own lock; the bound is the
// whole map's, so that an unlucky shard does not evict while others have
// room.
type clockMap[V any] struct {
	shards []clockShard[V]
	max    int64
	count  atomic.Int64 // values held, never above max
	// evicted counts values pushed out to make room (not expired ones),
	// for the metrics.
	evicted atomic.Uint64
}

type clockShard[V any] struct {
	mu    sync.RWMutex
	index map[[32]byte]int32
	slots []clockSlot[V]
	free  []int32
	hand  int
}

type clockSlot[V any] struct {
	key  [32]byte
	v    V
	used bool
	ref  atomic.Bool
}

// newClockMap bounds the map to size values in all (size >= 1). Small
// maps have one shard, so that the bound is exact.
func newClockMap[V any](size int) *clockMap[V] {
	n := 16
	if size < 1024 {
		n = 1
	}
	m := &clockMap[V]{shards: make([]clockShard[V], n), max: int64(size)}
	for i := range m.shards {
		m.shards[i].index = make(map[[32]byte]int32)
	}
	return m
}

func (m *clockMap[V]) shard(key *[32]byte) *clockShard[V] {
	return &m.shards[int(key[0])%len(m.shards)]
}

// get returns key's value and marks it used.
func (m *clockMap[V]) get(key *[32]byte) (v V, ok bool) {
	sh := m.shard(key)
	sh.mu.RLock()
	i, ok := sh.index[*key]
	if ok {
		s := &sh.slots[i]
		v = s.v
		if !s.ref.Load() { // a write only when it changes: the line stays shared
			s.ref.Store(true)
		}
	}
	sh.mu.RUnlock()
	return v, ok
}

// put sets key's value, making room if the shard is full: an expired
// value first, else the first not read since the hand last passed.
// keep, when not nil, is asked under the shard's lock whether to store at
// all (the caller's epoch check); evicted, when not nil, is handed each
// value pushed out.
func (m *clockMap[V]) put(key *[32]byte, v V, expired func(V) bool, keep func() bool, evicted func(V)) {
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if keep != nil && !keep() {
		return
	}
	if i, ok := sh.index[*key]; ok {
		sh.slots[i].v = v
		return
	}
	var i int32
	switch {
	case m.count.Add(1) <= m.max: // room: a free slot of this shard, or a new one
		if len(sh.free) > 0 {
			i = sh.free[len(sh.free)-1]
			sh.free = sh.free[:len(sh.free)-1]
		} else {
			sh.slots = append(sh.slots, clockSlot[V]{})
			i = int32(len(sh.slots) - 1)
		}
	default:
		m.count.Add(-1) // full: a value of this shard gives way, one for one
		var found bool
		if i, found = sh.victim(expired); !found {
			return // nothing here to give way: not kept
		}
		if !expired(sh.slots[i].v) {
			m.evicted.Add(1)
		}
		if evicted != nil {
			evicted(sh.slots[i].v)
		}
		delete(sh.index, sh.slots[i].key)
	}
	s := &sh.slots[i]
	s.key, s.v, s.used = *key, v, true
	s.ref.Store(false)
	sh.index[*key] = i
}

// victim moves the hand to the slot to reuse, and reports false when the
// shard holds no value. Two turns at most: the first clears every bit it
// passes.
func (sh *clockShard[V]) victim(expired func(V) bool) (int32, bool) {
	for range 2 * len(sh.slots) {
		i := sh.hand
		sh.hand = (sh.hand + 1) % len(sh.slots)
		s := &sh.slots[i]
		if !s.used {
			continue
		}
		if expired(s.v) {
			return int32(i), true
		}
		if s.ref.Load() {
			s.ref.Store(false)
			continue
		}
		return int32(i), true
	}
	for i := range sh.slots { // every bit was set again meanwhile: any used slot
		if sh.slots[i].used {
			return int32(i), true
		}
	}
	return 0, false
}

// remove forgets key, if held.
func (m *clockMap[V]) remove(key *[32]byte) {
	sh := m.shard(key)
	sh.mu.Lock()
	m.removeLocked(sh, key)
	sh.mu.Unlock()
}

func (m *clockMap[V]) removeLocked(sh *clockShard[V], key *[32]byte) {
	i, ok := sh.index[*key]
	if !ok {
		return
	}
	m.count.Add(-1)
	delete(sh.index, *key)
	var zero V
	s := &sh.slots[i]
	s.key, s.v, s.used = [32]byte{}, zero, false // the value is not kept alive
	s.ref.Store(false)
	sh.free = append(sh.free, i)
}

// removeIf forgets every value drop reports true for, shard by shard.
func (m *clockMap[V]) removeIf(drop func(V) bool) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for j := range sh.slots {
			if s := &sh.slots[j]; s.used && drop(s.v) {
				key := s.key
				m.removeLocked(sh, &key)
			}
		}
		sh.mu.Unlock()
	}
}

// each calls fn for every value, under the shard's shared lock.
func (m *clockMap[V]) each(fn func(V)) {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		for j := range sh.slots {
			if s := &sh.slots[j]; s.used {
				fn(s.v)
			}
		}
		sh.mu.RUnlock()
	}
}

// len is how many values the map holds.
func (m *clockMap[V]) len() int { return int(m.count.Load()) }
