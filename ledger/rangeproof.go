package ledger

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/tlog"
)

// ProveRange returns the proof that the leaves begin to end-1 are the
// leaves at those indexes of the tree of its first size leaves: the hashes
// of the compact ranges [0, begin) and [end, size), each the roots of the
// largest complete subtrees that cover its range, left to right. Whoever
// holds the leaves of [begin, end) merges the three ranges into the root
// of the tree, with O(log size) hashes besides the leaves themselves. A
// range of one leaf is an inclusion proof in another shape.
func (t *Tree) ProveRange(
	ctx context.Context,
	begin, end, size int64,
) (left, right []tlog.Hash, err error) {
	if begin < 0 || begin >= end || end > size {
		return nil, nil, fmt.Errorf("ledger: no range [%d, %d) in a tree of %d leaves", begin, end, size)
	}
	leftNodes := compact.RangeNodes(0, uint64(begin), nil)
	rightNodes := compact.RangeNodes(uint64(end), uint64(size), nil)
	indexes := make([]int64, 0, len(leftNodes)+len(rightNodes))
	for _, n := range append(leftNodes, rightNodes...) {
		indexes = append(indexes, tlog.StoredHashIndex(int(n.Level), int64(n.Index)))
	}
	hashes, err := readHashes(ctx, t.pool, indexes)
	if err != nil {
		return nil, nil, err
	}
	return hashes[:len(leftNodes)], hashes[len(leftNodes):], nil
}
