package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/eventstore"
)

// Check compares a log, shown in position order from its first event,
// with what the ledger has said of it: the root of every witnessed
// checkpoint, recomputed from the events' recomputed hashes, and, when the
// database's tree is given, the event each leaf was sealed from. It finds
// a truncated tail, a deleted stream, and a history rewritten and chained
// anew, which per-stream chains cannot, and names the events concerned.
// It implements eventstore.Checker.
type Check struct {
	ctx         context.Context
	checkpoints []Checkpoint // witnessed, by size
	tree        *Tree        // nil: no sealed leaves to compare with
	f           *frontier

	next     int    // index of the next checkpoint to reach
	leaves   []Leaf // sealed leaves prefetched from f.n on
	noMore   bool   // the tree holds no leaf after those prefetched
	lastPos  uint64
	diverged bool // a leaf differs already: later ones are not compared
	wrong    int  // checkpoints whose root differs
	problems []eventstore.Problem
}

// NewCheck returns a check against checkpoints (witnessed and verified,
// smallest first) and, when tree is not nil, against the database's
// sealed leaves. ctx bounds its reads of the tree.
func NewCheck(ctx context.Context, checkpoints []Checkpoint, tree *Tree) *Check {
	return &Check{ctx: ctx, checkpoints: checkpoints, tree: tree, f: newFrontier()}
}

const leafPage = 5000

// Check implements eventstore.Checker.
func (c *Check) Check(e *eventstore.Event, computed eventstore.Hash) []eventstore.Problem {
	c.problems = nil
	leaf := c.f.n
	c.compareLeaf(e, computed, leaf)
	if _, err := c.f.add(LeafHash(computed)); err != nil {
		c.report(e, "the ledger's tree could not take it: %v", err)
		return c.problems
	}
	c.lastPos = e.Position
	for c.next < len(c.checkpoints) && c.checkpoints[c.next].Size == c.f.n {
		c.compareRoot(e, c.checkpoints[c.next])
		c.next++
	}
	return c.problems
}

func (c *Check) report(e *eventstore.Event, format string, args ...any) {
	p := eventstore.Problem{What: fmt.Sprintf(format, args...)}
	if e != nil {
		p.Stream, p.Revision, p.ID, p.Position = e.Stream, e.Revision, e.ID, e.Position
	}
	c.problems = append(c.problems, p)
}

// compareLeaf compares e with the leaf sealed at index leaf, reporting
// the first difference only: after one, every later leaf may be shifted.
func (c *Check) compareLeaf(e *eventstore.Event, computed eventstore.Hash, leaf int64) {
	sealed, ok := c.sealedLeaf(e, leaf)
	if !ok || c.diverged {
		return
	}
	switch {
	case sealed.EventID != e.ID:
		c.diverged = true
		c.report(e, "leaf %d was sealed from %s; the log holds this event there instead: "+
			"events before it were removed, added or reordered", leaf, describeLeaf(sealed))
	case sealed.EventHash != computed:
		c.diverged = true
		c.report(e, "leaf %d was sealed from this event with hash %s; it hashes to %s now: "+
			"it was changed and sealed anew", leaf, sealed.EventHash, computed)
	}
}

// sealedLeaf returns the leaf the tree holds at index leaf.
func (c *Check) sealedLeaf(e *eventstore.Event, leaf int64) (Leaf, bool) {
	if c.tree == nil {
		return Leaf{}, false
	}
	if (len(c.leaves) == 0 && !c.noMore) || (len(c.leaves) > 0 && c.leaves[0].Index != leaf) {
		var err error
		c.leaves, err = c.tree.Leaves(c.ctx, leaf, leafPage)
		if err != nil {
			c.report(e, "the ledger's leaves could not be read: %v", err)
			c.tree = nil
			return Leaf{}, false
		}
		c.noMore = len(c.leaves) < leafPage
	}
	if len(c.leaves) == 0 {
		return Leaf{}, false
	}
	l := c.leaves[0]
	c.leaves = c.leaves[1:]
	return l, true
}

func describeLeaf(l Leaf) string {
	return fmt.Sprintf("stream %s revision %d (id %s, position %d)",
		l.Stream, l.Revision, l.EventID, l.Position)
}

// compareRoot checks the tree of the events shown so far against the
// checkpoint of that size. After the first difference it only counts.
func (c *Check) compareRoot(e *eventstore.Event, cp Checkpoint) {
	root, err := c.f.root()
	if err != nil {
		c.report(e, "the ledger's tree could not be hashed: %v", err)
		return
	}
	if root == cp.Root {
		return
	}
	c.wrong++
	if c.wrong > 1 {
		return
	}
	c.report(e, "the log's first %d events, up to this one, do not hash to the root %s of "+
		"the checkpoint witnessed for %d leaves (they hash to %s): history up to here was "+
		"changed since it was signed", cp.Size, hashString(cp.Root), cp.Size, hashString(root))
}

// Finish implements eventstore.Checker: it reports the checkpoints the
// log is too short to reach, and the sealed leaves it no longer holds.
func (c *Check) Finish() []eventstore.Problem {
	c.problems = nil
	if c.wrong > 1 {
		c.report(nil, "%d later witnessed checkpoints do not match the log either", c.wrong-1)
	}
	if c.next < len(c.checkpoints) {
		last := c.checkpoints[len(c.checkpoints)-1]
		what := fmt.Sprintf("the newest %d events were removed", last.Size-c.f.n)
		if c.diverged || c.wrong > 0 {
			what = fmt.Sprintf("%d of the events it covers are missing", last.Size-c.f.n)
		}
		c.report(nil, "the log holds %d events (the last at position %d), but a checkpoint "+
			"was witnessed for %d: %s", c.f.n, c.lastPos, last.Size, what)
	}
	if sealed, ok := c.sealedLeaf(nil, c.f.n); ok && !c.diverged {
		c.report(nil, "leaf %d was sealed from %s, which the log no longer holds: it and "+
			"whatever followed it were removed", sealed.Index, describeLeaf(sealed))
	}
	return c.problems
}

func hashString(h tlog.Hash) string { return eventstore.Hash(h).String() }
