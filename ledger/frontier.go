package ledger

import (
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// frontier is the right edge of a Merkle tree of n leaves: the hashes of
// the complete subtrees its leaves divide into, which are all that
// appending a leaf or computing the root needs. It holds O(log n) hashes,
// keyed by tlog's stored-hash index.
type frontier struct {
	n      int64
	hashes map[int64]tlog.Hash
}

func newFrontier() *frontier { return &frontier{hashes: map[int64]tlog.Hash{}} }

// frontierIndexes returns the stored-hash indexes of the complete subtrees
// of a tree of n leaves, smallest first.
func frontierIndexes(n int64) []int64 {
	var out []int64
	for l := 0; n>>l > 0; l++ {
		if (n>>l)&1 == 1 {
			out = append(out, tlog.StoredHashIndex(l, (n>>l)-1))
		}
	}
	return out
}

// ReadHashes implements tlog.HashReader over the frontier.
func (f *frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := f.hashes[idx]
		if !ok {
			return nil, fmt.Errorf("ledger: stored hash %d is not on the frontier of %d leaves", idx, f.n)
		}
		out[i] = h
	}
	return out, nil
}

// add appends a leaf and returns the hashes it stores, in tlog's order:
// those of indexes StoredHashIndex(0, n) onwards.
func (f *frontier) add(leaf tlog.Hash) ([]tlog.Hash, error) {
	stored, err := tlog.StoredHashesForRecordHash(f.n, leaf, f)
	if err != nil {
		return nil, err
	}
	first := tlog.StoredHashIndex(0, f.n)
	for i, h := range stored {
		f.hashes[first+int64(i)] = h
	}
	f.n++
	f.prune()
	return stored, nil
}

// prune forgets every hash a tree of f.n leaves no longer needs.
func (f *frontier) prune() {
	keep := frontierIndexes(f.n)
	for idx := range f.hashes {
		if !slices.Contains(keep, idx) {
			delete(f.hashes, idx)
		}
	}
}

// root returns the tree's root hash.
func (f *frontier) root() (tlog.Hash, error) {
	if f.n == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(f.n, f)
}

// emptyRoot is the root of a tree with no leaf: SHA-256 of nothing.
var emptyRoot = tlog.Hash{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
	0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4,
	0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}

// LeafHash returns the tree's leaf for an event hash: the RFC 6962 leaf
// hash, SHA-256(0x00 || event hash).
func LeafHash(eventHash [32]byte) tlog.Hash { return tlog.RecordHash(eventHash[:]) }
