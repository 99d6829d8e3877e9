package bundle

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
)

// maxLine is the longest line a bundle's NDJSON may hold: an event of the
// largest payload the log takes, in base64, with room to spare.
const maxLine = 4 << 20

// lines reads one file of the bundle a line at a time.
type lines struct {
	e    entry
	r    *bufio.Reader
	n    int   // lines read
	at   int64 // bundle offset of the line last read
	next int64 // bundle offset of the next line
	buf  []byte
}

func (v *verifier) lines(e entry) *lines {
	return &lines{e: e, r: bufio.NewReaderSize(v.section(e), bufferSize(e.size)), next: e.offset}
}

// problem is a problem of the line last read.
func (l *lines) problem(event *eventstore.Event, format string, args ...any) *Problem {
	p := &Problem{File: l.e.name, Line: l.n, Offset: l.at, What: fmt.Sprintf(format, args...)}
	if event != nil {
		p.Event = describe(event)
	}
	return p
}

func describe(e *eventstore.Event) string {
	return fmt.Sprintf("event %s (stream %s revision %d)", e.ID, e.Stream, e.Revision)
}

// read returns the next line without its newline, valid until the next
// read, or false at the end of the file.
func (l *lines) read() ([]byte, bool, *Problem) {
	l.at = l.next
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if err == nil && len(l.buf) == 0 {
			l.n++
			l.next += int64(len(chunk))
			return chunk[:len(chunk)-1], true, nil
		}
		l.buf = append(l.buf, chunk...)
		switch {
		case len(l.buf) > maxLine:
			l.n++
			return nil, false, l.problem(nil, "a line longer than %d bytes", maxLine)
		case err == nil:
			l.n++
			l.next += int64(len(l.buf))
			return l.buf[:len(l.buf)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(l.buf) == 0:
			return nil, false, nil
		case errors.Is(err, io.EOF):
			l.n++
			return nil, false, l.problem(nil, "the last line does not end in a newline")
		}
		return nil, false, l.problem(nil, "%v", err)
	}
}

// head is the last event of a stream seen so far.
type head struct {
	revision uint64
	hash     eventstore.Hash
}

// eventCheck walks events.ndjson, proofs.ndjson and the AuditEvents side
// by side.
type eventCheck struct {
	cp                     ledger.Checkpoint
	m                      Manifest
	events, proofs, audits *lines
	heads                  map[string]head
	lastPosition           uint64
	nextLeaf               int64 // the first leaf the next proof may prove
	counts                 Counts
	// disorder is the first event whose position does not follow the
	// previous one's.
	disorder *Problem
}

func (v *verifier) checkEvents() *Problem {
	c := &eventCheck{
		cp: v.report.Checkpoint, m: v.report.Manifest, heads: map[string]head{},
		events: v.lines(v.entries[FileEvents]), proofs: v.lines(v.entries[FileProofs]),
	}
	if e, ok := v.entries[FileAuditEvents]; ok {
		c.audits = v.lines(e)
	}
	if p := c.walk(); p != nil {
		return p
	}
	c.counts.Streams = int64(len(c.heads))
	v.report.Counts, v.disorder = c.counts, c.disorder
	return nil
}

func (c *eventCheck) walk() *Problem {
	for {
		line, ok, p := c.proofs.read()
		if p != nil {
			return p
		}
		if !ok {
			break
		}
		if p := c.proof(line); p != nil {
			return p
		}
		c.counts.Proofs++
	}
	return c.finish()
}

// finish checks that no event or AuditEvent is left unproved, and that a
// bundle of the whole log proved every leaf.
func (c *eventCheck) finish() *Problem {
	if _, ok, p := c.events.read(); p != nil || ok {
		if p != nil {
			return p
		}
		return c.events.problem(nil, "no line of %s proves this event", FileProofs)
	}
	if c.audits != nil {
		if _, ok, p := c.audits.read(); p != nil || ok {
			if p != nil {
				return p
			}
			return c.audits.problem(nil, "more AuditEvents than events")
		}
	}
	if c.m.Scope.All && (c.counts.Proofs != 1 || c.nextLeaf != c.cp.Size) {
		return &Problem{File: FileProofs, Offset: c.proofs.e.offset, What: fmt.Sprintf(
			"a bundle of the whole log proves its %d leaves in one range", c.cp.Size)}
	}
	return nil
}

// proof checks one line of proofs.ndjson and the events it proves.
func (c *eventCheck) proof(line []byte) *Problem {
	var pl proofLine
	if err := json.Unmarshal(line, &pl); err != nil {
		return c.proofs.problem(nil, "not a proof's JSON: %v", err)
	}
	again, err := pl.encode()
	if err != nil || string(again[:len(again)-1]) != string(line) {
		return c.proofs.problem(nil, "not in the form this format writes")
	}
	want := kindInclusion
	if c.m.Scope.contiguous() {
		want = kindRange
	}
	switch {
	case pl.Kind != want:
		return c.proofs.problem(nil, "a bundle of this scope proves its events with %s proofs", want)
	case pl.Leaf < c.nextLeaf:
		return c.proofs.problem(nil, "leaf %d comes after leaf %d was proved", pl.Leaf, c.nextLeaf-1)
	case pl.Kind == kindInclusion:
		return c.inclusion(pl)
	}
	return c.rangeProof(pl)
}

func (c *eventCheck) inclusion(pl proofLine) *Problem {
	if pl.Leaf >= c.cp.Size {
		return c.proofs.problem(nil, "leaf %d is not in a tree of %d leaves", pl.Leaf, c.cp.Size)
	}
	e, p := c.event()
	if p != nil {
		return p
	}
	if pl.EventID != e.ID.String() {
		return c.proofs.problem(e, "it proves event %s, but line %d of %s holds another",
			pl.EventID, c.events.n, FileEvents)
	}
	hashes, err := decodeHashes("hashes", pl.Hashes)
	if err != nil {
		return c.proofs.problem(e, "%v", err)
	}
	err = tlog.CheckRecord(hashes, c.cp.Size, c.cp.Root, pl.Leaf, ledger.LeafHash(e.Hash))
	if err != nil {
		return c.proofs.problem(e, "the inclusion proof of leaf %d does not lead to the "+
			"checkpoint's root", pl.Leaf)
	}
	c.nextLeaf = pl.Leaf + 1
	return nil
}

func (c *eventCheck) rangeProof(pl proofLine) *Problem {
	if pl.Count < 1 || pl.Leaf+pl.Count > c.cp.Size {
		return c.proofs.problem(nil, "leaves %d to %d are not in a tree of %d leaves",
			pl.Leaf, pl.Leaf+pl.Count-1, c.cp.Size)
	}
	r := newRun(pl.Leaf)
	for range pl.Count {
		e, p := c.event()
		if p != nil {
			return p
		}
		if err := r.add(ledger.LeafHash(e.Hash)); err != nil {
			return c.proofs.problem(e, "%v", err)
		}
	}
	left, err := decodeHashes("left", pl.Left)
	if err != nil {
		return c.proofs.problem(nil, "%v", err)
	}
	right, err := decodeHashes("right", pl.Right)
	if err != nil {
		return c.proofs.problem(nil, "%v", err)
	}
	if root, err := r.root(c.cp.Size, left, right); err != nil || root != c.cp.Root {
		return c.proofs.problem(nil, "the range proof of leaves %d to %d does not lead to the "+
			"checkpoint's root", pl.Leaf, pl.Leaf+pl.Count-1)
	}
	c.nextLeaf = pl.Leaf + pl.Count
	return nil
}

// event reads and checks the next event, which a proof says is there.
func (c *eventCheck) event() (*eventstore.Event, *Problem) {
	line, ok, p := c.events.read()
	if p != nil {
		return nil, p
	}
	if !ok {
		return nil, c.proofs.problem(nil, "it proves more events than %s holds", FileEvents)
	}
	e, err := parseEventLine(line)
	if err != nil {
		return nil, c.events.problem(nil, "%v", err)
	}
	if again, err := appendEventLine(nil, &e, true); err != nil ||
		string(again[:len(again)-1]) != string(line) {
		return nil, c.events.problem(&e, "not in the form this format writes")
	}
	for _, check := range []func(*eventstore.Event) string{c.hashes, c.chain, c.inScope} {
		if what := check(&e); what != "" {
			return nil, c.events.problem(&e, "%s", what)
		}
	}
	c.counts.Events++
	if e.Data != nil {
		c.counts.Payloads++
	}
	return &e, c.audit(&e)
}

// hashes recomputes e's digest, when its payload is present, and its
// hash.
func (c *eventCheck) hashes(e *eventstore.Event) string {
	if e.Data != nil && eventstore.DigestData(e.DataSalt, e.Data) != e.DataDigest {
		return "its data does not match its data_digest: the payload was changed"
	}
	if eventstore.ComputeHash(e) != e.Hash {
		return "its hash is not what its stored fields hash to: the event was changed"
	}
	// Positions are not hashed: a changed one is the manifest's to
	// catch, and only when it does not is the order reported.
	if e.Position <= c.lastPosition && c.disorder == nil {
		c.disorder = c.events.problem(e, "position %d comes after position %d",
			e.Position, c.lastPosition)
	}
	c.lastPosition = e.Position
	return ""
}

// chain checks e's link to the previous event of its stream when the
// bundle holds both; in a bundle of the whole log, every stream whole.
func (c *eventCheck) chain(e *eventstore.Event) string {
	h, seen := c.heads[e.Stream]
	c.heads[e.Stream] = head{revision: e.Revision, hash: e.Hash}
	switch {
	case e.Revision == 0 && !e.PrevHash.IsZero():
		return "revision 0 of a stream must have a prev_hash of zero bytes"
	case !seen && c.m.Scope.All && e.Revision != 0:
		return "a bundle of the whole log holds the stream from revision 0, but it starts here"
	case !seen:
		return ""
	case e.Revision <= h.revision:
		return fmt.Sprintf("revision %d comes after revision %d of its stream", e.Revision, h.revision)
	case e.Revision == h.revision+1 && e.PrevHash != h.hash:
		return fmt.Sprintf("its prev_hash is not the hash of revision %d, the stream's previous "+
			"event: the chain is broken", h.revision)
	case c.m.Scope.All && e.Revision != h.revision+1:
		return fmt.Sprintf("revisions %d to %d of its stream are missing from a bundle of the "+
			"whole log", h.revision+1, e.Revision-1)
	}
	return ""
}

// inScope checks what the bundle's scope and payload choice say of e.
func (c *eventCheck) inScope(e *eventstore.Event) string {
	s := c.m.Scope
	switch {
	case !c.m.Payloads && e.Data != nil:
		return "it holds data, but the manifest says the bundle holds digests only"
	case s.From != nil && !s.selects(e, nil):
		return "it was recorded outside the bundle's time range"
	case s.ActorID != "" && !s.selects(e, nil):
		return "its metadata does not name the bundle's actor"
	}
	return ""
}

// audit checks the AuditEvent made of e, when the bundle has them.
func (c *eventCheck) audit(e *eventstore.Event) *Problem {
	if c.audits == nil {
		return nil
	}
	line, ok, p := c.audits.read()
	if p != nil {
		return p
	}
	if !ok {
		return c.events.problem(e, "%s holds no AuditEvent for it", FileAuditEvents)
	}
	if err := checkAuditEvent(line, e); err != nil {
		return c.audits.problem(e, "%v", err)
	}
	c.counts.AuditEvents++
	return nil
}
