package cli

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strings"
)

// The Go runtime's memory settings that serve and demo start with, unless
// the operator set GOGC or GOMEMLIMIT in the environment (docs/operations.md,
// "Memory"). A server that hashes passwords allocates argon2id's 19 MiB
// buffer for every sign-in; with Go's defaults (GOGC=100, no limit) that
// starts a collection at nearly every sign-in, and nothing bounds the
// heap a burst of them leaves behind. So:
//
//   - GOGC=200: a collection marks what is live, and how often one runs
//     is the garbage allocated over GOGC percent of it, so the collector's
//     CPU per sign-in is about halved against 100, whatever is live;
//   - a soft memory limit of 90 MiB keeps the process within SPEC.md's
//     150 MB of resident memory under load, 100,000 live sessions
//     included, leaving room for what the Go heap does not hold (SQLite's
//     page caches, which modernc allocates outside it, the program, thread
//     stacks). Measured with bench/forward-auth.sh, 100,000 sessions
//     (about 34 MB of them live in the check cache): 141 MB resident (peak
//     143) at 0.63 of hello's rate under 90 MiB; 147 MB (peak 151) at
//     0.65 under 100 MiB. With the cache's entries twice that size, a
//     limit this close to the live heap made the collector run without
//     rest (0.21 of hello's rate), which is why entries hold only what
//     forward-auth reads.
//
// The limit is soft: a live heap above it is not refused, only collected
// more often (the runtime caps the collector at half the CPU then).
const (
	defaultGOGC        = 200
	defaultMemoryLimit = 90 << 20 // bytes
)

// memorySettings is what setMemoryDefaults did, to report and undo it.
type memorySettings struct {
	// GCPercent and MemoryLimit are the values set; the Set fields say
	// which were, the others being the operator's (from the environment).
	GCPercent      int
	MemoryLimit    int64
	SetGCPercent   bool
	SetMemoryLimit bool

	prevGCPercent   int
	prevMemoryLimit int64
}

// setMemoryDefaults gives the runtime mfagate's memory settings, each
// one only when the environment (as getenv reads it) does not set it: the
// runtime read GOGC and GOMEMLIMIT itself when the process started, and
// the operator's word wins. An empty variable counts as unset, as it does
// for the runtime.
func setMemoryDefaults(getenv func(string) string) memorySettings {
	var s memorySettings
	if strings.TrimSpace(getenv("GOGC")) == "" {
		s.GCPercent, s.SetGCPercent = defaultGOGC, true
		s.prevGCPercent = debug.SetGCPercent(defaultGOGC)
	}
	if strings.TrimSpace(getenv("GOMEMLIMIT")) == "" {
		s.MemoryLimit, s.SetMemoryLimit = defaultMemoryLimit, true
		s.prevMemoryLimit = debug.SetMemoryLimit(defaultMemoryLimit)
	}
	return s
}

// undo puts back what setMemoryDefaults changed: for tests, which run
// serve in their own process and should leave it as they found it.
func (s memorySettings) undo() {
	if s.SetGCPercent {
		debug.SetGCPercent(s.prevGCPercent)
	}
	if s.SetMemoryLimit {
		debug.SetMemoryLimit(s.prevMemoryLimit)
	}
}

// String is the settings as the start-up log line gives them.
func (s memorySettings) String() string {
	gc, limit := "GOGC from the environment", "GOMEMLIMIT from the environment"
	if s.SetGCPercent {
		gc = fmt.Sprintf("GOGC=%d", s.GCPercent)
	}
	if s.SetMemoryLimit {
		limit = fmt.Sprintf("GOMEMLIMIT=%dMiB", s.MemoryLimit>>20)
	}
	return gc + ", " + limit
}

// currentMemorySettings reads the runtime's settings, for tests.
func currentMemorySettings() (gcPercent int, memoryLimit int64) {
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(sample)
	return int(sample[0].Value.Uint64()), int64(sample[1].Value.Uint64())
}
