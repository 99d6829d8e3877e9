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
// least recently put when the cache is full.
func (c *foldCache) put(key foldKey, f *folded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.recent.Remove(el)
	}
	c.byKey[key] = c.recent.PushFront(&cachedFold{key: key, folded: f})
	for c.recent.Len() > c.capacity {
		oldest := c.recent.Back()
		delete(c.byKey, c.recent.Remove(oldest).(*cachedFold).key)
	}
}

// len returns how many students the cache holds.
func (c *foldCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recent.Len()
}
