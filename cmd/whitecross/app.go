package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
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
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	log.Info().Msg("token_key_created")
	return key, nil
}

// newAccounts builds the account services over d's log, signing access
// tokens with key.
func newAccounts(c config, d *deps, key ed25519.PrivateKey) (*commands.Accounts, error) {
	tokens, err := auth.NewTokens(key, auth.TokenConfig{})
	if err != nil {
		return nil, err
	}
	return commands.NewAccounts(d.store, tokens, commands.Config{
		IdleTimeout: c.SessionIdle, AbsoluteTimeout: c.SessionMax,
		Lockout: domain.LockoutPolicy{
			MaxFailures: c.LockoutFailures, Window: c.LockoutWindow, LockFor: c.LockoutFor,
		},
	})
}

// appRoutes returns the application's routes over accounts and d's log,
// with login limited to 10 attempts a minute per address typed and 30 per
// client address.
func appRoutes(accounts *commands.Accounts, d *deps) ([]readapi.Route, error) {
	clinic, err := commands.NewClinic(d.store, accounts, commands.ClinicConfig{})
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
	return readapi.AppRoutes(readapi.Services{
		Accounts: accounts, Clinic: clinic, Auditor: commands.NewAuditor(d.store, nil), Log: d.store,
		LoginByAccount: byAccount, LoginByAddress: byAddress,
	}), nil
}
