package readapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/ledger"
)

// Ledger is what the ledger's routes serve: the tree in the database and
// the key its checkpoints verify with.
type Ledger struct {
	Tree        *ledger.Tree
	VerifierKey string
}

// InclusionProof is the answer of GET /v1/ledger/proof: the RFC 6962
// inclusion proof of one event's leaf in the tree of a signed checkpoint.
type InclusionProof struct {
	EventID   string `json:"event_id"`
	Position  uint64 `json:"position"`
	Stream    string `json:"stream"`
	Revision  uint64 `json:"revision"`
	LeafIndex int64  `json:"leaf_index"`
	// EventHash is the event's hash (hex); the leaf hash is
	// SHA-256(0x00 || event hash).
	EventHash string `json:"event_hash"`
	TreeSize  int64  `json:"tree_size"`
	// Hashes are the proof's hashes, base64, from the leaf up.
	Hashes []string `json:"hashes"`
	// Checkpoint is the signed note of the tree the proof is against.
	Checkpoint string `json:"checkpoint"`
}

// ConsistencyProof is the answer of GET /v1/ledger/consistency.
type ConsistencyProof struct {
	From   int64    `json:"from"`
	To     int64    `json:"to"`
	Hashes []string `json:"hashes"`
	// Checkpoints are the signed notes of both trees.
	FromCheckpoint string `json:"from_checkpoint"`
	ToCheckpoint   string `json:"to_checkpoint"`
}

// LedgerRoutes returns the routes of the ledger: its latest checkpoint,
// its verifier key, inclusion and consistency proofs. Proofs and
// checkpoints hold hashes only, no health information.
func LedgerRoutes(l Ledger) []Route {
	h := ledgerHandlers{l}
	read := Access{Capability: auth.ReadAuditLog}
	return []Route{
		{Method: http.MethodGet, Path: "/v1/ledger/checkpoint",
			Summary: "The latest signed checkpoint, a C2SP tlog-checkpoint signed note (text/plain)",
			Access:  read, Handler: h.checkpoint},
		{Method: http.MethodGet, Path: "/v1/ledger/key",
			Summary: "The verifier key of the checkpoints, in signed-note form (text/plain)",
			Access:  Access{Public: true}, Handler: h.key},
		{Method: http.MethodGet, Path: "/v1/ledger/proof",
			Summary: "The inclusion proof of an event in a signed checkpoint's tree",
			Access:  read, Response: InclusionProof{}, Handler: h.proof,
			Query: []QueryParam{
				{Name: "event_id", Format: "uuid", Required: true, Description: "the event"},
				{Name: "tree_size", Type: "integer",
					Description: "a checkpoint's tree size; the latest checkpoint when absent"},
			}},
		{Method: http.MethodGet, Path: "/v1/ledger/consistency",
			Summary: "The consistency proof between two signed checkpoints",
			Access:  read, Response: ConsistencyProof{}, Handler: h.consistency,
			Query: []QueryParam{
				{Name: "from", Type: "integer", Required: true, Description: "the older tree size"},
				{Name: "to", Type: "integer", Description: "the newer tree size; the latest when absent"},
			}},
	}
}

type ledgerHandlers struct{ Ledger }

func (h ledgerHandlers) checkpoint(c echo.Context) error {
	cp, err := h.Tree.LatestCheckpoint(c.Request().Context())
	if err != nil {
		return ledgerProblem(err, "no checkpoint has been signed yet")
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", cp.Note)
}

func (h ledgerHandlers) key(c echo.Context) error {
	return c.String(http.StatusOK, h.VerifierKey+"\n")
}

func (h ledgerHandlers) proof(c echo.Context) error {
	var v ValidationError
	id, err := uuid.Parse(c.QueryParam("event_id"))
	if err != nil {
		v.Add("event_id", "must be an event's UUID")
	}
	size := optionalSize(c, "tree_size", &v)
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	leaf, err := h.Tree.LeafOf(ctx, id)
	if err != nil {
		return ledgerProblem(err, "the event is not in the ledger yet, or not in the log")
	}
	cp, err := h.covering(c, size, leaf.Index+1)
	if err != nil {
		return err
	}
	p, err := h.Tree.ProveInclusion(ctx, leaf.Index, cp.Size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, InclusionProof{
		EventID: leaf.EventID.String(), Position: leaf.Position, Stream: leaf.Stream,
		Revision: leaf.Revision, LeafIndex: leaf.Index, EventHash: leaf.EventHash.String(),
		TreeSize: cp.Size, Hashes: base64Hashes(p), Checkpoint: string(cp.Note),
	})
}

// covering returns the checkpoint of size leaves when size is given (which
// must hold at least leaves), else the latest, which must.
func (h ledgerHandlers) covering(c echo.Context, size, leaves int64) (ledger.StoredCheckpoint, error) {
	ctx := c.Request().Context()
	if size == 0 {
		cp, err := h.Tree.LatestCheckpoint(ctx)
		if err == nil && cp.Size < leaves {
			err = ledger.ErrNotSealed
		}
		return cp, ledgerProblem(err, "no signed checkpoint covers the event yet")
	}
	if size < leaves {
		return ledger.StoredCheckpoint{}, ValidationError{Fields: []FieldError{
			{Field: "tree_size", Reason: "the event's leaf is not in a tree of that size"}}}
	}
	cp, err := h.Tree.CheckpointAt(ctx, size)
	return cp, ledgerProblem(err, "no checkpoint was signed for that tree size")
}

func (h ledgerHandlers) consistency(c echo.Context) error {
	var v ValidationError
	from := optionalSize(c, "from", &v)
	to := optionalSize(c, "to", &v)
	if from == 0 && c.QueryParam("from") == "" {
		v.Add("from", "is required: the older tree size")
	}
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	older, err := h.Tree.CheckpointAt(ctx, from)
	if err != nil {
		return ledgerProblem(err, "no checkpoint was signed for the tree size in from")
	}
	newer, err := h.covering(c, to, from)
	if err != nil {
		return err
	}
	p, err := h.Tree.ProveConsistency(ctx, older.Size, newer.Size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ConsistencyProof{
		From: older.Size, To: newer.Size, Hashes: base64Hashes(p),
		FromCheckpoint: string(older.Note), ToCheckpoint: string(newer.Note),
	})
}

// optionalSize reads a positive tree size from the query parameter name;
// zero when it is absent.
func optionalSize(c echo.Context, name string, v *ValidationError) int64 {
	raw := c.QueryParam(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		v.Add(name, "must be a tree size, a whole number from 1")
		return 0
	}
	return n
}

// ledgerProblem turns ErrNotSealed into a 404 saying detail, and passes
// every other error on.
func ledgerProblem(err error, detail string) error {
	if errors.Is(err, ledger.ErrNotSealed) {
		return NotFound(detail)
	}
	return err
}

func base64Hashes[H ~[tlog.HashSize]byte](hs []H) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h).String()
	}
	return out
}
