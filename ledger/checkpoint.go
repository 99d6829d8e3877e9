package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a signed statement of the tree: its origin (the log's
// name, also the signing key's name), how many leaves it holds and its
// root hash. Note is the C2SP tlog-checkpoint signed note as served and
// witnessed, byte for byte.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Note   []byte
}

// ErrBadCheckpoint wraps every reason a checkpoint is refused: a signature
// that does not verify, a key other than the expected one, a body that is
// not a checkpoint. Test with errors.Is.
var ErrBadCheckpoint = errors.New("not a valid signed checkpoint")

// checkpointText is a checkpoint's body: the origin, the tree size in
// decimal and the root hash in standard base64, a line each.
func checkpointText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size,
		base64.StdEncoding.EncodeToString(root[:]))
}

// SignCheckpoint signs the tree of size leaves whose root is root. The
// origin is the signer's name.
func SignCheckpoint(s note.Signer, size int64, root tlog.Hash) (Checkpoint, error) {
	text := checkpointText(s.Name(), size, root)
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	return Checkpoint{Origin: s.Name(), Size: size, Root: root, Note: msg}, nil
}

// OpenCheckpoint verifies msg's signature by v and parses its body. The
// origin must be v's name, as C2SP tlog-checkpoint requires.
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q",
			ErrBadCheckpoint, c.Origin, v.Name())
	}
	c.Note = msg
	return c, nil
}

// parseCheckpointText reads the first three lines of a checkpoint's body;
// extension lines after them are allowed and ignored.
func parseCheckpointText(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, fmt.Errorf("%w: fewer than three lines", ErrBadCheckpoint)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: tree size %q", ErrBadCheckpoint, lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root hash %q", ErrBadCheckpoint, lines[2])
	}
	c := Checkpoint{Origin: lines[0], Size: size}
	copy(c.Root[:], raw)
	if c.Origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin", ErrBadCheckpoint)
	}
	return c, nil
}

// splitNote splits a signed note into its text (ending in a newline) and
// its signature lines.
func splitNote(msg string) (text, signatures string, ok bool) {
	i := strings.Index(msg, "\n\n")
	if i < 0 {
		return msg, "", false
	}
	return msg[:i+1], msg[i+2:], true
}
