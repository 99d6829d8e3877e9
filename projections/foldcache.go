package projections

import (
	"container/list"
	"sync"
)

// foldKey names one student's folded aggregate in a foldCache: the
// tables it is written to (live or rebuild) and the student.
type foldKey struct {
	suffix  string
	student string
}

// foldCache keeps the most recently used folded students, up to a bound,
// for the live tables and a rebuild at once. A projection takes a student
// out while it applies an event, and puts it back once the event's
// statements are queued, so that no two goroutines ever share one.
type foldCache struct {
	mu       sync.Mutex
	capacity int
	byKey    map[foldKey]*list.Element
	// recent holds *cachedFold values, the most recently put first.
	recent *list.List
}

type cachedFold struct {
	key    foldKey
	folded *folded
}

func newFoldCache(capacity int) *foldCache {
	return &foldCache{
		capacity: capacity,
		byKey:    make(map[foldKey]*list.Element),
		recent:   list.New(),
	}
}

// take removes key's student from the cache and returns it; nil when the
// cache has none.
func (c *foldCache) take(key foldKey) *folded {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	delete(c.byKey, key)
	return c.recent.Remove(el).(*cachedFold).folded
}

// put stores f as key's student, in place of any other, and drops the
// least recently put when the cache is full. It returns those it dropped
// that were dirty: their writes are the caller's to make.
func (c *foldCache) put(key foldKey, f *folded) (evicted []cachedFold) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.recent.Remove(el)
	}
	c.byKey[key] = c.recent.PushFront(&cachedFold{key: key, folded: f})
	for c.recent.Len() > c.capacity {
		oldest := c.recent.Remove(c.recent.Back()).(*cachedFold)
		delete(c.byKey, oldest.key)
		if oldest.folded.dirty {
			evicted = append(evicted, *oldest)
		}
	}
	return evicted
}

// dirty returns the dirty students of suffix, marking them clean: their
// writes are the caller's to make.
func (c *foldCache) dirty(suffix string) []cachedFold {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cachedFold
	for el := c.recent.Back(); el != nil; el = el.Prev() {
		cf := el.Value.(*cachedFold)
		if cf.key.suffix == suffix && cf.folded.dirty {
			cf.folded.dirty = false
			out = append(out, *cf)
		}
	}
	return out
}

// drop forgets every student of suffix.
func (c *foldCache) drop(suffix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.recent.Front(); el != nil; {
		next := el.Next()
		if cf := el.Value.(*cachedFold); cf.key.suffix == suffix {
			delete(c.byKey, cf.key)
			c.recent.Remove(el)
		}
		el = next
	}
}

// len returns how many students the cache holds.
func (c *foldCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recent.Len()
}
