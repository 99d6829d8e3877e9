// Package auth decides who a request comes from and what it may do: the
// role and capability policy, passwords (argon2id), access tokens (JWT,
// EdDSA), refresh tokens, TOTP second factors and rate limits. It holds no
// state of its own: accounts and sessions are events in the log, kept by
// package commands.
//
// It imports domain (for roles) and well-kept libraries only.
package auth
