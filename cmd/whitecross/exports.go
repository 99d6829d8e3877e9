package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// ledgerBundler makes export bundles of the log with the ledger: a
// checkpoint the running sealer signs for the occasion, proofs from its
// tree, the manifest signed with its key.
type ledgerBundler struct {
	sealer      *ledger.Sealer
	log         eventstore.Store
	signer      note.Signer
	verifierKey string
	tempDir     string
}

var _ commands.Bundler = ledgerBundler{}

// Bundle implements commands.Bundler.
func (b ledgerBundler) Bundle(
	ctx context.Context,
	w io.Writer,
	req commands.BundleRequest,
) (commands.BundleSummary, error) {
	cp, err := b.checkpoint(ctx)
	if err != nil {
		return commands.BundleSummary{}, err
	}
	s := req.Scope
	sum, err := bundle.Write(ctx, w, b.log, b.sealer.Tree(), bundle.Options{
		Checkpoint: cp, Signer: b.signer, VerifierKey: b.verifierKey,
		Scope: bundle.Scope{StudentID: s.StudentID, ActorID: s.ActorID, From: s.From, To: s.To,
			All: s.All},
		Payloads: req.Payloads, FHIR: req.FHIR, ExportID: req.ExportID, CreatedAt: req.CreatedAt,
		TempDir: b.tempDir,
		Describe: func(e *eventstore.Event) bundle.Audit {
			f := req.Describe(e)
			return bundle.Audit{Students: f.Students, Kind: bundle.AuditKind(f.Kind), Refused: f.Refused}
		},
	})
	if err != nil {
		return commands.BundleSummary{}, err
	}
	return commands.BundleSummary{
		TreeSize: sum.TreeSize, Students: sum.Students, Size: sum.Size, SHA256: sum.SHA256,
		Counts: domain.ExportCounts(sum.Counts),
	}, nil
}

// checkpoint asks the sealer for a checkpoint covering the whole log.
// While another process holds the sealer's lock (another instance, or
// this one's sealer before it has taken it), it waits instead for the
// event now last in the log to be sealed and a checkpoint signed that
// covers it, for two minutes at most.
func (b ledgerBundler) checkpoint(ctx context.Context) (ledger.Checkpoint, error) {
	last, err := b.log.LastPosition(ctx)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		cp, err := b.sealer.Checkpoint(ctx)
		if !errors.Is(err, ledger.ErrSealerBusy) {
			return cp, err
		}
		cp, err = b.covering(ctx, last)
		if !errors.Is(err, ledger.ErrNotSealed) {
			return cp, err
		}
		select {
		case <-ctx.Done():
			return ledger.Checkpoint{}, fmt.Errorf("no checkpoint covers the log yet: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// covering returns the checkpoint that covers the event at position, or
// ErrNotSealed while none does.
func (b ledgerBundler) covering(ctx context.Context, position uint64) (ledger.Checkpoint, error) {
	tree := b.sealer.Tree()
	leaf, err := tree.LeafAt(ctx, position)
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	stored, err := tree.CheckpointCovering(ctx, leaf.Index+1)
	return stored.Checkpoint, err
}

// exporting is the export jobs serve runs beside the API.
type exporting struct {
	service *commands.Exports
	done    chan struct{}
}

// startExports starts the export workers; they run until ctx ends. With
// no WHITECROSS_EXPORT_DIR, bundles are kept under the system's temporary
// directory, and serve warns.
func startExports(ctx context.Context, c config, d *deps, s *sealing) (*exporting, error) {
	dir := c.ExportDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "whitecross-exports")
		d.log.Warn().Str("export_dir", dir).Msg("export_dir_temporary")
	}
	service, err := commands.NewExports(d.store, ledgerBundler{
		sealer: s.sealer, log: d.store, signer: s.signer, verifierKey: s.ledger.VerifierKey,
		tempDir: dir,
	}, commands.ExportsConfig{
		Dir: dir, Workers: c.ExportWorkers,
		OnError: func(id string, err error) {
			if !errors.Is(err, context.Canceled) {
				d.log.Warn().Str("export_id", id).Err(err).Msg("export_failed")
			}
		},
	})
	if err != nil {
		return nil, err
	}
	x := &exporting{service: service, done: make(chan struct{})}
	go func() {
		defer close(x.done)
		service.Run(ctx)
	}()
	return x, nil
}

// wait returns once the workers have stopped.
func (x *exporting) wait() { <-x.done }
