package testserver

import (
	"strings"
	"sync"
)

// Output collects what a server or a child process writes (its log, its
// output) while the test reads it; it is safe for concurrent use. The zero
// value is empty and ready.
type Output struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
