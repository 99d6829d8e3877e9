package eventstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// Problem is one thing wrong with one stored event.
type Problem struct {
	Stream   string
	Revision uint64
	ID       uuid.UUID
	Position uint64
	What     string
}

func (p Problem) String() string {
	return fmt.Sprintf("stream %s revision %d (id %s, position %d): %s",
		p.Stream, p.Revision, p.ID, p.Position, p.What)
}

// Verifier recomputes the digest and hash of every event it is shown, from
// the stored bytes, and checks each stream's chain and revisions. Show it
// events in log order, or one stream's events in revision order, starting
// at each stream's first event. It never trusts a stored hash: each event is
// chained to the hash recomputed for the one before it.
type Verifier struct {
	// ContiguousPositions makes a gap between positions a problem, for logs
	// whose positions have no gaps (the Postgres log).
	ContiguousPositions bool
	// Also, when set, checks each event after the Verifier has, given the
	// hash the Verifier recomputed for it, and adds what it finds.
	Also Checker

	heads   map[string]chainHead
	lastPos uint64
	checked uint64
	// gaps are the missing positions found so far, reported by Finish:
	// an event deleted from one stream leaves a gap before an event of
	// another, and the deleted event's own stream names it better.
	gaps []Problem
}

type chainHead struct {
	revision uint64
	hash     Hash
}

// Checked returns how many events the Verifier has been shown.
func (v *Verifier) Checked() uint64 { return v.checked }

// Check verifies one event and returns what is wrong with it, if anything.
func (v *Verifier) Check(e *Event) []Problem {
	if v.heads == nil {
		v.heads = make(map[string]chainHead)
	}
	v.checked++
	var problems []Problem
	report := func(format string, args ...any) {
		problems = append(problems, Problem{
			Stream: e.Stream, Revision: e.Revision, ID: e.ID, Position: e.Position,
			What: fmt.Sprintf(format, args...),
		})
	}

	v.checkPosition(e, report)
	v.checkPayload(e, report)
	prev := v.checkRevision(e, report)
	if e.PrevHash != prev {
		report("prev_hash %s is not the recomputed hash %s of the event before it",
			e.PrevHash, prev)
	}
	computed := ComputeHash(e)
	if computed != e.Hash {
		report("stored hash %s does not match the recomputed hash %s", e.Hash, computed)
	}
	v.heads[e.Stream] = chainHead{revision: e.Revision, hash: computed}
	if v.Also != nil {
		problems = append(problems, v.Also.Check(e, computed)...)
	}
	return problems
}

func (v *Verifier) checkPosition(e *Event, report func(string, ...any)) {
	if v.checked > 1 && e.Position <= v.lastPos {
		report("position %d does not follow position %d", e.Position, v.lastPos)
	}
	if v.ContiguousPositions && e.Position > v.lastPos+1 {
		v.gaps = append(v.gaps, Problem{
			Stream: e.Stream, Revision: e.Revision, ID: e.ID, Position: e.Position,
			What: fmt.Sprintf("positions %d to %d are missing before it",
				v.lastPos+1, e.Position-1),
		})
	}
	v.lastPos = max(v.lastPos, e.Position)
}

// Finish returns the problems that only the whole log shows: the positions
// missing between the events shown, each named by the event after the
// gap, then what Also finds at the end. Call it once the last event has
// been checked.
func (v *Verifier) Finish() []Problem {
	problems := v.gaps
	v.gaps = nil
	if v.Also != nil {
		problems = append(problems, v.Also.Finish()...)
	}
	return problems
}

// Checker is a further check of a whole log, shown every event in
// position order with the hash recomputed from its stored bytes: the
// ledger's comparison with signed checkpoints is one.
type Checker interface {
	// Check returns what is wrong with e, whose recomputed hash is
	// computed.
	Check(e *Event, computed Hash) []Problem
	// Finish returns what the whole log shows once every event was seen.
	Finish() []Problem
}

func (v *Verifier) checkPayload(e *Event, report func(string, ...any)) {
	switch {
	case e.Data == nil && e.DataSalt == nil:
		// The payload was destroyed; the digest still chains.
	case e.Data == nil || e.DataSalt == nil:
		report("payload and its salt must be both present or both destroyed")
	case len(e.DataSalt) != SaltSize:
		report("data salt is %d bytes, want %d", len(e.DataSalt), SaltSize)
	case DigestData(e.DataSalt, e.Data) != e.DataDigest:
		report("data does not match its digest")
	}
}

// checkRevision checks that e follows its stream's last event and returns
// the hash e must chain to.
func (v *Verifier) checkRevision(e *Event, report func(string, ...any)) Hash {
	head, seen := v.heads[e.Stream]
	switch {
	case !seen && e.Revision != 0:
		report("stream starts at revision %d: revisions 0 to %d are missing",
			e.Revision, e.Revision-1)
	case seen && e.Revision <= head.revision:
		report("revision %d comes after revision %d", e.Revision, head.revision)
	case seen && e.Revision != head.revision+1:
		report("revisions %d to %d are missing before it",
			head.revision+1, e.Revision-1)
	}
	return head.hash
}

// VerifyOptions selects what Verify reads.
type VerifyOptions struct {
	// Stream, when set, verifies that one stream only, in revision order.
	Stream string
	// PageSize is how many events are read at a time; zero means 5000.
	PageSize int
	// ContiguousPositions: see Verifier.
	ContiguousPositions bool
	// Also: see Verifier. It is not used when Stream is set.
	Also Checker
}

// Verify reads the log (or one stream) from the start and checks every
// event, calling problem for each one found; problem returns false to stop
// early. It returns how many events were checked. The next page is read
// while the current one is checked.
func Verify(
	ctx context.Context,
	s Store,
	opts VerifyOptions,
	problem func(Problem) bool,
) (uint64, error) {
	v := &Verifier{ContiguousPositions: opts.ContiguousPositions && opts.Stream == ""}
	if opts.Stream == "" {
		v.Also = opts.Also
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go readPages(ctx, s, opts, pages)
	for pg := range pages {
		if pg.err != nil {
			return v.Checked(), pg.err
		}
		for i := range pg.events {
			for _, p := range v.Check(&pg.events[i]) {
				if !problem(p) {
					return v.Checked(), nil
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return v.Checked(), err
	}
	for _, p := range v.Finish() {
		if !problem(p) {
			break
		}
	}
	return v.Checked(), nil
}

type page struct {
	events []Event
	err    error
}

// readPages sends the log (or one stream) page by page, then closes pages.
func readPages(ctx context.Context, s Store, opts VerifyOptions, pages chan<- page) {
	defer close(pages)
	size := opts.PageSize
	if size <= 0 {
		size = 5000
	}
	var from uint64
	if opts.Stream == "" {
		from = 1
	}
	for {
		var pg page
		if opts.Stream != "" {
			pg.events, pg.err = s.ReadStream(ctx, opts.Stream, ReadOptions{From: from, Limit: size})
		} else {
			pg.events, pg.err = s.ReadAll(ctx, from, size)
		}
		select {
		case pages <- pg:
		case <-ctx.Done():
			return
		}
		if pg.err != nil || len(pg.events) < size {
			return
		}
		last := pg.events[len(pg.events)-1]
		from = last.Position + 1
		if opts.Stream != "" {
			from = last.Revision + 1
		}
	}
}
