package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/readapi"
)

// ledgerSigner loads the checkpoint signing key from c.LedgerKeyFile,
// making one there when the file does not exist. With no file configured
// it makes a key that lives as long as the process: its checkpoints then
// cannot be verified after a restart, so serve warns.
func ledgerSigner(c config, log zerolog.Logger) (note.Signer, string, error) {
	if c.LedgerKeyFile == "" {
		log.Warn().Msg("ledger_key_ephemeral")
		skey, _, err := ledger.GenerateKey(c.LedgerOrigin)
		if err != nil {
			return nil, "", err
		}
		return ledger.ParseSignerKey(skey)
	}
	text, err := os.ReadFile(c.LedgerKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		skey, vkey, err := writeLedgerKey(c.LedgerKeyFile, c.LedgerOrigin)
		if err != nil {
			return nil, "", err
		}
		log.Info().Str("verifier_key", vkey).Msg("ledger_key_created")
		return ledger.ParseSignerKey(skey)
	}
	if err != nil {
		return nil, "", fmt.Errorf("ledger key: %w", err)
	}
	return ledger.ParseSignerKey(string(text))
}

// writeLedgerKey makes a key pair for origin, writes the signer key to
// path (readable by its owner only) and the verifier key beside it, in
// path + ".pub".
func writeLedgerKey(path, origin string) (skey, vkey string, err error) {
	skey, vkey, err = ledger.GenerateKey(origin)
	if err != nil {
		return "", "", err
	}
	if err := writeKeyFile(path, []byte(skey+"\n")); err != nil {
		return "", "", fmt.Errorf("ledger key: %w", err)
	}
	if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return "", "", fmt.Errorf("ledger key: %w", err)
	}
	return skey, vkey, nil
}

// ledgerVerifier returns the key that checkpoints are checked with: the
// newest of ledgerVerifiers. It returns nil, and no error, when none is
// configured.
func ledgerVerifier(c config) (note.Verifier, error) {
	vs, err := ledgerVerifiers(c)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return vs[len(vs)-1], nil
}

// ledgerVerifiers returns the keys that checkpoints are checked with: the
// file c.LedgerVerifierKeyFile names, one key a line, oldest first (a
// rotated key stays there for the checkpoints it signed); else the
// public half of the signer key. It returns none, and no error, when
// neither is configured.
func ledgerVerifiers(c config) ([]note.Verifier, error) {
	switch {
	case c.LedgerVerifierKeyFile != "":
		text, err := os.ReadFile(c.LedgerVerifierKeyFile)
		if err != nil {
			return nil, fmt.Errorf("ledger verifier key: %w", err)
		}
		var vs []note.Verifier
		for _, line := range strings.Split(string(text), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			v, err := ledger.ParseVerifierKey(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.LedgerVerifierKeyFile, err)
			}
			vs = append(vs, v)
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("ledger verifier key: %s holds no key", c.LedgerVerifierKeyFile)
		}
		return vs, nil
	case c.LedgerKeyFile != "":
		text, err := os.ReadFile(c.LedgerKeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ledger key: %w", err)
		}
		_, vkey, err := ledger.ParseSignerKey(string(text))
		if err != nil {
			return nil, err
		}
		v, err := ledger.ParseVerifierKey(vkey)
		if err != nil {
			return nil, err
		}
		return []note.Verifier{v}, nil
	}
	return nil, nil
}

// readWitness opens every checkpoint of w with the first of vs, newest
// first, that verifies it, smallest size first; a file none verifies
// keeps the newest key's error.
func readWitness(w *ledger.Witness, vs []note.Verifier) ([]ledger.WitnessedFile, error) {
	byName := map[string]ledger.WitnessedFile{}
	for i := len(vs) - 1; i >= 0; i-- {
		opened, err := w.Read(vs[i])
		if err != nil {
			return nil, err
		}
		for _, f := range opened {
			if old, seen := byName[f.Name]; !seen || old.Err != nil && f.Err == nil {
				byName[f.Name] = f
			}
		}
	}
	files := slices.Collect(maps.Values(byName))
	slices.SortFunc(files, func(a, b ledger.WitnessedFile) int {
		return cmp.Or(cmp.Compare(a.Checkpoint.Size, b.Checkpoint.Size), cmp.Compare(a.Name, b.Name))
	})
	return files, nil
}

// witness returns the configured witness directory, nil when none is.
func (c config) witness() *ledger.Witness {
	if c.WitnessDir == "" {
		return nil
	}
	return &ledger.Witness{Dir: c.WitnessDir}
}

// newSealer returns the sealer of d's log with c's key, witness and
// schedule. Its metrics, which count the log's events by type, are
// registered with reg when it is not nil.
func newSealer(
	c config,
	d *deps,
	signer note.Signer,
	reg prometheus.Registerer,
) (*ledger.Sealer, error) {
	return ledger.NewSealer(d.store, d.pool, signer, ledger.SealerConfig{
		Every:      c.CheckpointEvery,
		Interval:   c.CheckpointInterval,
		Witness:    c.witness(),
		Registerer: reg,
		EventTypes: domain.EventTypes(),
		OnCheckpoint: func(cp ledger.Checkpoint) {
			d.log.Info().Int64("tree_size", cp.Size).Msg("checkpoint_signed")
		},
		OnError: func(err error) {
			if errors.Is(err, ledger.ErrSealerBusy) {
				d.log.Debug().Msg("ledger_sealed_elsewhere")
				return
			}
			d.log.Warn().Err(err).Msg("ledger_sealing_retry")
		},
	})
}

// runKeys answers `whitecross keys generate` and `whitecross keys public`.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("keys", stderr)
	out := fs.String("out", c.LedgerKeyFile, "signer key file to write or read (WHITECROSS_LEDGER_KEY_FILE)")
	fs.StringVar(&c.LedgerOrigin, "origin", c.LedgerOrigin, "the log's name, which names the key (WHITECROSS_LEDGER_ORIGIN)")
	// The action comes first (keys generate --out FILE) or after the
	// flags (keys --out FILE generate).
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if action == "" {
		action = fs.Arg(0)
	}
	switch {
	case *out == "":
		return errors.New("--out: name the signer key file")
	case action == "generate":
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("--out: %s exists; a key is never overwritten", *out)
		}
		_, vkey, err := writeLedgerKey(*out, c.LedgerOrigin)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the signer key to %s and the verifier key to %s.pub\n", *out, *out)
		fmt.Fprintln(stdout, vkey)
		return nil
	case action == "public":
		text, err := os.ReadFile(*out)
		if err != nil {
			return fmt.Errorf("ledger key: %w", err)
		}
		_, vkey, err := ledger.ParseSignerKey(string(text))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, vkey)
		return nil
	}
	fmt.Fprintln(stderr, "usage: whitecross keys generate|public [--out FILE] [--origin NAME]")
	return exitError{code: 2}
}

// runLedger answers `whitecross ledger seal`: it seals the log up to its
// newest event and signs a checkpoint, as serve does on its schedule.
func runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("ledger", stderr)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.Arg(0) != "seal" {
		fmt.Fprintln(stderr, "usage: whitecross ledger seal")
		return exitError{code: 2}
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	signer, _, err := ledgerSigner(c, d.log)
	if err != nil {
		return err
	}
	s, err := newSealer(c, d, signer, nil)
	if err != nil {
		return err
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkpoint of %d events signed\n%s", cp.Size, cp.Note)
	return nil
}

// ledgerCheck returns the check of the log against the ledger that verify
// runs and a line that says what it compares with. Witness files that do
// not verify come back in bad, to be reported as problems.
func ledgerCheck(
	ctx context.Context,
	c config,
	d *deps,
) (check *ledger.Check, about string, bad []string, err error) {
	tree := ledger.NewTree(d.pool)
	vs, err := ledgerVerifiers(c)
	if err != nil {
		return nil, "", nil, err
	}
	w := c.witness()
	if len(vs) == 0 || w == nil {
		return ledger.NewCheck(ctx, nil, tree), "no witness directory or verifier key " +
			"(WHITECROSS_WITNESS_DIR, WHITECROSS_LEDGER_KEY_FILE or " +
			"WHITECROSS_LEDGER_VERIFIER_KEY_FILE): the log was compared with its sealed " +
			"leaves only, not with signed checkpoints", nil, nil
	}
	files, err := readWitness(w, vs)
	if err != nil {
		return nil, "", nil, err
	}
	var cps []ledger.Checkpoint
	for _, f := range files {
		if f.Err != nil {
			bad = append(bad, fmt.Sprintf("witness file %s: %v", f.Name, f.Err))
			continue
		}
		cps = append(cps, f.Checkpoint)
	}
	about = "no checkpoint witnessed yet in " + w.Dir
	if len(cps) > 0 {
		about = fmt.Sprintf("compared with %d witnessed checkpoint(s), the latest of %d events",
			len(cps), cps[len(cps)-1].Size)
	}
	return ledger.NewCheck(ctx, cps, tree), about, bad, nil
}

// sealing is the sealer serve runs beside the API, and the key it signs
// with, which exports sign their manifests with too.
type sealing struct {
	ledger readapi.Ledger
	sealer *ledger.Sealer
	signer note.Signer
	done   chan struct{}
	err    atomic.Pointer[error]
}

// startSealing starts the sealer of d's log, its metrics registered with
// reg; it runs until ctx ends.
func startSealing(
	ctx context.Context,
	c config,
	d *deps,
	reg prometheus.Registerer,
) (*sealing, error) {
	signer, vkey, err := ledgerSigner(c, d.log)
	if err != nil {
		return nil, err
	}
	sealer, err := newSealer(c, d, signer, reg)
	if err != nil {
		return nil, err
	}
	s := &sealing{
		ledger: readapi.Ledger{Tree: sealer.Tree(), VerifierKey: vkey},
		sealer: sealer, signer: signer,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		err := sealer.Run(ctx)
		if ctx.Err() == nil {
			d.log.Error().Err(err).Msg("ledger_sealing_stopped")
			s.err.Store(&err)
		}
	}()
	return s, nil
}

// ready reports why sealing stopped, if it did: an event that does not
// match its hash stops it until an operator looks.
func (s *sealing) ready() error {
	if err := s.err.Load(); err != nil {
		return *err
	}
	return nil
}

// wait returns once the sealer has stopped.
func (s *sealing) wait() { <-s.done }
