package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
)

// entry is one file of the tar: where its header and content are, and
// the SHA-256 of its content.
type entry struct {
	name   string
	header int64
	offset int64
	size   int64
	sha256 [32]byte
}

// end is the offset just past the entry's content.
func (e entry) end() int64 { return e.offset + e.size }

const block = 512

func align(n int64) int64 { return (n + block - 1) / block * block }

// structure reads the whole tar and re-encodes what it reads in the
// canonical form: the canonical header of each file's name and size, its
// content, zero padding and the two zero blocks that end the archive.
// Any byte of the file that differs from that re-encoding, or a file out
// of place, is a problem named by its offset.
func (v *verifier) structure() ([]entry, *Problem) {
	whole := func() *bufio.Reader {
		return bufio.NewReaderSize(io.NewSectionReader(v.r, 0, v.size), bufferSize(v.size))
	}
	src := tar.NewReader(whole())
	cmp := &comparer{orig: whole(), bad: -1}
	tw := tar.NewWriter(cmp)
	var entries []entry
	for {
		at := align(cmp.n)
		h, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Problem{Offset: at, What: fmt.Sprintf("not a valid tar header %s (%v)",
				after(entries), err)}
		}
		if p := checkOrder(entries, h.Name, at); p != nil {
			return nil, p
		}
		e := entry{name: h.Name, header: at, size: h.Size}
		if err := tw.WriteHeader(header(h.Name, h.Size)); err != nil {
			return nil, &Problem{File: h.Name, Offset: at,
				What: "its header cannot be re-encoded: " + err.Error()}
		}
		if p := cmp.problem(entries, e); p != nil {
			return nil, p
		}
		e.offset = cmp.n
		sum := sha256.New()
		cmp.trust = true
		_, err = io.CopyBuffer(io.MultiWriter(tw, sum), src, v.buffer())
		cmp.trust = false
		if err != nil {
			return nil, &Problem{File: h.Name, Offset: e.offset,
				What: "the file's content is cut short: " + err.Error()}
		}
		sum.Sum(e.sha256[:0])
		entries = append(entries, e)
	}
	return entries, v.finish(tw, cmp, entries)
}

// finish checks the end of the archive and that no required file is
// missing.
func (v *verifier) finish(tw *tar.Writer, cmp *comparer, entries []entry) *Problem {
	if err := tw.Close(); err != nil {
		return &Problem{Offset: cmp.n, What: "the archive cannot be re-encoded: " + err.Error()}
	}
	if p := cmp.problem(entries, entry{}); p != nil {
		return p
	}
	if n, _ := io.Copy(io.Discard, cmp.orig); n > 0 {
		return &Problem{Offset: cmp.n, What: fmt.Sprintf("%d bytes follow the end of the archive", n)}
	}
	if missing := missingFiles(entries); len(missing) > 0 {
		return &Problem{File: missing[0], Offset: -1, What: "the bundle does not hold it"}
	}
	return nil
}

// checkOrder refuses a file the format does not name, one out of order,
// and a required file skipped.
func checkOrder(entries []entry, name string, at int64) *Problem {
	i := slices.Index(fileOrder, name)
	next := 0
	if len(entries) > 0 {
		next = slices.Index(fileOrder, entries[len(entries)-1].name) + 1
	}
	switch {
	case i < 0:
		return &Problem{File: name, Offset: at, What: "a bundle holds no file of that name"}
	case i < next:
		return &Problem{File: name, Offset: at, What: "out of place: it comes " + after(entries)}
	}
	for _, skipped := range fileOrder[next:i] {
		if skipped != FileAuditEvents {
			return &Problem{File: skipped, Offset: at, What: "the bundle does not hold it; " +
				name + " comes in its place"}
		}
	}
	return nil
}

func missingFiles(entries []entry) []string {
	var out []string
	for _, name := range fileOrder {
		held := slices.ContainsFunc(entries, func(e entry) bool { return e.name == name })
		if !held && name != FileAuditEvents {
			out = append(out, name)
		}
	}
	return out
}

// after says where in the archive a header sits.
func after(entries []entry) string {
	if len(entries) == 0 {
		return "at the start of the archive"
	}
	return "after " + entries[len(entries)-1].name
}

// comparer compares what a tar.Writer writes with the original file, and
// remembers the first byte that differs.
type comparer struct {
	orig *bufio.Reader
	n    int64 // bytes written so far
	bad  int64 // offset of the first difference; -1 while there is none
	// short is set when the original ended before what was written.
	short bool
	// trust skips the comparison, for content that was read from the
	// original itself.
	trust   bool
	scratch []byte
}

func (c *comparer) Write(p []byte) (int, error) {
	defer func() { c.n += int64(len(p)) }()
	if c.bad >= 0 {
		return len(p), nil
	}
	if c.trust {
		n, _ := c.orig.Discard(len(p))
		c.endsAt(n, len(p))
		return len(p), nil
	}
	if cap(c.scratch) < len(p) {
		c.scratch = make([]byte, len(p))
	}
	buf := c.scratch[:len(p)]
	n, _ := io.ReadFull(c.orig, buf)
	if i := firstDifference(buf[:n], p[:n]); i >= 0 {
		c.bad = c.n + int64(i)
		return len(p), nil
	}
	c.endsAt(n, len(p))
	return len(p), nil
}

// endsAt records that the original ended after n of the want bytes
// written, if it did.
func (c *comparer) endsAt(n, want int) {
	if n < want {
		c.bad, c.short = c.n+int64(n), true
	}
}

func firstDifference(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// problem describes the first difference, if any: in the header being
// written (of e), in the padding after the previous file, or in the end of
// the archive.
func (c *comparer) problem(entries []entry, e entry) *Problem {
	if c.bad < 0 {
		return nil
	}
	p := &Problem{Offset: c.bad}
	if c.short {
		p.What = "the bundle ends here, before the end of the archive"
		return p
	}
	var prev *entry
	if len(entries) > 0 {
		prev = &entries[len(entries)-1]
	}
	switch {
	case prev != nil && c.bad < align(prev.end()):
		p.File, p.What = prev.name, "the padding after the file's content is not all zero bytes"
	case e.name != "":
		p.File, p.What = e.name, fmt.Sprintf("the file's tar header differs from the canonical "+
			"one at its byte %d", c.bad-e.header)
	default:
		p.What = "the two zero blocks that end the archive are not all zero bytes"
	}
	return p
}

// buffer returns the verifier's one copy buffer.
func (v *verifier) buffer() []byte {
	if v.copyBuf == nil {
		v.copyBuf = make([]byte, bufferSize(v.size))
	}
	return v.copyBuf
}

// bufferSize is the size of a buffer to read n bytes through: no larger
// than they need, up to 64 KiB.
func bufferSize(n int64) int { return int(min(max(n, 4096), 1<<16)) }

// section returns the content of e, whole.
func (v *verifier) section(e entry) *io.SectionReader {
	return io.NewSectionReader(v.r, e.offset, e.size)
}

// small reads e's content, which must be at most limit bytes.
func (v *verifier) small(e entry, limit int64) ([]byte, *Problem) {
	if e.size > limit {
		return nil, &Problem{File: e.name, Offset: e.offset,
			What: fmt.Sprintf("%d bytes; a file of its kind holds at most %d", e.size, limit)}
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, v.section(e)); err != nil {
		return nil, &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	return buf.Bytes(), nil
}
