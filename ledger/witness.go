package ledger

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Witness is a directory outside the database where every checkpoint is
// written once, under its tree size, and never rewritten: whoever can
// rewrite the database cannot also rewrite what the witness holds (mount
// it from another machine, or copy it off). "checkpoint" in it is the
// latest one.
type Witness struct {
	Dir string
}

const (
	witnessLatest = "checkpoint"
	witnessSuffix = ".checkpoint"
)

// Write stores c as <size>.checkpoint, then makes it the latest. A
// checkpoint of that size already there is left alone when it is the same
// note, and refused otherwise: two different trees of one size are a
// fork.
func (w Witness) Write(c Checkpoint) error {
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	name := filepath.Join(w.Dir, strconv.FormatInt(c.Size, 10)+witnessSuffix)
	if err := writeOnce(name, c.Note); err != nil {
		return err
	}
	return replaceFile(filepath.Join(w.Dir, witnessLatest), c.Note)
}

func writeOnce(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		old, rerr := os.ReadFile(name)
		if rerr == nil && bytes.Equal(old, data) {
			return nil
		}
		return fmt.Errorf("witness: %s holds another checkpoint of this size", filepath.Base(name))
	}
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	return nil
}

// replaceFile writes data to name through a temporary file and a rename,
// so that a reader sees the old file or the new one, never half of one.
func replaceFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	return nil
}

// WitnessedFile is one checkpoint file of a witness directory, opened.
type WitnessedFile struct {
	Name       string
	Checkpoint Checkpoint
	// Err says why the file is not a valid checkpoint of the log; the
	// Checkpoint is then empty.
	Err error
}

// Read opens every <size>.checkpoint of the directory with v, smallest
// size first. A missing directory holds no checkpoint. A file whose
// signature, origin or size is wrong comes back with Err set, so that the
// caller reports it rather than skip it.
func (w Witness) Read(v note.Verifier) ([]WitnessedFile, error) {
	entries, err := os.ReadDir(w.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	var out []WitnessedFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), witnessSuffix) {
			continue
		}
		out = append(out, w.open(e.Name(), v))
	}
	slices.SortFunc(out, func(a, b WitnessedFile) int {
		return cmp.Compare(a.Checkpoint.Size, b.Checkpoint.Size)
	})
	return out, nil
}

func (w Witness) open(name string, v note.Verifier) WitnessedFile {
	f := WitnessedFile{Name: name}
	msg, err := os.ReadFile(filepath.Join(w.Dir, name))
	if err != nil {
		f.Err = err
		return f
	}
	c, err := OpenCheckpoint(msg, v)
	switch {
	case err != nil:
		f.Err = err
	case strconv.FormatInt(c.Size, 10)+witnessSuffix != name:
		f.Err = fmt.Errorf("%w: it covers %d leaves, not what its name says", ErrBadCheckpoint, c.Size)
	default:
		f.Checkpoint = c
	}
	return f
}
