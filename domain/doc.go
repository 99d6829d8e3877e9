// Package domain holds the aggregates, events and rules of a health office:
// students and their charts, medications, users. It is pure Go: no I/O, no
// clock (callers pass the time in), no logging, and it imports nothing but
// the standard library.
package domain
