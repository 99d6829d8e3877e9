package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// source is a seeded source of choices. Each part of the district draws
// from a source of its own, named after it (sourceOf), so that a part
// stays the same when another changes: the students of a school do not
// change with the number of days played.
type source struct{ r *rand.Rand }

// sourceOf returns the source for the part of the district that name
// identifies, under seed.
func sourceOf(seed uint64, name ...any) *source {
	h := sha256.New()
	binary.Write(h, binary.BigEndian, seed)
	for _, part := range name {
		fmt.Fprintf(h, "\x00%v", part)
	}
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return &source{r: rand.New(rand.NewChaCha8(key))}
}

// uuid returns a random UUID (version 4) drawn from s.
func (s *source) uuid() string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], s.r.Uint64())
	binary.BigEndian.PutUint64(u[8:], s.r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// chance reports true with probability p.
func (s *source) chance(p float64) bool { return s.r.Float64() < p }

// between returns an integer from lo to hi, both included.
func (s *source) between(lo, hi int) int { return lo + s.r.IntN(hi-lo+1) }

// minutes returns a duration of lo to hi minutes, both included.
func (s *source) minutes(lo, hi int) time.Duration {
	return time.Duration(s.between(lo, hi)) * time.Minute
}

// normal returns a value drawn from the normal distribution of mean
// and standard deviation sd, kept within lo and hi.
func (s *source) normal(mean, sd, lo, hi float64) float64 {
	return min(hi, max(lo, mean+sd*s.r.NormFloat64()))
}

// round returns v rounded to the given number of decimals.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// pick returns one element of items, each as likely.
func pick[T any](s *source, items []T) T { return items[s.r.IntN(len(items))] }

// weighted is a choice and its weight.
type weighted[T any] struct {
	v T
	w int
}

// choose returns one of the choices, each as likely as its weight says.
func choose[T any](s *source, choices []weighted[T]) T {
	total := 0
	for _, c := range choices {
		total += c.w
	}
	n := s.r.IntN(total)
	for _, c := range choices {
		if n < c.w {
			return c.v
		}
		n -= c.w
	}
	return choices[len(choices)-1].v
}

// sample returns k distinct indexes below n, in the order drawn; all of
// them when k >= n.
func (s *source) sample(n, k int) []int {
	return s.r.Perm(n)[:min(k, n)]
}
