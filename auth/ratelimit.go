package auth

import (
	"errors"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits attempts per key (an account, a client address), each key
// with its own token bucket. It keeps at most maxKeys buckets, so that its
// memory stays bounded however many keys it is shown. It is safe for
// concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one key's limiter and the last time the key was seen.
type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// NewLimiter returns a Limiter that allows each key burst attempts at once,
// refilled at limit per second, and that keeps at most maxKeys keys.
func NewLimiter(limit rate.Limit, burst int, maxKeys int) (*Limiter, error) {
	switch {
	case limit < 0:
		return nil, errors.New("new limiter: negative limit")
	case burst < 1:
		return nil, errors.New("new limiter: burst must be at least 1")
	case maxKeys < 1:
		return nil, errors.New("new limiter: maxKeys must be at least 1")
	}
	return &Limiter{
		limit:   limit,
		burst:   burst,
		maxKeys: maxKeys,
		buckets: make(map[string]*bucket),
	}, nil
}

// Allow reports whether key may make one attempt at now, and counts the
// attempt when it may.
func (l *Limiter) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{limiter: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}

	if now.After(b.seen) {
		b.seen = now
	}
	return b.limiter.AllowN(now, 1)
}

// Len returns how many keys l holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// evict makes room for new keys, leaving l at most nine tenths full so
// that the next eviction is many calls away. First it drops the buckets
// that have refilled, which a new key would get anyway, so nothing is
// lost. If that is not enough, every remaining key was refused or spent
// attempts recently, and it drops the ones seen longest ago: that forgets
// their attempts, the price of bounded memory.
func (l *Limiter) evict(now time.Time) {
	full := float64(l.burst)
	for key, b := range l.buckets {
		if b.limiter.TokensAt(now) >= full {
			delete(l.buckets, key)
		}
	}

	target := l.maxKeys - max(l.maxKeys/10, 1)
	if len(l.buckets) <= target {
		return
	}

	keys := make([]string, 0, len(l.buckets))
	for key := range l.buckets {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return l.buckets[a].seen.Compare(l.buckets[b].seen)
	})
	for _, key := range keys[:len(keys)-target] {
		delete(l.buckets, key)
	}
}
