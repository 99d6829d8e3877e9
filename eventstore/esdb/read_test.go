package esdb

import (
	"math"
	"slices"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/whitecross/whitecross/eventstore"
)

func TestStreamStart(t *testing.T) {
	cases := []struct {
		name    string
		opts    eventstore.ReadOptions
		wantDir esdb.Direction
		want    esdb.StreamPosition
	}{
		{"forwards from 0", eventstore.ReadOptions{}, esdb.Forwards, esdb.Revision(0)},
		{"forwards from 7", eventstore.ReadOptions{From: 7}, esdb.Forwards, esdb.Revision(7)},
		{"forwards from End", eventstore.ReadOptions{From: eventstore.End},
			esdb.Forwards, esdb.Revision(math.MaxInt64)},
		{"backwards from End", eventstore.ReadOptions{From: eventstore.End, Backwards: true},
			esdb.Backwards, esdb.End{}},
		{"backwards from 1", eventstore.ReadOptions{From: 1, Backwards: true},
			esdb.Backwards, esdb.Revision(1)},
		{"backwards past any revision", eventstore.ReadOptions{From: 1 << 63, Backwards: true},
			esdb.Backwards, esdb.End{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, got := streamStart(c.opts)
			if dir != c.wantDir || got != c.want {
				t.Fatalf("got %v from %#v, want %v from %#v", dir, got, c.wantDir, c.want)
			}
		})
	}
}

func TestPastEnd(t *testing.T) {
	revisions := func(rs ...uint64) []*esdb.RecordedEvent {
		out := make([]*esdb.RecordedEvent, len(rs))
		for i, r := range rs {
			out[i] = &esdb.RecordedEvent{EventNumber: r}
		}
		return out
	}
	back := func(from uint64) eventstore.ReadOptions {
		return eventstore.ReadOptions{From: from, Backwards: true, Limit: 3}
	}
	cases := []struct {
		name string
		opts eventstore.ReadOptions
		raw  []*esdb.RecordedEvent
		want bool
	}{
		{"forwards", eventstore.ReadOptions{From: 100}, nil, false},
		{"backwards from End", back(eventstore.End), revisions(9, 8, 7), false},
		{"backwards within", back(5), revisions(5, 4, 3), false},
		{"backwards from 0", back(0), revisions(0), false},
		{"backwards far past the end", back(100), nil, true},
		{"backwards just past the end", back(10), revisions(9, 8), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pastEnd(c.opts, c.raw); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAllPosition(t *testing.T) {
	got := allPosition(1788)
	if got != (esdb.Position{Commit: 1788, Prepare: 1788}) {
		t.Fatalf("got %+v, want commit and prepare 1788", got)
	}
}

func TestCut(t *testing.T) {
	at := func(pos uint64) esdb.AllPosition { return allPosition(pos) }
	cases := []struct {
		name     string
		cur      cursor
		raw      []uint64 // positions read, n+1 at most
		n        int
		want     []uint64
		wantNext cursor
		wantMore bool
	}{
		{"first page from the start", cursor{at: esdb.Start{}, next: 0},
			[]uint64{10, 20, 30, 40}, 3,
			[]uint64{10, 20, 30}, cursor{at: at(30), next: 31}, true},
		{"next page drops the event already seen", cursor{at: at(30), next: 31},
			[]uint64{30, 40, 50}, 3,
			[]uint64{40, 50}, cursor{at: at(50), next: 51}, false},
		{"full next page", cursor{at: at(30), next: 31},
			[]uint64{30, 40, 50}, 2,
			[]uint64{40, 50}, cursor{at: at(50), next: 51}, true},
		{"from the event below from", cursor{at: at(5), next: 8},
			[]uint64{5, 9}, 2,
			[]uint64{9}, cursor{at: at(9), next: 10}, false},
		{"nothing new", cursor{at: at(30), next: 31},
			[]uint64{30}, 2,
			nil, cursor{at: at(30), next: 31}, false},
		{"pages of one move on", cursor{at: at(30), next: 31},
			[]uint64{30, 40}, 1,
			[]uint64{40}, cursor{at: at(40), next: 41}, true},
		{"the end of the log", cursor{at: at(30), next: 31},
			nil, 5,
			nil, cursor{at: at(30), next: 31}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := make([]*esdb.RecordedEvent, len(c.raw))
			for i, pos := range c.raw {
				raw[i] = &esdb.RecordedEvent{Position: allPosition(pos)}
			}
			p := cut(raw, c.cur, c.n)
			var got []uint64
			for _, r := range p.events {
				got = append(got, r.Position.Commit)
			}
			if !slices.Equal(got, c.want) || p.next != c.wantNext || p.more != c.wantMore {
				t.Fatalf("got %v, next %+v, more %v; want %v, next %+v, more %v",
					got, p.next, p.more, c.want, c.wantNext, c.wantMore)
			}
		})
	}
}
