package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// maxLogLimit bounds how many events one `whitecross log` prints.
const maxLogLimit = 10_000

// runLog answers `whitecross log [--stream NAME] [--from POS] [--limit
// N]`: the events of the log, or of one stream, from a position on, one a
// line, with their position, recorded time, stream, type and the actor's
// ID and role. It prints identifiers only, never an event's data, which
// may hold health information. When more events follow, it says on
// standard error where to continue.
func runLog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("log", stderr)
	stream := fs.String("stream", "", "only this stream's events, such as user-<id>")
	from := fs.Uint64("from", 0, "the first log position to print")
	limit := fs.Int("limit", 100, fmt.Sprintf("the most events to print, 1 to %d", maxLogLimit))
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > maxLogLimit {
		fmt.Fprintf(stderr, "whitecross log: --limit must be 1 to %d\n", maxLogLimit)
		return exitError{code: 2}
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()

	events, more, err := readLog(ctx, d.store, *stream, *from, *limit)
	if err != nil {
		return err
	}
	if err := printLog(stdout, events); err != nil {
		return err
	}
	if more {
		fmt.Fprintf(stderr, "more events follow: --from %d\n", events[len(events)-1].Position+1)
	}
	return nil
}

// readLog returns up to limit events at positions from on, of stream or,
// when stream is empty, of the whole log, and whether more follow.
func readLog(
	ctx context.Context,
	store eventstore.Store,
	stream string,
	from uint64,
	limit int,
) ([]eventstore.Event, bool, error) {
	if stream == "" {
		events, err := store.ReadAll(ctx, from, limit+1)
		if err != nil {
			return nil, false, err
		}
		return trim(events, limit)
	}
	var events []eventstore.Event
	for revision := uint64(0); len(events) <= limit; {
		page, err := store.ReadStream(ctx, stream, eventstore.ReadOptions{From: revision, Limit: 1000})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, false, fmt.Errorf("no stream %s in the log", stream)
		}
		if err != nil {
			return nil, false, err
		}
		for _, e := range page {
			if e.Position >= from {
				events = append(events, e)
			}
		}
		if len(page) < 1000 {
			break
		}
		revision = page[len(page)-1].Revision + 1
	}
	return trim(events, limit)
}

// trim keeps the first limit events, and tells whether there were more.
func trim(events []eventstore.Event, limit int) ([]eventstore.Event, bool, error) {
	if len(events) > limit {
		return events[:limit], true, nil
	}
	return events, false, nil
}

// printLog writes events one a line, under a header, in columns.
func printLog(w io.Writer, events []eventstore.Event) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POSITION\tRECORDED\tSTREAM\tTYPE\tACTOR\tROLE")
	for _, e := range events {
		m, err := e.DecodeMetadata()
		if err != nil {
			return fmt.Errorf("event %d: metadata: %w", e.Position, err)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Position, e.RecordedAt.UTC().Format(time.RFC3339),
			e.Stream, e.Type, orDash(m.ActorID), orDash(m.ActorRole))
	}
	return tw.Flush()
}
