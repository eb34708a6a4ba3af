package mailtest

import (
	"bytes"
	"fmt"
	"sync"
)

// LogBuffer is the one log and output destination that tests of every
// package share when goroutines write while the test reads: a server's or
// the mail workers' log, a command's stderr. It is a bytes.Buffer safe for
// concurrent use; the zero value is ready to use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Printf writes one line, so that a LogBuffer can stand in for a logger.
func (b *LogBuffer) Printf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(&b.buf, format+"\n", args...)
}
