package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
)

// Log is what Write reads the events from: the whole log, in position
// order. An eventstore.Store is one.
type Log interface {
	ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.Event, error)
}

// Prover is what Write asks for proofs. A *ledger.Tree is one.
type Prover interface {
	ProveInclusion(ctx context.Context, leaf, size int64) (tlog.RecordProof, error)
	ProveRange(ctx context.Context, begin, end, size int64) (left, right []tlog.Hash, err error)
}

// Options say what a bundle holds.
type Options struct {
	// Checkpoint is the signed checkpoint the proofs are against: the
	// bundle holds events among the log's first Checkpoint.Size.
	Checkpoint ledger.Checkpoint
	// Signer signs the manifest: the checkpoint's signer, whose verifier
	// key is VerifierKey.
	Signer      note.Signer
	VerifierKey string
	Scope       Scope
	// Payloads includes each event's data and salt where the log still
	// holds them; otherwise the bundle holds their digests only.
	Payloads bool
	// FHIR adds the events as FHIR R4 AuditEvent resources.
	FHIR bool
	// Describe says what each event means, for the FHIR AuditEvents and
	// for the students the bundle concerns (a student's scope selects by
	// them). It is called once for every event up to the checkpoint, in
	// order, so it may remember what earlier events said. Nil knows only
	// that a stream student-<id> is that student's.
	Describe func(*eventstore.Event) Audit
	ExportID string
	// CreatedAt is the manifest's time; zero means now.
	CreatedAt time.Time
	// TempDir holds the files while they are made, before the tar is
	// written; "" means the system's.
	TempDir string
}

// Summary is what Write wrote.
type Summary struct {
	Counts
	// Students are the students the events concern, sorted.
	Students []string
	TreeSize int64
	// Size and SHA256 are the bundle file's.
	Size   int64
	SHA256 [32]byte
}

// pageSize is how many events Write reads from the log at once.
const pageSize = 2000

//go:embed readme.txt
var readme []byte

// Write writes to w the bundle opts describe, from the first
// opts.Checkpoint.Size events of log and proofs from tree. It checks what
// it writes as it goes: an event that does not match its hash, a log
// shorter than the checkpoint or a proof that does not lead to the
// checkpoint's root stops it with an error naming the event, and no
// bundle should then be handed out. The events are staged in files under
// opts.TempDir, never held in memory.
func Write(ctx context.Context, w io.Writer, log Log, tree Prover, opts Options) (Summary, error) {
	if err := opts.check(); err != nil {
		return Summary{}, err
	}
	b, err := newBuilder(tree, opts)
	if err != nil {
		return Summary{}, err
	}
	defer b.close()
	if err := b.scan(ctx, log); err != nil {
		return Summary{}, err
	}
	return b.writeTar(w)
}

func (o *Options) check() error {
	switch {
	case o.Signer == nil || o.VerifierKey == "":
		return errors.New("bundle: a signer and its verifier key are required")
	case o.Checkpoint.Size < 1 || o.Checkpoint.Origin != o.Signer.Name():
		return errors.New("bundle: a checkpoint signed by the signer is required")
	}
	if o.Describe == nil {
		o.Describe = func(e *eventstore.Event) Audit {
			return Audit{Students: studentOfStream(e.Stream), Kind: KindOther}
		}
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	return o.Scope.Validate()
}

// builder stages a bundle's large files and counts what they hold.
type builder struct {
	opts                   Options
	tree                   Prover
	events, proofs, audits *staged
	counts                 Counts
	streams                map[string]struct{}
	students               map[string]struct{}
	run                    *run // the run of leaves being proved, if any
	line                   []byte
}

func newBuilder(tree Prover, opts Options) (*builder, error) {
	b := &builder{opts: opts, tree: tree,
		streams: map[string]struct{}{}, students: map[string]struct{}{}}
	var err error
	for _, s := range []**staged{&b.events, &b.proofs, &b.audits} {
		if *s, err = stage(opts.TempDir); err != nil {
			b.close()
			return nil, err
		}
	}
	return b, nil
}

func (b *builder) close() {
	for _, s := range []*staged{b.events, b.proofs, b.audits} {
		if s != nil {
			s.remove()
		}
	}
}

// scan reads the log up to the checkpoint and stages what the scope
// selects.
func (b *builder) scan(ctx context.Context, log Log) error {
	size := b.opts.Checkpoint.Size
	leaf := int64(0)
	for from := uint64(0); leaf < size; {
		page, err := log.ReadAll(ctx, from, pageSize)
		if err != nil {
			return fmt.Errorf("bundle: read the log: %w", err)
		}
		if len(page) == 0 {
			return fmt.Errorf("bundle: the log holds %d events, fewer than the checkpoint's %d",
				leaf, size)
		}
		for i := 0; i < len(page) && leaf < size; i++ {
			if err := b.add(ctx, &page[i], leaf); err != nil {
				return err
			}
			leaf++
		}
		from = page[len(page)-1].Position + 1
	}
	return b.endRun(ctx)
}

// add stages e, the log's leaf-th event, when the scope selects it.
func (b *builder) add(ctx context.Context, e *eventstore.Event, leaf int64) error {
	facts := b.opts.Describe(e)
	if !b.opts.Scope.selects(e, facts.Students) {
		return b.endRun(ctx)
	}
	if err := checkEvent(e); err != nil {
		return fmt.Errorf("bundle: position %d (stream %s revision %d): %w",
			e.Position, e.Stream, e.Revision, err)
	}
	if err := b.stageEvent(e, facts); err != nil {
		return err
	}
	if b.opts.Scope.contiguous() {
		return b.extendRun(ctx, leaf, ledger.LeafHash(e.Hash))
	}
	return b.proveOne(ctx, e, leaf)
}

// checkEvent recomputes e's digest, when its payload is present, and its
// hash from the stored bytes.
func checkEvent(e *eventstore.Event) error {
	if e.Data != nil && eventstore.DigestData(e.DataSalt, e.Data) != e.DataDigest {
		return errors.New("its data does not match its digest")
	}
	if eventstore.ComputeHash(e) != e.Hash {
		return errors.New("it does not match its hash")
	}
	return nil
}

func (b *builder) stageEvent(e *eventstore.Event, facts Audit) error {
	var err error
	if b.line, err = appendEventLine(b.line[:0], e, b.opts.Payloads); err != nil {
		return err
	}
	b.events.Write(b.line)
	b.counts.Events++
	if b.opts.Payloads && e.Data != nil {
		b.counts.Payloads++
	}
	b.streams[e.Stream] = struct{}{}
	for _, s := range facts.Students {
		b.students[s] = struct{}{}
	}
	if !b.opts.FHIR {
		return nil
	}
	if b.line, err = appendAuditEvent(b.line[:0], e, facts, b.opts.Checkpoint.Origin); err != nil {
		return err
	}
	b.audits.Write(b.line)
	b.counts.AuditEvents++
	return nil
}

// proveOne stages the inclusion proof of e's leaf, checked against the
// checkpoint first.
func (b *builder) proveOne(ctx context.Context, e *eventstore.Event, leaf int64) error {
	cp := b.opts.Checkpoint
	p, err := b.tree.ProveInclusion(ctx, leaf, cp.Size)
	if err != nil {
		return fmt.Errorf("bundle: prove leaf %d: %w", leaf, err)
	}
	if err := tlog.CheckRecord(p, cp.Size, cp.Root, leaf, ledger.LeafHash(e.Hash)); err != nil {
		return fmt.Errorf("bundle: leaf %d is not the event at position %d in the checkpoint's tree: %w",
			leaf, e.Position, err)
	}
	return b.stageProof(inclusionLine{Kind: kindInclusion, Leaf: leaf, EventID: e.ID.String(),
		Hashes: encodeHashes(p)})
}

func (b *builder) extendRun(ctx context.Context, leaf int64, h tlog.Hash) error {
	if b.run != nil && b.run.end() != leaf {
		if err := b.endRun(ctx); err != nil {
			return err
		}
	}
	if b.run == nil {
		b.run = newRun(leaf)
	}
	return b.run.add(h)
}

// endRun stages the range proof of the run of leaves just ended, if any,
// checked against the checkpoint first.
func (b *builder) endRun(ctx context.Context) error {
	r := b.run
	if r == nil {
		return nil
	}
	b.run = nil
	cp := b.opts.Checkpoint
	left, right, err := b.tree.ProveRange(ctx, r.begin, r.end(), cp.Size)
	if err != nil {
		return fmt.Errorf("bundle: prove leaves %d to %d: %w", r.begin, r.end()-1, err)
	}
	root, err := r.root(cp.Size, left, right)
	if err != nil || root != cp.Root {
		return fmt.Errorf("bundle: leaves %d to %d do not lead to the checkpoint's root: "+
			"the log differs from the tree that was signed", r.begin, r.end()-1)
	}
	return b.stageProof(rangeLine{Kind: kindRange, Leaf: r.begin, Count: r.end() - r.begin,
		Left: encodeHashes(left), Right: encodeHashes(right)})
}

func (b *builder) stageProof(line any) error {
	var err error
	if b.line, err = appendJSONLine(b.line[:0], line); err != nil {
		return err
	}
	b.proofs.Write(b.line)
	b.counts.Proofs++
	return nil
}

// writeTar writes the bundle: the small files, the staged ones, then the
// manifest and its signature.
func (b *builder) writeTar(w io.Writer) (Summary, error) {
	sum := Summary{Counts: b.counts, TreeSize: b.opts.Checkpoint.Size}
	sum.Streams = int64(len(b.streams))
	for s := range b.students {
		sum.Students = append(sum.Students, s)
	}
	slices.Sort(sum.Students)
	sum.Counts.Students = int64(len(sum.Students))

	out := &hashWriter{w: w, h: sha256.New()}
	tw := tar.NewWriter(out)
	var files []File
	add := func(name string, size int64, r io.Reader) error {
		h := sha256.New()
		if err := tw.WriteHeader(header(name, size)); err != nil {
			return err
		}
		if _, err := io.Copy(io.MultiWriter(tw, h), r); err != nil {
			return err
		}
		files = append(files, File{Name: name, Size: size, SHA256: fmt.Sprintf("%x", h.Sum(nil))})
		return nil
	}
	small := func(name string, data []byte) func() error {
		return func() error { return add(name, int64(len(data)), bytes.NewReader(data)) }
	}
	steps := []func() error{
		small(FileReadme, readme),
		small(FileVerifierKey, []byte(b.opts.VerifierKey+"\n")),
		small(FileCheckpoint, b.opts.Checkpoint.Note),
		func() error { return b.events.addTo(FileEvents, add) },
		func() error { return b.proofs.addTo(FileProofs, add) },
	}
	if b.opts.FHIR {
		steps = append(steps, func() error { return b.audits.addTo(FileAuditEvents, add) })
	}
	if err := inOrder(steps); err != nil {
		return Summary{}, err
	}
	manifest, sig, err := b.manifest(sum, files)
	if err != nil {
		return Summary{}, err
	}
	last := []func() error{small(FileManifest, manifest), small(FileManifestSig, sig), tw.Close}
	if err := inOrder(last); err != nil {
		return Summary{}, err
	}
	sum.Size = out.n
	copy(sum.SHA256[:], out.h.Sum(nil))
	return sum, nil
}

// inOrder runs steps in order until one fails.
func inOrder(steps []func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("bundle: write: %w", err)
		}
	}
	return nil
}

// manifest returns manifest.json and manifest.sig.
func (b *builder) manifest(sum Summary, files []File) (manifest, sig []byte, err error) {
	m := Manifest{
		Format: FormatVersion, ExportID: b.opts.ExportID, Origin: b.opts.Checkpoint.Origin,
		Scope: b.opts.Scope, Payloads: b.opts.Payloads,
		CreatedAt: b.opts.CreatedAt.UTC().Truncate(time.Microsecond),
		TreeSize:  b.opts.Checkpoint.Size, RootHash: b.opts.Checkpoint.Root.String(),
		Counts: sum.Counts, Files: files,
	}
	manifest, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	manifest = append(manifest, '\n')
	sig, err = note.Sign(&note.Note{Text: manifestSigText(sha256.Sum256(manifest))}, b.opts.Signer)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: sign the manifest: %w", err)
	}
	return manifest, sig, nil
}

// staged is a file of the bundle being made in a temporary file.
type staged struct {
	f   *os.File
	buf *bufio.Writer
	n   int64
	err error
}

func stage(dir string) (*staged, error) {
	f, err := os.CreateTemp(dir, ".bundle-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return &staged{f: f, buf: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Write appends p; the first error is kept for addTo to return.
func (s *staged) Write(p []byte) {
	if s.err != nil {
		return
	}
	var n int
	n, s.err = s.buf.Write(p)
	s.n += int64(n)
}

// addTo hands the staged file, from its start, to add as file name.
func (s *staged) addTo(name string, add func(string, int64, io.Reader) error) error {
	if s.err == nil {
		s.err = s.buf.Flush()
	}
	if s.err != nil {
		return s.err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return add(name, s.n, bufio.NewReaderSize(s.f, 1<<16))
}

func (s *staged) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// hashWriter counts and hashes what it passes on.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}
