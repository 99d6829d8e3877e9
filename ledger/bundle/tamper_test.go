package bundle_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/whitecross/whitecross/ledger/bundle"
)

// TestEveryByteChangeIsFound changes every byte of two small bundles in
// turn, each in two ways (its lowest bit, and its 0x20 bit, which turns a
// NUL into a space and a letter into the other case: changes that lenient
// parsers forgive), then a random sample of other values, and checks that
// each changed bundle fails to verify with a problem that points at the
// place changed: the header, padding or end block holding the byte, or
// the file whose content holds it, and the line, when it names one.
func TestEveryByteChangeIsFound(t *testing.T) {
	fx := newFixture(t)
	all := fx.seedSmall(t)
	from, to := all[1].RecordedAt, all[4].RecordedAt
	inclusion, _ := fx.export(t, bundle.Scope{ActorID: nurseA}, true, true)
	ranged, _ := fx.export(t, bundle.Scope{From: &from, To: &to}, false, false)
	for name, path := range map[string]string{"inclusion proofs": inclusion, "range proof": ranged} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := mustRead(t, path)
			if _, err := bundle.Verify(bytes.NewReader(raw), int64(len(raw)), bundle.VerifyOptions{}); err != nil {
				t.Fatalf("the unchanged bundle: %v", err)
			}
			regions := regionsOf(t, raw)
			changed := bytes.Clone(raw)
			try := func(at int, value byte) {
				changed[at] = value
				defer func() { changed[at] = raw[at] }()
				_, err := bundle.Verify(bytes.NewReader(changed), int64(len(changed)), bundle.VerifyOptions{})
				var p *bundle.Problem
				if !errors.As(err, &p) {
					t.Fatalf("byte %d changed from %#x to %#x: verified (%v)", at, raw[at], value, err)
				}
				if why := regions.explains(at, p); why != "" {
					t.Fatalf("byte %d (%s) changed from %#x to %#x: %v\n%s", at, regions.name(at),
						raw[at], value, p, why)
				}
			}
			for at := range raw {
				try(at, raw[at]^0x01)
				try(at, raw[at]^0x20)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 2000 {
				at := rng.IntN(len(raw))
				if v := byte(rng.IntN(256)); v != raw[at] {
					try(at, v)
				}
			}
			t.Logf("%d bytes, each changed and found", len(raw))
		})
	}
}

// regions are the parts of a tar: each file's header, content and
// padding, then the end of the archive.
type regions struct {
	files []member
	end   int64
	size  int64
}

func regionsOf(t *testing.T, raw []byte) regions {
	ms, end := members(t, raw)
	return regions{files: ms, end: end, size: int64(len(raw))}
}

func (r regions) name(at int) string {
	off := int64(at)
	for _, m := range r.files {
		switch {
		case off < m.offset && off >= m.header:
			return "header of " + m.name
		case off >= m.offset && off < m.offset+int64(len(m.data)):
			return "content of " + m.name
		case off >= m.offset && off < (m.offset+int64(len(m.data))+511)/512*512:
			return "padding of " + m.name
		}
	}
	return "end of the archive"
}

// explains returns "" when p points at the byte at: why not otherwise.
func (r regions) explains(at int, p *bundle.Problem) string {
	off := int64(at)
	for _, m := range r.files {
		contentEnd := m.offset + int64(len(m.data))
		switch {
		case off >= m.header && off < m.offset:
			if p.Offset < m.header || p.Offset >= m.offset {
				return "the problem is not in the header's 512 bytes"
			}
			return ""
		case off >= m.offset && off < contentEnd:
			return inContent(m, off, p)
		case off >= contentEnd && off < (contentEnd+511)/512*512:
			if p.Offset != off || p.File != m.name {
				return "the problem does not name this byte of the padding"
			}
			return ""
		}
	}
	if p.Offset < r.end || p.Offset >= r.size {
		return "the problem is not in the end blocks"
	}
	return ""
}

// inContent checks that p names m, and when it names a place, one at or
// before the byte, on its line.
func inContent(m member, off int64, p *bundle.Problem) string {
	if p.File != m.name {
		return "the problem does not name " + m.name
	}
	if p.Offset < 0 {
		return ""
	}
	if p.Offset > off || p.Offset < m.offset {
		return "the problem's offset is not at or before the byte, in the file"
	}
	if p.Line == 0 {
		return ""
	}
	lineEnd := bytes.IndexByte(m.data[p.Offset-m.offset:], '\n')
	if lineEnd < 0 || off > p.Offset+int64(lineEnd) {
		return "the byte is not on the line the problem names"
	}
	return ""
}
