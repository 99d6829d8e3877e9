// Package readapi is the HTTP API on Echo: routing, health and readiness,
// and, as the service grows, the queries on read models and the command
// endpoints. It logs identifiers only, never a request or response body.
package readapi
