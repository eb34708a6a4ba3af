//go:build race

package worker_test

// raceEnabled: the race detector slows SQLite (a C library translated to
// Go) some forty times, so the longest tests send fewer messages on it.
const raceEnabled = true
