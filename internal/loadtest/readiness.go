package loadtest

import (
	"context"
	"sync"
	"time"
)

// ReadySample is one answer of /readyz: its status, 0 when none came.
type ReadySample struct {
	At     time.Time
	Status int
}

// WatchReady asks s's /readyz every interval until ctx ends. The
// function it returns waits for the end and returns every answer.
func (s *Server) WatchReady(ctx context.Context, interval time.Duration) func() []ReadySample {
	var samples []ReadySample
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			at := time.Now()
			status, _ := get(s.URL() + "/readyz")
			samples = append(samples, ReadySample{At: at, Status: status})
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	})
	return func() []ReadySample {
		wg.Wait()
		return samples
	}
}

// Outage returns the first run of answers other than 200 among samples
// taken at or after from: when the first was asked, and when the 200
// that ended them was; ok is false when there is no such run, and end is
// zero when no 200 ended it.
func Outage(samples []ReadySample, from time.Time) (start, end time.Time, ok bool) {
	for _, s := range samples {
		switch {
		case s.At.Before(from):
		case !ok && s.Status != 200:
			start, ok = s.At, true
		case ok && s.Status == 200:
			return start, s.At, true
		}
	}
	return start, time.Time{}, ok
}
