package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/ledger"
)

// Problem is the first thing found wrong with a bundle, and where it is.
// Verify returns it as its error; test with errors.As.
type Problem struct {
	// File is the file of the bundle it concerns; "" for the archive
	// itself.
	File string
	// Offset is the byte of the bundle file where it is: the first byte
	// that differs, or the start of the header or line concerned; -1 when
	// the problem is not at one place.
	Offset int64
	// Line is the line of File, from 1; 0 when the problem is not on one.
	Line int
	// Event names the event concerned, when there is one.
	Event string
	What  string
}

// Error reads as "events.ndjson line 3 (byte 5120), event …: what", or
// "the archive (byte 2560): what" for the tar itself.
func (p *Problem) Error() string {
	where := []string{"the archive"}
	if p.File != "" {
		where[0] = p.File
	}
	if p.Line > 0 {
		where = append(where, fmt.Sprintf("line %d", p.Line))
	}
	if p.Offset >= 0 {
		where = append(where, fmt.Sprintf("(byte %d)", p.Offset))
	}
	if p.Event != "" {
		where[len(where)-1] += ","
		where = append(where, p.Event)
	}
	return strings.Join(where, " ") + ": " + p.What
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// TrustedKey is the verifier key the log's operator published. When
	// set, the bundle must carry exactly that key, and every signature is
	// checked with it. When empty, a bundle that verifies has only shown
	// itself consistent with the key it carries: anyone can make such a
	// bundle with a key of their own.
	TrustedKey string
}

// Report is what a bundle that verifies holds.
type Report struct {
	Manifest    Manifest
	Checkpoint  ledger.Checkpoint
	VerifierKey string
	// Trusted is true when the key was the trusted key given.
	Trusted bool
	// Counts are what was found and checked; they match the manifest's,
	// except Students, which only the manifest states.
	Counts Counts
}

// The largest small files a bundle may hold.
const (
	maxKeySize      = 1 << 10
	maxNoteSize     = 1 << 14
	maxManifestSize = 1 << 20
)

// VerifyFile verifies the bundle in the file at path.
func VerifyFile(path string, opts VerifyOptions) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Verify(f, info.Size(), opts)
}

// Verify checks a bundle of size bytes, with nothing but its bytes and,
// when given, the trusted key: that the tar is in the canonical form
// (every header, padding and end block), that the manifest's signature
// verifies and the SHA-256 of every file matches it, that every event
// matches its digest (when its payload is present) and its hash, that
// consecutive events of a stream are chained, that every proof leads to
// the root of the checkpoint and that the checkpoint's signature
// verifies. It returns the first problem as a *Problem. It reads the file
// twice and holds a few values per stream, never the events.
func Verify(r io.ReaderAt, size int64, opts VerifyOptions) (*Report, error) {
	v := &verifier{r: r, size: size, opts: opts}
	if p := v.run(); p != nil {
		return nil, p
	}
	return &v.report, nil
}

type verifier struct {
	r       io.ReaderAt
	size    int64
	opts    VerifyOptions
	entries map[string]entry
	order   []entry
	key     note.Verifier
	report  Report
	copyBuf []byte
	// disorder is reported once the manifest has vouched for the events.
	disorder *Problem
}

func (v *verifier) run() *Problem {
	order, p := v.structure()
	if p != nil {
		return p
	}
	v.order, v.entries = order, map[string]entry{}
	for _, e := range order {
		v.entries[e.name] = e
	}
	for _, step := range []func() *Problem{
		v.checkKey, v.checkManifestSig, v.checkCheckpoint, v.checkEvents, v.checkManifest,
	} {
		if p := step(); p != nil {
			return p
		}
	}
	return v.disorder
}

// checkKey reads verifier-key, which must be a canonical Ed25519
// verifier key and, when one is trusted, that key.
func (v *verifier) checkKey() *Problem {
	e := v.entries[FileVerifierKey]
	text, p := v.small(e, maxKeySize)
	if p != nil {
		return p
	}
	vkey, ok := strings.CutSuffix(string(text), "\n")
	if !ok {
		return &Problem{File: e.name, Offset: e.offset, What: "the key does not end in a newline"}
	}
	key, err := canonicalKey(vkey)
	if err != nil {
		return &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	if v.opts.TrustedKey != "" {
		trusted, err := canonicalKey(strings.TrimSpace(v.opts.TrustedKey))
		if err != nil {
			return &Problem{Offset: -1, What: "the trusted key: " + err.Error()}
		}
		if trusted.Name() != key.Name() || vkey != strings.TrimSpace(v.opts.TrustedKey) {
			return &Problem{File: e.name, Offset: e.offset,
				What: "the bundle carries another key than the trusted one: it was not signed by the log"}
		}
		key, v.report.Trusted = trusted, true
	}
	v.key, v.report.VerifierKey = key, vkey
	return nil
}

// canonicalKey parses a signed-note verifier key that must be an Ed25519
// key written exactly as note.NewEd25519VerifierKey writes it.
func canonicalKey(vkey string) (note.Verifier, error) {
	key, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("not a signed-note verifier key: %v", err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return nil, fmt.Errorf("not an Ed25519 verifier key")
	}
	again, err := note.NewEd25519VerifierKey(parts[0], raw[1:])
	if err != nil || again != vkey {
		return nil, fmt.Errorf("the key is not written in its canonical form")
	}
	return key, nil
}

// openNote opens a signed note that must be in the canonical form and
// verify with the key.
func openNote(msg []byte, key note.Verifier) (*note.Note, error) {
	if err := canonicalNote(msg); err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(key))
	if err != nil {
		return nil, fmt.Errorf("its signature does not verify with the bundle's key (%v)", err)
	}
	return n, nil
}

// canonicalNote refuses a signed note that is not its text, a blank line
// and one signature line in canonical base64, as note.Sign writes it.
func canonicalNote(msg []byte) error {
	text, sigs, ok := bytes.Cut(msg, []byte("\n\n"))
	line, rest, _ := bytes.Cut(sigs, []byte("\n"))
	name, b64, _ := bytes.Cut(bytes.TrimPrefix(line, []byte("— ")), []byte(" "))
	raw, err := base64.StdEncoding.Strict().DecodeString(string(b64))
	switch {
	case !ok || bytes.Contains(sigs, []byte("\n\n")) || len(text) == 0:
		return fmt.Errorf("not a signed note: want its text, a blank line and a signature")
	case !bytes.HasPrefix(line, []byte("— ")) || len(name) == 0 || len(rest) != 0 ||
		!bytes.HasSuffix(sigs, []byte("\n")):
		return fmt.Errorf("it must carry one signature line, by the bundle's key, and no other")
	case err != nil || base64.StdEncoding.EncodeToString(raw) != string(b64):
		return fmt.Errorf("its signature is not in canonical base64")
	}
	return nil
}

// checkManifestSig checks manifest.sig and that it signs manifest.json.
// When it does not verify and the checkpoint does not either, the key is
// what changed.
func (v *verifier) checkManifestSig() *Problem {
	e := v.entries[FileManifestSig]
	msg, p := v.small(e, maxNoteSize)
	if p != nil {
		return p
	}
	n, err := openNote(msg, v.key)
	if err != nil {
		if cp, _ := v.small(v.entries[FileCheckpoint], maxNoteSize); !v.opts.trusted() && cp != nil {
			if _, cerr := ledger.OpenCheckpoint(cp, v.key); cerr != nil {
				k := v.entries[FileVerifierKey]
				return &Problem{File: k.name, Offset: k.offset,
					What: "neither the manifest's signature nor the checkpoint's verifies with this key"}
			}
		}
		return &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	m := v.entries[FileManifest]
	if n.Text != manifestSigText(m.sha256) {
		return &Problem{File: m.name, Offset: m.offset,
			What: "its SHA-256 is not the one manifest.sig signs: the manifest was changed"}
	}
	return v.readManifest(m)
}

func (o VerifyOptions) trusted() bool { return o.TrustedKey != "" }

// readManifest parses manifest.json, which must be as Write writes it.
func (v *verifier) readManifest(e entry) *Problem {
	text, p := v.small(e, maxManifestSize)
	if p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	m := &v.report.Manifest
	if err := dec.Decode(m); err != nil {
		return &Problem{File: e.name, Offset: e.offset, What: "not a manifest: " + err.Error()}
	}
	again, err := json.MarshalIndent(m, "", "  ")
	switch {
	case err != nil || string(again)+"\n" != string(text):
		return &Problem{File: e.name, Offset: e.offset, What: "not in the form this format writes"}
	case m.Format != FormatVersion:
		return &Problem{File: e.name, Offset: e.offset,
			What: fmt.Sprintf("format %q; this verifier reads %q", m.Format, FormatVersion)}
	}
	if err := m.Scope.Validate(); err != nil {
		return &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	return nil
}

// checkCheckpoint opens the checkpoint, which the manifest must name.
func (v *verifier) checkCheckpoint() *Problem {
	e := v.entries[FileCheckpoint]
	msg, p := v.small(e, maxNoteSize)
	if p != nil {
		return p
	}
	if err := canonicalNote(msg); err != nil {
		return &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	cp, err := ledger.OpenCheckpoint(msg, v.key)
	if err != nil {
		return &Problem{File: e.name, Offset: e.offset, What: err.Error()}
	}
	m := v.report.Manifest
	if m.Origin != cp.Origin || m.TreeSize != cp.Size || m.RootHash != cp.Root.String() {
		return &Problem{File: FileManifest, Offset: v.entries[FileManifest].offset,
			What: "its origin, tree size or root hash is not the checkpoint's"}
	}
	v.report.Checkpoint = cp
	return nil
}

// checkManifest compares the manifest's counts and files with what the
// bundle holds.
func (v *verifier) checkManifest() *Problem {
	m, got := v.report.Manifest, v.report.Counts
	me := v.entries[FileManifest]
	got.Students = m.Counts.Students
	if got != m.Counts {
		return &Problem{File: me.name, Offset: me.offset, What: fmt.Sprintf(
			"its counts %+v are not what the bundle holds: %+v", m.Counts, got)}
	}
	listed := v.order[:len(v.order)-2]
	if len(m.Files) != len(listed) {
		return &Problem{File: me.name, Offset: me.offset,
			What: fmt.Sprintf("it lists %d files; the bundle holds %d before it", len(m.Files), len(listed))}
	}
	for i, e := range listed {
		f := m.Files[i]
		switch {
		case f.Name != e.name:
			return &Problem{File: e.name, Offset: e.header,
				What: "the manifest lists " + f.Name + " in its place"}
		case f.Size != e.size || f.SHA256 != fmt.Sprintf("%x", e.sha256):
			return &Problem{File: e.name, Offset: e.offset,
				What: "its size or SHA-256 is not the one the manifest lists: the file was changed"}
		}
	}
	return nil
}
