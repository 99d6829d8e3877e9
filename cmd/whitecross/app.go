package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

// signingKey loads the access-token signing key from c.TokenKeyFile,
// making one there when the file does not exist. With no file configured
// it makes a key that lives as long as the process: tokens then do not
// survive a restart, and several instances cannot share them.
func signingKey(c config, log zerolog.Logger) (ed25519.PrivateKey, error) {
	if c.TokenKeyFile == "" {
		log.Warn().Msg("token_key_ephemeral")
		return auth.GenerateSigningKey()
	}
	pem, err := os.ReadFile(c.TokenKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return newKeyFile(c.TokenKeyFile, log)
	}
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return auth.ParseSigningKeyPEM(pem)
}

func newKeyFile(path string, log zerolog.Logger) (ed25519.PrivateKey, error) {
	key, err := auth.GenerateSigningKey()
	if err != nil {
		return nil, err
	}
	pem, err := auth.EncodeSigningKeyPEM(key)
	if err != nil {
		return nil, err
	}
	if err := writeKeyFile(path, pem); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	log.Info().Msg("token_key_created")
	return key, nil
}

// secretBox loads the key that seals second-factor secrets from
// c.SecretKeyFile (32 bytes, base64), making one there when the file does
// not exist. With no file configured it makes a key that lives as long as
// the process: a second factor enrolled then stops working at the next
// start.
//
// TODO: a key ring, so that the key can be rotated: a sealed value names
// its key (auth.SecretBox.KeyID), but a box opens values of its own key
// only, so a new key today means every second factor is enrolled again
// (docs/operations.md).
func secretBox(c config, log zerolog.Logger) (*auth.SecretBox, error) {
	if c.SecretKeyFile == "" {
		log.Warn().Msg("secret_key_ephemeral")
		key, err := auth.GenerateSecretKey()
		if err != nil {
			return nil, err
		}
		return auth.NewSecretBox(key)
	}
	text, err := os.ReadFile(c.SecretKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := auth.GenerateSecretKey()
		if err != nil {
			return nil, err
		}
		if err := writeKeyFile(c.SecretKeyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		log.Info().Msg("secret_key_created")
		return auth.NewSecretBox(key)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, errors.New("secret key: the file does not hold base64")
	}
	return auth.NewSecretBox(key)
}

// clinicConfig returns the settings of the clinical commands in c.
func clinicConfig(c config) commands.ClinicConfig {
	return commands.ClinicConfig{Medication: domain.MedicationPolicy{
		TimeCriticalWindow:   c.DoseWindowTimeCritical,
		StandardWindow:       c.DoseWindowStandard,
		AllergyOverrideRoles: c.AllergyOverrideRoles.roles,
	}}
}

// tokenVerifyKeys returns the public halves of the keys in
// c.TokenVerifyKeyFiles, whose tokens are accepted besides those of the
// signing key: the next key before a rotation, the previous one after.
func tokenVerifyKeys(c config) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for _, path := range c.TokenVerifyKeyFiles {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("WHITECROSS_TOKEN_VERIFY_KEY_FILES: %w", err)
		}
		key, err := auth.ParseSigningKeyPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("WHITECROSS_TOKEN_VERIFY_KEY_FILES: %s: %w", path, err)
		}
		keys = append(keys, key.Public().(ed25519.PublicKey))
	}
	return keys, nil
}

// writeKeyFile writes a new key file readable by its owner only.
func writeKeyFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// newAccounts builds the account services over d's log, signing access
// tokens with key.
// Second-factor secrets are sealed with the key in c.SecretKeyFile.
func newAccounts(c config, d *deps, key ed25519.PrivateKey) (*commands.Accounts, error) {
	others, err := tokenVerifyKeys(c)
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokens(key, auth.TokenConfig{VerifyKeys: others})
	if err != nil {
		return nil, err
	}
	secrets, err := secretBox(c, d.log)
	if err != nil {
		return nil, err
	}
	return commands.NewAccounts(d.store, tokens, commands.Config{
		Secrets:     secrets,
		IdleTimeout: c.SessionIdle, AbsoluteTimeout: c.SessionMax,
		Lockout: domain.LockoutPolicy{
			MaxFailures: c.LockoutFailures, Window: c.LockoutWindow, LockFor: c.LockoutFor,
		},
	})
}

// appRoutes returns every route of the application over accounts, d's
// log and the read models runner keeps, with login limited to 10 attempts
// a minute per address typed and 30 per client address, and the
// medication rules c configures.
func appRoutes(
	c config,
	accounts *commands.Accounts,
	d *deps,
	runner *projections.Runner,
	auditor *commands.Auditor,
) ([]readapi.Route, error) {
	clinic, err := commands.NewClinic(d.store, accounts, clinicConfig(c))
	if err != nil {
		return nil, err
	}
	byAccount, err := auth.NewLimiter(rate.Every(6*time.Second), 10, 100_000)
	if err != nil {
		return nil, err
	}
	byAddress, err := auth.NewLimiter(rate.Every(2*time.Second), 30, 100_000)
	if err != nil {
		return nil, err
	}
	return readapi.Routes(readapi.Services{
		Accounts: accounts, Clinic: clinic, Auditor: auditor, Log: d.store,
		LoginByAccount: byAccount, LoginByAddress: byAddress,
	}, readapi.ReadModels{
		// TODO: queries from a read replica. They would also have to wait,
		// for after=, until the replica has replayed the checkpoint the
		// primary reached (docs/operations.md); until then every query
		// reads the primary.
		Runner: runner, DB: d.pool, Auditor: auditor, Log: d.store,
		// The doses due are judged by the windows the commands use.
		Medication: clinicConfig(c).Medication,
	}), nil
}
