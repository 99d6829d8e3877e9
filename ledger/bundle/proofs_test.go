package bundle_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// TestProofsCheckedIndependently checks the proofs of bundles with code
// that shares nothing with the bundle package: inclusion proofs with
// transparency-dev/merkle's proof.VerifyInclusion, range proofs with a
// Merkle tree hash computed here, from RFC 6962's definition, over every
// leaf of the log.
func TestProofsCheckedIndependently(t *testing.T) {
	fx := newFixture(t)
	all := fx.seedSmall(t)
	var leaves [][]byte
	for _, e := range all {
		leaves = append(leaves, rfc6962.DefaultHasher.HashLeaf(e.Hash[:]))
	}
	from, to := all[1].RecordedAt, all[5].RecordedAt
	for name, scope := range map[string]bundle.Scope{
		"student": {StudentID: studentB}, "actor": {ActorID: nurseA},
		"time range": {From: &from, To: &to}, "all": {All: true},
	} {
		t.Run(name, func(t *testing.T) {
			path, _ := fx.export(t, scope, false, false)
			ms, _ := members(t, mustRead(t, path))
			v, _ := ledger.ParseVerifierKey(fx.vkey)
			cp, err := ledger.OpenCheckpoint(file(t, ms, bundle.FileCheckpoint), v)
			if err != nil {
				t.Fatal(err)
			}
			if got := treeHash(leaves); string(got) != string(cp.Root[:]) {
				t.Fatalf("the checkpoint's root is not the tree hash of the log's %d leaves", len(leaves))
			}
			events := lines(file(t, ms, bundle.FileEvents))
			next := 0
			for _, line := range lines(file(t, ms, bundle.FileProofs)) {
				var p struct {
					Kind                string
					Leaf, Count         int64
					Hashes, Left, Right []string
				}
				if err := json.Unmarshal([]byte(line), &p); err != nil {
					t.Fatal(err)
				}
				switch p.Kind {
				case "inclusion":
					err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.Leaf), uint64(cp.Size),
						leafOf(t, events[next]), decode(t, p.Hashes), cp.Root[:])
					if err != nil {
						t.Errorf("inclusion of leaf %d: %v", p.Leaf, err)
					}
					next++
				case "range":
					checkRange(t, leaves, p.Leaf, p.Leaf+p.Count, decode(t, p.Left), decode(t, p.Right))
					for i := range p.Count {
						if string(leafOf(t, events[next])) != string(leaves[p.Leaf+i]) {
							t.Errorf("event %d of the bundle is not leaf %d", next, p.Leaf+i)
						}
						next++
					}
				default:
					t.Fatalf("proof of kind %q", p.Kind)
				}
			}
			if next != len(events) || next == 0 {
				t.Errorf("%d of %d events proved", next, len(events))
			}
		})
	}
}

// checkRange compares the left and right hashes of a range proof with the
// tree hashes of the largest aligned subtrees that make up [0, begin) and
// [end, size).
func checkRange(t *testing.T, leaves [][]byte, begin, end int64, left, right [][]byte) {
	t.Helper()
	for _, side := range []struct {
		from, to int64
		got      [][]byte
	}{{0, begin, left}, {end, int64(len(leaves)), right}} {
		subtrees := decompose(side.from, side.to)
		if len(subtrees) != len(side.got) {
			t.Fatalf("[%d, %d): %d hashes, want %d", side.from, side.to, len(side.got), len(subtrees))
		}
		for i, s := range subtrees {
			if want := treeHash(leaves[s[0]:s[1]]); string(side.got[i]) != string(want) {
				t.Errorf("subtree [%d, %d): hash differs", s[0], s[1])
			}
		}
	}
}

// decompose splits [from, to) into aligned subtrees of a power of two
// leaves each, largest first, as compact ranges are.
func decompose(from, to int64) [][2]int64 {
	var out [][2]int64
	for from < to {
		size := int64(1)
		for from%(size*2) == 0 && from+size*2 <= to {
			size *= 2
		}
		out = append(out, [2]int64{from, from + size})
		from += size
	}
	return out
}

// treeHash is RFC 6962's MTH over leaf hashes.
func treeHash(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(treeHash(leaves[:k]))
	h.Write(treeHash(leaves[k:]))
	return h.Sum(nil)
}

func leafOf(t *testing.T, line string) []byte {
	t.Helper()
	var e struct{ Hash string }
	json.Unmarshal([]byte(line), &e)
	raw, err := hex.DecodeString(e.Hash)
	if err != nil || len(raw) != 32 {
		t.Fatalf("hash of %s", line)
	}
	return rfc6962.DefaultHasher.HashLeaf(raw)
}

func decode(t *testing.T, hs []string) [][]byte {
	t.Helper()
	out := make([][]byte, len(hs))
	for i, s := range hs {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Fatalf("hash %q", s)
		}
		out[i] = raw
	}
	return out
}
