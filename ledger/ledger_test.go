package ledger_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
)

// TestProofsCheckedIndependently seals a log, then checks every inclusion
// proof and the consistency proofs between its checkpoints with
// transparency-dev/merkle, an implementation of RFC 6962 independent of
// the one the ledger uses.
func TestProofsCheckedIndependently(t *testing.T) {
	fx := newFixture(t)
	s := fx.sealer(t, ledger.SealerConfig{})
	var checkpoints []ledger.Checkpoint
	for _, n := range []int{1, 6, 37} {
		fx.appendN(t, n, 5)
		c, err := s.Checkpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		checkpoints = append(checkpoints, c)
	}
	if got := []int64{checkpoints[0].Size, checkpoints[1].Size, checkpoints[2].Size}; got[0] != 1 ||
		got[1] != 7 || got[2] != 44 {
		t.Fatalf("checkpoint sizes %v, want [1 7 44]", got)
	}

	tree := s.Tree()
	events, err := fx.log.ReadAll(t.Context(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range checkpoints {
		for i := range cp.Size {
			e := events[i]
			leaf, err := tree.LeafOf(t.Context(), e.ID)
			if err != nil || leaf.Index != i || leaf.Position != e.Position {
				t.Fatalf("leaf of event %d: %+v, %v", i, leaf, err)
			}
			p, err := tree.ProveInclusion(t.Context(), leaf.Index, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			err = proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(cp.Size),
				rfc6962.DefaultHasher.HashLeaf(e.Hash[:]), hashes(p), cp.Root[:])
			if err != nil {
				t.Errorf("inclusion of leaf %d in %d leaves: %v", i, cp.Size, err)
			}
		}
	}
	for i := 1; i < len(checkpoints); i++ {
		older, newer := checkpoints[i-1], checkpoints[i]
		p, err := tree.ProveConsistency(t.Context(), older.Size, newer.Size)
		if err != nil {
			t.Fatal(err)
		}
		err = proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(older.Size), uint64(newer.Size),
			hashes(p), older.Root[:], newer.Root[:])
		if err != nil {
			t.Errorf("consistency %d → %d: %v", older.Size, newer.Size, err)
		}
	}
}

func hashes[H ~[32]byte](in []H) [][]byte {
	out := make([][]byte, len(in))
	for i := range in {
		out[i] = in[i][:]
	}
	return out
}

// TestCheckpointNote checks that a checkpoint is a C2SP tlog-checkpoint
// signed note that opens with the verifier key and with no other.
func TestCheckpointNote(t *testing.T) {
	fx := newFixture(t)
	fx.appendN(t, 3, 1)
	c, err := fx.sealer(t, ledger.SealerConfig{}).Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.OpenCheckpoint(c.Note, fx.verifier(t))
	if err != nil || got.Size != 3 || got.Root != c.Root || got.Origin != "test.example/whitecross" {
		t.Fatalf("opened %+v, %v", got, err)
	}
	want := "test.example/whitecross\n3\n"
	if string(c.Note[:len(want)]) != want {
		t.Fatalf("note begins %q, want %q", c.Note[:len(want)], want)
	}

	_, otherKey, _ := ledger.GenerateKey("test.example/whitecross")
	other, _ := ledger.ParseVerifierKey(otherKey)
	if _, err := ledger.OpenCheckpoint(c.Note, other); !errors.Is(err, ledger.ErrBadCheckpoint) {
		t.Errorf("opened with another key: %v", err)
	}
	tampered := append([]byte(nil), c.Note...)
	tampered[len(want)] ^= 1
	if _, err := ledger.OpenCheckpoint(tampered, fx.verifier(t)); !errors.Is(err, ledger.ErrBadCheckpoint) {
		t.Errorf("opened a changed root: %v", err)
	}
}

// TestRunSealsAndWitnesses runs a sealer while events are appended and
// checks that it signs checkpoints as they fall due, keeps them in the
// database and writes each to the witness directory.
func TestRunSealsAndWitnesses(t *testing.T) {
	fx := newFixture(t)
	w := &ledger.Witness{Dir: t.TempDir()}
	signed := make(chan ledger.Checkpoint, 100)
	s := fx.sealer(t, ledger.SealerConfig{
		Every: 10, Interval: time.Hour, Witness: w,
		OnCheckpoint: func(c ledger.Checkpoint) { signed <- c },
	})
	done := make(chan error, 1)
	ctx, cancel := contextWithCancel(t)
	go func() { done <- s.Run(ctx) }()

	fx.appendN(t, 25, 3)
	first := <-signed
	if first.Size < 10 {
		t.Fatalf("first checkpoint of %d leaves, want at least 10", first.Size)
	}
	c, err := s.Checkpoint(t.Context()) // covers all 25 at once
	if err != nil || c.Size != 25 {
		t.Fatalf("checkpoint asked of the running sealer: size %d, %v", c.Size, err)
	}
	cancel()
	if err := <-done; !errors.Is(err, ctxCanceled) {
		t.Fatalf("run ended with %v", err)
	}

	files, err := w.Read(fx.verifier(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 || files[len(files)-1].Checkpoint.Size != 25 {
		t.Fatalf("witnessed %d files, the last of %d leaves", len(files), files[len(files)-1].Checkpoint.Size)
	}
	for _, f := range files {
		if f.Err != nil {
			t.Errorf("%s: %v", f.Name, f.Err)
		}
	}
	stored, err := s.Tree().LatestCheckpoint(t.Context())
	if err != nil || string(stored.Note) != string(c.Note) {
		t.Fatalf("latest stored checkpoint %d, %v", stored.Size, err)
	}
}

// TestSealRefusesTamperedEvent changes an event before it is sealed: the
// ledger never vouches for it.
func TestSealRefusesTamperedEvent(t *testing.T) {
	fx := newFixture(t)
	fx.appendN(t, 4, 2)
	fx.changeType(t, 3)
	_, err := fx.sealer(t, ledger.SealerConfig{}).Checkpoint(t.Context())
	if !errors.Is(err, ledger.ErrTampered) {
		t.Fatalf("sealing a changed event: got %v, want ErrTampered", err)
	}
	n, err := ledger.NewTree(fx.pool).Size(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("tree holds %d leaves (%v); the batch with the changed event must not be sealed", n, err)
	}
}

// TestWitnessRefusesFork writes two checkpoints of one size with other
// roots: the second is refused, the first stays.
func TestWitnessRefusesFork(t *testing.T) {
	fx := newFixture(t)
	w := ledger.Witness{Dir: t.TempDir()}
	a, _ := ledger.SignCheckpoint(fx.signer, 5, sha256.Sum256([]byte("a")))
	b, _ := ledger.SignCheckpoint(fx.signer, 5, sha256.Sum256([]byte("b")))
	if err := w.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(a); err != nil {
		t.Fatalf("the same checkpoint again: %v", err)
	}
	if err := w.Write(b); err == nil {
		t.Fatal("a second tree of the same size was witnessed")
	}
	files, _ := w.Read(fx.verifier(t))
	if len(files) != 1 || files[0].Checkpoint.Root != a.Root {
		t.Fatalf("witness holds %+v", files)
	}
}

var _ eventstore.Checker = (*ledger.Check)(nil)

// TestRangeProofs proves every range of a small tree with ProveRange and
// merges each, with transparency-dev/merkle's compact ranges, into the
// checkpoint's root.
func TestRangeProofs(t *testing.T) {
	fx := newFixture(t)
	fx.appendN(t, 13, 4)
	s := fx.sealer(t, ledger.SealerConfig{})
	c, err := s.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	events, err := fx.log.ReadAll(t.Context(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	for begin := int64(0); begin < c.Size; begin++ {
		for end := begin + 1; end <= c.Size; end++ {
			left, right, err := s.Tree().ProveRange(t.Context(), begin, end, c.Size)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := rf.NewRange(0, uint64(begin), hashes(left))
			if err != nil {
				t.Fatalf("[%d, %d): left: %v", begin, end, err)
			}
			for _, e := range events[begin:end] {
				whole.Append(rfc6962.DefaultHasher.HashLeaf(e.Hash[:]), nil)
			}
			after, err := rf.NewRange(uint64(end), uint64(c.Size), hashes(right))
			if err != nil {
				t.Fatalf("[%d, %d): right: %v", begin, end, err)
			}
			if err := whole.AppendRange(after, nil); err != nil {
				t.Fatal(err)
			}
			if root, _ := whole.GetRootHash(nil); string(root) != string(c.Root[:]) {
				t.Errorf("range [%d, %d) does not lead to the root", begin, end)
			}
		}
	}
	if _, _, err := s.Tree().ProveRange(t.Context(), 3, 3, c.Size); err == nil {
		t.Error("an empty range was proved")
	}
}
