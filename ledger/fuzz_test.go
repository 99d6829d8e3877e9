package ledger_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/ledger"
)

const fuzzOrigin = "fuzz.example/whitecross"

// fuzzKeys returns a signer of fuzzOrigin and its verifier.
func fuzzKeys(f *testing.F) (note.Signer, note.Verifier) {
	skey, vkey, err := ledger.GenerateKey(fuzzOrigin)
	if err != nil {
		f.Fatal(err)
	}
	signer, _, err := ledger.ParseSignerKey(skey)
	if err != nil {
		f.Fatal(err)
	}
	verifier, err := ledger.ParseVerifierKey(vkey)
	if err != nil {
		f.Fatal(err)
	}
	return signer, verifier
}

// FuzzOpenCheckpoint reads arbitrary witnessed checkpoints: raw, as a
// witness file could hold them, and as bodies signed by the right key,
// which only the body's parser can refuse. It must never panic; what it
// accepts carries the key's origin and starts with the three lines a
// checkpoint of its size and root has.
func FuzzOpenCheckpoint(f *testing.F) {
	signer, verifier := fuzzKeys(f)
	c, err := ledger.SignCheckpoint(signer, 1042, tlog.Hash{1, 2, 3})
	if err != nil {
		f.Fatal(err)
	}
	body, _, _ := strings.Cut(string(c.Note), "\n\n")
	f.Add(c.Note, body+"\n")
	f.Add(c.Note[:len(c.Note)-3], body+"\nextension line\n")
	f.Add([]byte(strings.Replace(string(c.Note), "1042", "1043", 1)), fuzzOrigin+"\n-1\nAAAA\n")
	f.Add([]byte("not a note"), fuzzOrigin+"\n01\n"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n")
	f.Add([]byte{}, "\n\n\n")
	f.Fuzz(func(t *testing.T, raw []byte, text string) {
		checkOpened(t, raw, verifier)
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return
		}
		checkOpened(t, signed, verifier)
	})
}

// checkOpened opens msg with v and fails t when it accepts a checkpoint
// its body does not say.
func checkOpened(t *testing.T, msg []byte, v note.Verifier) {
	t.Helper()
	c, err := ledger.OpenCheckpoint(msg, v)
	if err != nil {
		return
	}
	lines := fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	if c.Origin != v.Name() || c.Size < 0 || !bytes.HasPrefix(msg, []byte(lines)) || !bytes.Equal(c.Note, msg) {
		t.Fatalf("accepted %q as %+v", msg, c)
	}
}

// FuzzParseKeys reads arbitrary signer and verifier keys: neither parser
// may panic, and a signer key it accepts yields a verifier key that
// verifies what the signer signs.
func FuzzParseKeys(f *testing.F) {
	skey, vkey, err := ledger.GenerateKey(fuzzOrigin)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(skey, vkey)
	f.Add(" "+skey+"\n", vkey[:len(vkey)-4])
	f.Add(strings.Replace(skey, "+", "++", 1), strings.ToUpper(vkey))
	f.Add("PRIVATE+KEY+x+00000000+AQ", "x+00000000+AQ")
	f.Fuzz(func(t *testing.T, skey, vkey string) {
		ledger.ParseVerifierKey(vkey)
		signer, derived, err := ledger.ParseSignerKey(skey)
		if err != nil {
			return
		}
		v, err := ledger.ParseVerifierKey(derived)
		if err != nil {
			t.Fatalf("signer key %q gave verifier key %q, which does not parse: %v", skey, derived, err)
		}
		msg, err := note.Sign(&note.Note{Text: "text\n"}, signer)
		if err != nil {
			// A name note refuses to sign under, such as one with a space.
			return
		}
		if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
			t.Fatalf("signer key %q signs what its verifier key %q refuses: %v", skey, derived, err)
		}
	})
}
