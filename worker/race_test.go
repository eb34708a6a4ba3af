//go:build race

package worker_test

// raceEnabled: the race detector slows SQLite (a C library translated to
// Go) some forty times, so the longest tests send fewer messages on it.
const raceEnabled = true

// timeScale stretches the leases and delays of the fault tests: under the
// race detector a SQLite transaction can wait on another's lock for
// longer than a short lease, which is a pause past the lease (a copy may
// go out), not what those tests are about.
const timeScale = 20
