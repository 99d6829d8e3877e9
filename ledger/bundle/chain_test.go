package bundle

import (
	"strings"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
)

// TestChainLinks checks the links between events of one stream that a
// bundle holds: a prev_hash that is not the previous revision's hash, a
// revision out of order, and, in a bundle of the whole log, a stream that
// does not start at revision 0 or has a gap.
func TestChainLinks(t *testing.T) {
	first := eventstore.Event{Stream: "student-a", Type: "Tested", SchemaVersion: 1, Metadata: []byte("{}")}
	first.Hash = eventstore.ComputeHash(&first)
	linked := func(rev uint64, prev eventstore.Hash) eventstore.Event {
		e := first
		e.Revision, e.PrevHash = rev, prev
		e.Hash = eventstore.ComputeHash(&e)
		return e
	}
	cases := []struct {
		name   string
		all    bool
		events []eventstore.Event
		want   string // "" for no problem
	}{
		{"linked", true, []eventstore.Event{first, linked(1, first.Hash)}, ""},
		{"a gap, not the whole log", false, []eventstore.Event{first, linked(3, eventstore.Hash{9})}, ""},
		{"broken link", false, []eventstore.Event{first, linked(1, eventstore.Hash{9})}, "chain is broken"},
		{"revision repeated", false, []eventstore.Event{first, linked(0, eventstore.Hash{})}, "comes after"},
		{"first event not revision 0", true, []eventstore.Event{linked(1, first.Hash)}, "starts here"},
		{"a gap in the whole log", true, []eventstore.Event{first, linked(2, eventstore.Hash{9})}, "missing"},
		{"revision 0 chained", false, []eventstore.Event{linked(0, eventstore.Hash{1})}, "zero bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ec := &eventCheck{heads: map[string]head{}, m: Manifest{Scope: Scope{All: c.all}}}
			if !c.all {
				ec.m.Scope = Scope{StudentID: "a"}
			}
			got := ""
			for i := range c.events {
				if got = ec.chain(&c.events[i]); got != "" {
					break
				}
			}
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Errorf("problem %q, want one saying %q", got, c.want)
			}
		})
	}
}
