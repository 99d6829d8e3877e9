package auth_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
)

// start is the time of the first attempt in each test.
var start = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

func mustLimiter(t *testing.T, limit rate.Limit, burst, maxKeys int) *auth.Limiter {
	t.Helper()
	l, err := auth.NewLimiter(limit, burst, maxKeys)
	if err != nil {
		t.Fatalf("NewLimiter() error = %v", err)
	}
	return l
}

// attempt is one call to Allow and what it should return.
type attempt struct {
	key  string
	at   time.Duration // after start
	want bool
}

func TestLimiterAllow(t *testing.T) {
	// Five attempts at once, then one a minute.
	const limit = rate.Limit(1.0 / 60)
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"burst then refused", []attempt{
			{"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true},
			{"a", 0, false},
			{"a", time.Second, false},
		}},
		{"refills one a minute", []attempt{
			{"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true},
			{"a", 59 * time.Second, false},
			{"a", 60 * time.Second, true},
			{"a", 61 * time.Second, false},
			{"a", 120 * time.Second, true},
		}},
		{"refills no more than the burst", []attempt{
			{"a", 0, true},
			{"a", time.Hour, true}, {"a", time.Hour, true}, {"a", time.Hour, true},
			{"a", time.Hour, true}, {"a", time.Hour, true},
			{"a", time.Hour, false},
		}},
		{"refused attempts do not count", []attempt{
			{"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true},
			{"a", 30 * time.Second, false}, {"a", 45 * time.Second, false},
			{"a", 60 * time.Second, true},
		}},
		{"independent keys", []attempt{
			{"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true}, {"a", 0, true},
			{"a", 0, false},
			{"b", 0, true},
			{"a", 0, false},
			{"b", 0, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustLimiter(t, limit, 5, 100)
			for i, a := range tt.attempts {
				if got := l.Allow(a.key, start.Add(a.at)); got != a.want {
					t.Errorf("attempt %d: Allow(%q, +%v) = %v, want %v",
						i, a.key, a.at, got, a.want)
				}
			}
		})
	}
}

func TestLimiterBounded(t *testing.T) {
	const maxKeys = 50
	l := mustLimiter(t, rate.Limit(1.0/60), 3, maxKeys)

	for i := range 10 * maxKeys {
		l.Allow(fmt.Sprintf("key-%d", i), start.Add(time.Duration(i)*time.Millisecond))
		if got := l.Len(); got > maxKeys {
			t.Fatalf("after %d keys Len() = %d, want at most %d", i+1, got, maxKeys)
		}
	}
}

func TestLimiterEvictsRefilledFirst(t *testing.T) {
	const maxKeys = 10
	l := mustLimiter(t, rate.Limit(1.0/60), 2, maxKeys)

	// "victim" spends its burst; the others try once, an hour earlier, and
	// have long refilled when the map fills up.
	for i := range maxKeys - 1 {
		l.Allow(fmt.Sprintf("idle-%d", i), start.Add(-time.Hour))
	}
	l.Allow("victim", start)
	l.Allow("victim", start)

	if got := l.Allow("newcomer", start); !got {
		t.Errorf("Allow(newcomer) = false, want true")
	}
	if got := l.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2 (victim and newcomer)", got)
	}
	if got := l.Allow("victim", start); got {
		t.Errorf("Allow(victim) after eviction = true, want false: its attempts were forgotten")
	}
}

func TestLimiterEvictsLeastRecent(t *testing.T) {
	const maxKeys = 10
	l := mustLimiter(t, rate.Limit(1.0/3600), 1, maxKeys)

	// Every key spends its one attempt, oldest first; none refills.
	for i := range maxKeys {
		l.Allow(fmt.Sprintf("key-%d", i), start.Add(time.Duration(i)*time.Second))
	}
	now := start.Add(time.Minute)
	l.Allow("newcomer", now)

	if got := l.Allow("key-9", now); got {
		t.Errorf("Allow(key-9) = true, want false: the most recent key was evicted")
	}
	if got := l.Allow("key-0", now); !got {
		t.Errorf("Allow(key-0) = false, want true: the oldest key was kept")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := mustLimiter(t, rate.Limit(1.0/60), 10, 20)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				ok := l.Allow(fmt.Sprintf("key-%d", i%5), start.Add(time.Duration(g)*time.Millisecond))
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	// Five keys, ten each; no refill within 8 ms.
	if allowed != 50 {
		t.Errorf("allowed = %d, want 50", allowed)
	}
}

func TestNewLimiter(t *testing.T) {
	tests := []struct {
		name    string
		limit   rate.Limit
		burst   int
		maxKeys int
		wantErr bool
	}{
		{"sound", 1, 5, 1000, false},
		{"no refill", 0, 5, 1000, false},
		{"negative limit", -1, 5, 1000, true},
		{"no burst", 1, 0, 1000, true},
		{"no keys", 1, 5, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewLimiter(tt.limit, tt.burst, tt.maxKeys)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("NewLimiter() error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
