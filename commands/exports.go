package commands

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// Bundler makes an export's bundle. cmd/whitecross's asks the ledger's
// sealer for a checkpoint covering the log and writes a ledger/bundle of
// the events up to it.
type Bundler interface {
	Bundle(ctx context.Context, w io.Writer, req BundleRequest) (BundleSummary, error)
}

// BundleRequest is what a bundle is made of.
type BundleRequest struct {
	ExportID  string
	Scope     domain.ExportScope
	Payloads  bool
	FHIR      bool
	CreatedAt time.Time
	// Describe says what each event of the log means. It is called for
	// every event up to the checkpoint, in order, and remembers what
	// earlier events said.
	Describe func(*eventstore.Event) EventFacts
}

// EventFacts are what an export says of an event beyond its envelope.
type EventFacts struct {
	// Students are the students it concerns.
	Students []string
	// Kind is read, create, update, login, logout, disclosure or other.
	Kind string
	// Refused marks a refused attempt.
	Refused bool
}

// BundleSummary is what a bundle holds, and the file's size and SHA-256.
type BundleSummary struct {
	TreeSize int64
	Counts   domain.ExportCounts
	// Students are the students its events concern, sorted.
	Students []string
	Size     int64
	SHA256   [32]byte
}

// ExportsConfig tunes Exports.
type ExportsConfig struct {
	// Dir keeps the bundles; it is made when missing. Required.
	Dir string
	// Workers is how many exports run at once; 0 means 1.
	Workers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnError is told of an export that failed, and why.
	OnError func(exportID string, err error)
}

// ErrExportNotDone is returned by Open for an export whose bundle is not
// ready: queued, running or failed. Test with errors.Is.
var ErrExportNotDone = errors.New("the export is not done")

// ErrBundleMissing is returned by Open when a done export's file is no
// longer kept, or is not the size it was made. Test with errors.Is.
var ErrBundleMissing = errors.New("the bundle is no longer kept")

// Exports runs export jobs: a request is recorded in the log and queued,
// a worker makes the bundle in the background, records the disclosure,
// then marks the export done; only then may its bundle be downloaded.
type Exports struct {
	store   Store
	bundler Bundler
	cfg     ExportsConfig

	mu    sync.Mutex
	queue []string
	wake  chan struct{}
}

// NewExports returns the export jobs over store, made by bundler.
func NewExports(store Store, bundler Bundler, cfg ExportsConfig) (*Exports, error) {
	switch {
	case store == nil || bundler == nil:
		return nil, errors.New("exports: a store and a bundler are required")
	case cfg.Dir == "":
		return nil, errors.New("exports: a directory for the bundles is required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("exports: %w", err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnError == nil {
		cfg.OnError = func(string, error) {}
	}
	return &Exports{store: store, bundler: bundler, cfg: cfg,
		wake: make(chan struct{}, 1)}, nil
}

// ExportRequest is what a caller asks to export.
type ExportRequest struct {
	Scope     domain.ExportScope
	Payloads  bool
	FHIR      bool
	Recipient string
	Purpose   string
}

// Request records actor's export request and queues it. The actor must
// read the audit log, and to export payloads, clinical records too (else
// CodeForbidden); each invalid field is refused (CodeInvalid) and nothing
// is recorded. The same idempotency key gives the same export.
func (x *Exports) Request(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	in ExportRequest,
) (*domain.Export, Result, error) {
	switch {
	case !actor.Can(auth.ReadAuditLog):
		return nil, Result{}, forbidden("exports are for those who read the audit log")
	case in.Payloads && !actor.Can(auth.ReadClinical):
		return nil, Result{}, forbidden("payloads: only those who read clinical records may export " +
			"them; ask for digests only")
	}
	id := newID(meta, "export")
	events, err := domain.NewExportRequest(domain.RequestExport{
		ExportID: id, RequestedBy: actor.UserID, RequesterRole: actor.RoleFor(auth.ReadAuditLog),
		Scope: in.Scope, Payloads: in.Payloads, FHIR: in.FHIR,
		Recipient: in.Recipient, Purpose: in.Purpose,
	}, x.cfg.Now())
	if err != nil {
		return nil, Result{}, err
	}
	meta.ActorID, meta.ActorRole = actor.UserID, string(actor.RoleFor(auth.ReadAuditLog))
	if err := x.list(ctx, meta, id); err != nil {
		return nil, Result{}, err
	}
	res, err := execute(ctx, x.store, domain.ExportStream(id), &meta, onlyOnce(events))
	if err != nil {
		return nil, res, err
	}
	export, err := x.Export(ctx, id)
	if err == nil && export.Status == domain.ExportStatusQueued {
		x.enqueue(id)
	}
	return export, res, err
}

// list enters id in the list of exports, first, so that a service that
// stops before the export is over finds it on its next start.
func (x *Exports) list(ctx context.Context, meta Meta, id string) error {
	data, err := encode(domain.ExportsStream, meta, []domain.Event{domain.ExportListed{ExportID: id}})
	if err != nil {
		return err
	}
	data[0].ID = uuid.NewSHA1(idempotencyNamespace, []byte("listed\x00"+id))
	_, err = x.store.Append(ctx, domain.ExportsStream, eventstore.Any, data...)
	return err
}

// Export returns an export's state, or ErrNotFound.
func (x *Exports) Export(ctx context.Context, id string) (*domain.Export, error) {
	if !domain.ValidID(id) {
		return nil, ErrNotFound
	}
	h, err := load(ctx, x.store, domain.ExportStream(id))
	if err != nil {
		return nil, err
	}
	if !h.exists {
		return nil, ErrNotFound
	}
	return domain.FoldExport(h.events)
}

// Download is a done export's bundle, open for reading.
type Download struct {
	Export *domain.Export
	File   *os.File
	// Students are the students the export's disclosure names: a download
	// is an access to their records, to be recorded before it is sent.
	Students []string
}

// Open opens a done export's bundle. It returns ErrNotFound,
// ErrExportNotDone or ErrBundleMissing when there is nothing to download;
// the export comes with the last two.
func (x *Exports) Open(ctx context.Context, id string) (*Download, error) {
	export, err := x.Export(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &Download{Export: export}
	if export.Status != domain.ExportStatusDone {
		return d, fmt.Errorf("export %s is %s: %w", id, export.Status, ErrExportNotDone)
	}
	if d.Students, err = x.disclosed(ctx, export); err != nil {
		return d, err
	}
	f, err := os.Open(x.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return d, fmt.Errorf("export %s: %w", id, ErrBundleMissing)
	}
	if err != nil {
		return d, err
	}
	if info, err := f.Stat(); err != nil || info.Size() != export.Outcome.BundleSize {
		f.Close()
		return d, fmt.Errorf("export %s: not the size it was made: %w", id, ErrBundleMissing)
	}
	d.File = f
	return d, nil
}

// disclosed returns the students the export's disclosure names.
func (x *Exports) disclosed(ctx context.Context, export *domain.Export) ([]string, error) {
	h, err := load(ctx, x.store, domain.DisclosureStream(export.Outcome.DisclosureID))
	if err != nil {
		return nil, err
	}
	if len(h.events) > 0 {
		if d, ok := h.events[0].(domain.PHIDisclosed); ok {
			return d.StudentIDs, nil
		}
	}
	return nil, fmt.Errorf("export %s: its disclosure %s is not in the log", export.ID,
		export.Outcome.DisclosureID)
}

// path is where export id's bundle is kept.
//
// TODO: bundles are kept for ever; a retention period should remove them
// (and mark their exports expired) once their recipients have them.
func (x *Exports) path(id string) string { return filepath.Join(x.cfg.Dir, id+".tar") }

func (x *Exports) enqueue(id string) {
	x.mu.Lock()
	x.queue = append(x.queue, id)
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued export, "" when none waits.
func (x *Exports) next() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.queue) == 0 {
		return ""
	}
	id := x.queue[0]
	x.queue = x.queue[1:]
	return id
}

// Run runs the workers until ctx ends. First it takes up what an earlier
// process left: exports still queued are run, and those it was running
// are failed, since their bundle was never finished.
//
// TODO: with several instances, one that starts fails the exports another
// instance is running; each export would need a lease its runner renews.
func (x *Exports) Run(ctx context.Context) error {
	if err := x.recover(ctx); err != nil && ctx.Err() == nil {
		x.cfg.OnError("", fmt.Errorf("exports: take up unfinished exports: %w", err))
	}
	var wg sync.WaitGroup
	for range x.cfg.Workers {
		wg.Go(func() { x.work(ctx) })
	}
	wg.Wait()
	return ctx.Err()
}

func (x *Exports) work(ctx context.Context) {
	for {
		if id := x.next(); id != "" {
			if err := x.Make(ctx, id); err != nil && ctx.Err() == nil {
				x.cfg.OnError(id, err)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
		}
		// Another worker may be waiting on the same queue.
		x.mu.Lock()
		more := len(x.queue) > 1
		x.mu.Unlock()
		if more {
			select {
			case x.wake <- struct{}{}:
			default:
			}
		}
	}
}

// recover reads the list of exports and takes up the unfinished ones.
func (x *Exports) recover(ctx context.Context) error {
	h, err := load(ctx, x.store, domain.ExportsStream)
	if err != nil {
		return err
	}
	for _, e := range h.events {
		listed, ok := e.(domain.ExportListed)
		if !ok {
			continue
		}
		export, err := x.Export(ctx, listed.ExportID)
		switch {
		case errors.Is(err, ErrNotFound):
			continue // listed, but the request itself was never recorded
		case err != nil:
			return err
		case export.Status == domain.ExportStatusQueued:
			x.enqueue(export.ID)
		case export.Status == domain.ExportStatusRunning:
			os.Remove(x.path(export.ID) + ".partial")
			x.cfg.OnError(export.ID, errInterrupted)
			x.fail(ctx, export, errInterrupted)
		}
	}
	return nil
}

// Make makes one queued export's bundle now, in the caller's goroutine,
// as a worker does: it starts the export, writes the bundle, records the
// disclosure, then marks the export done. Any failure on the way fails
// the export, leaves no bundle and is returned. An export that is not
// queued is left alone.
func (x *Exports) Make(ctx context.Context, id string) error {
	export, err := x.Export(ctx, id)
	if err != nil {
		return err
	}
	err = x.decide(ctx, export, func(e *domain.Export) ([]domain.Event, error) {
		return e.Start(x.cfg.Now())
	})
	if domain.ErrorCode(err) == domain.CodeConflict {
		return nil // another worker has it, or it is over
	}
	if err != nil {
		return err
	}
	sum, err := x.make(ctx, export)
	if err == nil {
		err = x.complete(ctx, export, sum)
	}
	if err != nil {
		os.Remove(x.path(id) + ".partial")
		os.Remove(x.path(id))
		if ctx.Err() != nil {
			ctx, err = context.WithoutCancel(ctx), errInterrupted
		}
		x.fail(ctx, export, err)
	}
	return err
}

// errInterrupted is why an export the service stopped in the middle of
// failed.
var errInterrupted = errors.New("interrupted: the service stopped while it ran; ask again")

// make writes the bundle to its partial file, then records the
// disclosure: only then is the file given its name.
func (x *Exports) make(ctx context.Context, export *domain.Export) (BundleSummary, error) {
	partial := x.path(export.ID) + ".partial"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return BundleSummary{}, err
	}
	defer f.Close()
	d := describer{grants: map[string][]string{}}
	r := export.Request
	sum, err := x.bundler.Bundle(ctx, f, BundleRequest{
		ExportID: export.ID, Scope: r.Scope, Payloads: r.Payloads, FHIR: r.FHIR,
		CreatedAt: x.cfg.Now(), Describe: d.describe,
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BundleSummary{}, err
	}
	if err := x.disclose(ctx, export, sum); err != nil {
		return BundleSummary{}, fmt.Errorf("the disclosure could not be recorded, so no bundle is "+
			"handed out: %w", err)
	}
	return sum, os.Rename(partial, x.path(export.ID))
}

// disclose records the export as a disclosure of the students its events
// concern: every student, for a time range or the whole log.
func (x *Exports) disclose(ctx context.Context, export *domain.Export, sum BundleSummary) error {
	r := export.Request
	d := domain.PHIDisclosed{
		DisclosureID: disclosureOf(export.ID), Kind: domain.DisclosureExport,
		ActorID: r.RequestedBy, ActorRole: r.RequesterRole,
		Recipient: r.Recipient, What: describeBundle(r, sum), Purpose: r.Purpose,
		ExportID: export.ID, From: r.Scope.From, To: r.Scope.To, At: x.cfg.Now().UTC(),
	}
	switch {
	case r.Scope.StudentID != "":
		d.StudentIDs = []string{r.Scope.StudentID}
	case r.Scope.ActorID != "":
		d.StudentIDs = sum.Students
	default:
		d.AllStudents = true
	}
	stream := domain.DisclosureStream(d.DisclosureID)
	data, err := encode(stream, workerMeta(export), []domain.Event{d})
	if err != nil {
		return err
	}
	_, err = x.store.Append(ctx, stream, eventstore.NoStream, data...)
	return err
}

// disclosureOf is the ID of an export's disclosure.
func disclosureOf(exportID string) string {
	return uuid.NewSHA1(idempotencyNamespace, []byte("disclosure\x00"+exportID)).String()
}

// describeBundle says what a bundle discloses, in identifiers and counts.
func describeBundle(r domain.ExportRequested, sum BundleSummary) string {
	what := fmt.Sprintf("export bundle of %d events of the log, ", sum.Counts.Events)
	if r.Payloads {
		what += "with their payloads"
	} else {
		what += "their digests only, no payload"
	}
	if r.FHIR {
		what += ", and as FHIR AuditEvents"
	}
	return what
}

func (x *Exports) complete(ctx context.Context, export *domain.Export, sum BundleSummary) error {
	return x.decide(ctx, export, func(e *domain.Export) ([]domain.Event, error) {
		return e.Complete(domain.ExportCompleted{
			TreeSize: sum.TreeSize, Counts: sum.Counts,
			BundleSHA256: hex.EncodeToString(sum.SHA256[:]), BundleSize: sum.Size,
			DisclosureID: disclosureOf(export.ID),
		}, x.cfg.Now())
	})
}

// fail records why the export failed.
func (x *Exports) fail(ctx context.Context, export *domain.Export, cause error) {
	reason := cause.Error()
	if r := []rune(reason); len(r) > 500 {
		reason = string(r[:500])
	}
	err := x.decide(ctx, export, func(e *domain.Export) ([]domain.Event, error) {
		return e.Fail(reason, x.cfg.Now())
	})
	if err != nil {
		x.cfg.OnError(export.ID, fmt.Errorf("record the failure: %w", err))
	}
}

// decide appends what decision makes of the export's current state.
func (x *Exports) decide(
	ctx context.Context,
	export *domain.Export,
	decision func(*domain.Export) ([]domain.Event, error),
) error {
	meta := workerMeta(export)
	_, err := execute(ctx, x.store, domain.ExportStream(export.ID), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			current, err := domain.FoldExport(history)
			if err != nil {
				return nil, err
			}
			return decision(current)
		})
	return err
}

// workerMeta is the metadata of what a worker records for an export: on
// behalf of its requester, correlated by the export's ID.
func workerMeta(export *domain.Export) Meta {
	return Meta{ActorID: export.Request.RequestedBy, ActorRole: string(export.Request.RequesterRole),
		CorrelationID: export.ID}
}

// describer tells what events mean for an export. It remembers the
// student of each break-glass grant, whose closing does not name them.
type describer struct {
	grants map[string][]string
}

func (d describer) describe(e *eventstore.Event) EventFacts {
	f := EventFacts{Kind: "create"}
	if k, ok := eventKinds[e.Type]; ok {
		f.Kind = k
	}
	f.Refused = e.Type == "PHIAccessRefused" || e.Type == "LoginFailed"
	switch {
	case strings.HasPrefix(e.Stream, "student-"):
		f.Students = []string{strings.TrimPrefix(e.Stream, "student-")}
	case d.grants[e.Stream] != nil:
		f.Students = d.grants[e.Stream]
	default:
		f.Students = studentsNamed(e.Data)
	}
	if e.Type == (domain.BreakGlassOpened{}).EventType() && f.Students != nil {
		d.grants[e.Stream] = f.Students
	}
	return f
}

// studentsNamed returns the students an event's data names in its
// student_id or student_ids field; none once the payload was destroyed.
func studentsNamed(data []byte) []string {
	if !bytes.Contains(data, []byte(`"student_id`)) {
		return nil
	}
	var named struct {
		StudentID  string   `json:"student_id"`
		StudentIDs []string `json:"student_ids"`
	}
	if json.Unmarshal(data, &named) != nil {
		return nil
	}
	if named.StudentID != "" {
		return append(named.StudentIDs, named.StudentID)
	}
	return named.StudentIDs
}

// eventKinds are the kinds of the events that are not the recording of
// something new: reads, authentications, disclosures, and the events that
// change or correct what was recorded.
var eventKinds = map[string]string{
	"PHIAccessed": "read", "PHIAccessRefused": "read", "PHIDisclosed": "disclosure",
	"LoginSucceeded": "login", "LoginFailed": "login", "SessionEnded": "logout",
	"SessionRefreshed": "other", "EntryAmended": "update", "EntryMarkedInError": "update",
	"DemographicsUpdated": "update", "StudentTransferred": "update", "StudentWithdrawn": "update",
	"OrderDiscontinued": "update", "AlertAcknowledged": "update", "AlertResolved": "update",
	"ContactRemoved": "update", "RolesRemoved": "update", "SchoolsRemoved": "update",
	"UserDeactivated": "update", "UserReactivated": "update", "UserLocked": "update",
	"UserUnlocked": "update", "PasswordSet": "update", "TOTPRemoved": "update",
	"BreakGlassClosed": "update", "ExportStarted": "other", "ExportCompleted": "other",
	"ExportFailed": "other", "ExportListed": "other",
}
