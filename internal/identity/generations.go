package identity

import (
	"sync"
	"time"
)

// maxCachedGenerations bounds the generation cache; past it, expired entries
// are swept, and if that is not enough the cache starts over.
const maxCachedGenerations = 10000

// generationCache remembers clients' secret generations for a while, so that
// verifying a client's token does not read the database each time. A
// generation of 0 records a client that does not exist.
type generationCache struct {
	ttl time.Duration

	mu sync.Mutex
	// gen counts forget calls. A reader notes it before reading the database
	// and stores its answer only if no forget came in between, so a value
	// read before a change never outlives the change's forget.
	gen     uint64
	entries map[string]cachedGeneration
}

type cachedGeneration struct {
	generation int64
	expires    time.Time
}

func newGenerationCache(ttl time.Duration) *generationCache {
	return &generationCache{ttl: ttl, entries: map[string]cachedGeneration{}}
}

// get returns the cached generation of client id, if it is fresh at now.
func (c *generationCache) get(id string, now time.Time) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.expires) {
		return 0, false
	}
	return e.generation, true
}

// epoch returns the forget count, to pass to put after reading the database.
func (c *generationCache) epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches generation for client id, read at now, unless a forget happened
// since epoch was taken.
func (c *generationCache) put(id string, generation int64, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != epoch {
		return
	}
	if len(c.entries) >= maxCachedGenerations {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedGenerations {
			clear(c.entries)
		}
	}
	c.entries[id] = cachedGeneration{generation: generation, expires: now.Add(c.ttl)}
}

// forget drops client id's entry; call it after committing a change to the
// client.
func (c *generationCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, id)
}
