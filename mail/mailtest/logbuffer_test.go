package mailtest

import (
	"strings"
	"sync"
	"testing"
)

// TestLogBufferKeepsConcurrentWrites checks that lines written at once by many
// goroutines all arrive whole; run with -race it also proves the locking.
func TestLogBufferKeepsConcurrentWrites(t *testing.T) {
	var b LogBuffer
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if i%2 == 0 {
					b.Printf("line %d", i)
				} else {
					b.Write([]byte("line x\n"))
				}
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1000 {
		t.Fatalf("got %d lines, want 1000", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "line ") {
			t.Fatalf("got a torn line %q", l)
		}
	}
}
