package bundle

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

// ranges makes compact ranges of RFC 6962 trees.
var ranges = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// run is a run of consecutive leaves, hashed as they come: the middle
// range of a range proof.
type run struct {
	begin int64
	mid   *compact.Range
}

func newRun(begin int64) *run {
	return &run{begin: begin, mid: ranges.NewEmptyRange(uint64(begin))}
}

func (r *run) end() int64 { return int64(r.mid.End()) }

func (r *run) add(leaf tlog.Hash) error { return r.mid.Append(leaf[:], nil) }

// root merges the compact range of [0, begin) that left holds, the run,
// and that of [end, size) that right holds, into the root of the tree of
// size leaves.
func (r *run) root(size int64, left, right []tlog.Hash) (tlog.Hash, error) {
	whole, err := ranges.NewRange(0, uint64(r.begin), byteSlices(left))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("left: %v", err)
	}
	after, err := ranges.NewRange(uint64(r.end()), uint64(size), byteSlices(right))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("right: %v", err)
	}
	if err := whole.AppendRange(r.mid, nil); err != nil {
		return tlog.Hash{}, err
	}
	if err := whole.AppendRange(after, nil); err != nil {
		return tlog.Hash{}, err
	}
	raw, err := whole.GetRootHash(nil)
	if err != nil {
		return tlog.Hash{}, err
	}
	if size == 0 || len(raw) != tlog.HashSize {
		return tlog.Hash{}, errors.New("no root")
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h, nil
}

func byteSlices(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// encodeHashes writes tree hashes in base64, as checkpoints do.
func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// decodeHashes reads base64 tree hashes; field names them in errors.
func decodeHashes(field string, in []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(in))
	for i, s := range in {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: not a hash in base64", field, i)
		}
		out[i] = h
	}
	return out, nil
}
