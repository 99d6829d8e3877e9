package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Event is one fact an aggregate recorded. Each event is a struct value of
// this package whose EventType is the type name the log stores, and whose
// JSON encoding, with snake_case field names, is the data the log stores.
// Commands return events; Apply methods take them, as values.
type Event interface {
	EventType() string
}

// SchemaVersion is the version of an event's data layout when it has
// never changed. A type whose layout changes gets the next version and an
// upcaster in upcasters that lifts the older data, so that every event
// ever stored still loads.
const SchemaVersion = 1

// upcasters holds, for each event type whose layout changed, the functions
// that lift its data one version at a time: element i turns version i+1
// into version i+2. A type's current version is one more than its number
// of upcasters.
var upcasters = map[string][]func([]byte) ([]byte, error){
	BreakGlassOpened{}.EventType(): {upcastBreakGlassOpenedV1},
	TOTPEnrolled{}.EventType():     {upcastTOTPEnrolledV1},
}

// schemaVersion returns the current schema version of eventType.
func schemaVersion(eventType string) int {
	return SchemaVersion + len(upcasters[eventType])
}

var (
	// ErrUnknownEventType is returned by EncodeEvent and DecodeEvent for a
	// type this package does not define. Test with errors.Is.
	ErrUnknownEventType = errors.New("unknown event type")

	// ErrUnknownSchemaVersion is returned by DecodeEvent for a schema
	// version it cannot read. Test with errors.Is.
	ErrUnknownSchemaVersion = errors.New("unknown schema version")

	// ErrUnexpectedEvent is returned by an aggregate's Apply, and by the
	// Fold functions, for an event of another aggregate, a first event
	// that does not create the aggregate, or a second creation. It means
	// the stream is not what its name says. Test with errors.Is.
	ErrUnexpectedEvent = errors.New("unexpected event")

	// ErrNoEvents is returned by the Fold functions for an empty list: no
	// aggregate exists without its creation event. Test with errors.Is.
	ErrNoEvents = errors.New("no events")
)

// decoders holds, for each event type, the function that reads its data.
var decoders = map[string]func([]byte) (Event, error){
	UserCreated{}.EventType():               decodeAs[UserCreated],
	RolesAssigned{}.EventType():             decodeAs[RolesAssigned],
	RolesRemoved{}.EventType():              decodeAs[RolesRemoved],
	SchoolsAssigned{}.EventType():           decodeAs[SchoolsAssigned],
	SchoolsRemoved{}.EventType():            decodeAs[SchoolsRemoved],
	PasswordSet{}.EventType():               decodeAs[PasswordSet],
	UserDeactivated{}.EventType():           decodeAs[UserDeactivated],
	UserReactivated{}.EventType():           decodeAs[UserReactivated],
	LoginSucceeded{}.EventType():            decodeAs[LoginSucceeded],
	LoginFailed{}.EventType():               decodeAs[LoginFailed],
	WitnessConfirmed{}.EventType():          decodeAs[WitnessConfirmed],
	WitnessConfirmationFailed{}.EventType(): decodeAs[WitnessConfirmationFailed],
	UserLocked{}.EventType():                decodeAs[UserLocked],
	UserUnlocked{}.EventType():              decodeAs[UserUnlocked],
	TOTPEnrolled{}.EventType():              decodeAs[TOTPEnrolled],
	TOTPRemoved{}.EventType():               decodeAs[TOTPRemoved],
	DistrictCreated{}.EventType():           decodeAs[DistrictCreated],
	SchoolCreated{}.EventType():             decodeAs[SchoolCreated],
	SessionStarted{}.EventType():            decodeAs[SessionStarted],
	SessionRefreshed{}.EventType():          decodeAs[SessionRefreshed],
	SessionEnded{}.EventType():              decodeAs[SessionEnded],
	BreakGlassOpened{}.EventType():          decodeAs[BreakGlassOpened],
	BreakGlassClosed{}.EventType():          decodeAs[BreakGlassClosed],
	EmailReserved{}.EventType():             decodeAs[EmailReserved],
}

// registerEvents adds the decoders of another file's event types; each
// file that defines events calls it from an init function.
func registerEvents(more map[string]func([]byte) (Event, error)) {
	for t, d := range more {
		if _, dup := decoders[t]; dup {
			panic("domain: event type " + t + " registered twice")
		}
		decoders[t] = d
	}
}

func decodeAs[E Event](data []byte) (Event, error) {
	var e E
	err := json.Unmarshal(data, &e)
	return e, err
}

// EventTypes returns the type names of every event this package defines,
// sorted.
func EventTypes() []string {
	types := make([]string, 0, len(decoders))
	for t := range decoders {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// EncodeEvent returns what the log stores of e: its type name, its schema
// version and its data as JSON. It refuses, with ErrUnknownEventType, an
// event whose type DecodeEvent could not read back.
func EncodeEvent(e Event) (eventType string, version int, data []byte, err error) {
	eventType = e.EventType()
	if _, ok := decoders[eventType]; !ok {
		return "", 0, nil, fmt.Errorf("encode %s: %w", eventType, ErrUnknownEventType)
	}

	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return eventType, schemaVersion(eventType), data, nil
}

// DecodeEvent reads the data of an event the log stored as eventType, in
// the given schema version (zero means 1), and returns the event as a
// value, for example a UserCreated. It does not validate the content: the
// log holds only what commands accepted.
func DecodeEvent(eventType string, version int, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("decode %s: %w", eventType, ErrUnknownEventType)
	}
	data, err := upcast(eventType, version, data)
	if err != nil {
		return nil, err
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// upcast lifts data of eventType from version (zero means 1) to the
// current version.
func upcast(eventType string, version int, data []byte) ([]byte, error) {
	if version == 0 {
		version = SchemaVersion
	}
	current := schemaVersion(eventType)
	if version < SchemaVersion || version > current {
		return nil, fmt.Errorf("decode %s version %d: %w", eventType, version, ErrUnknownSchemaVersion)
	}
	for _, up := range upcasters[eventType][version-SchemaVersion:] {
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("upcast %s from version %d: %w", eventType, version, err)
		}
		version++
	}
	return data, nil
}

// aggregate is what fold needs of an aggregate's pointer type.
type aggregate[A any] interface {
	*A
	Apply(Event) error
}

// fold rebuilds an aggregate from its events, oldest first.
func fold[A any, P aggregate[A]](name string, events []Event) (*A, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("fold %s: %w", name, ErrNoEvents)
	}

	a := P(new(A))
	for i, e := range events {
		if err := a.Apply(e); err != nil {
			return nil, fmt.Errorf("fold %s: event %d: %w", name, i, err)
		}
	}
	return a, nil
}

// unexpected returns the error of an Apply that cannot take e.
func unexpected(aggregate string, e Event, why string) error {
	return fmt.Errorf("%s: %s %s: %w", aggregate, e.EventType(), why, ErrUnexpectedEvent)
}

// The codes of an Error. The HTTP API maps each to one status.
const (
	// CodeInvalid: the command is malformed; Field names what is wrong.
	CodeInvalid = "invalid"
	// CodeConflict: the command contradicts the aggregate's state, for
	// example enrolling a second TOTP secret.
	CodeConflict = "conflict"
	// CodeNotFound: the command names something that does not exist.
	CodeNotFound = "not_found"
	// CodeForbidden: the caller may not do this.
	CodeForbidden = "forbidden"
	// CodeLocked: the account is locked.
	CodeLocked = "locked"
	// CodeRule: a rule of the domain refused a well-formed command, for
	// example removing a nurse's last school.
	CodeRule = "rule"
	// CodeSessionEnded: the session has ended, or just ended because it
	// was idle or expired; the user must log in again.
	CodeSessionEnded = "session_ended"
	// CodeRefreshReuse: a refresh token that was already exchanged came
	// back, so it was copied; the session has been ended.
	CodeRefreshReuse = "refresh_reuse"
)

// Error is the domain's refusal of a command. Its Message names what is
// wrong and never quotes a value: no password, token, secret or personal
// data appears in it, so it may be logged and shown.
type Error struct {
	Code string
	// Field is the command field at fault, in the JSON spelling of the API
	// ("email", "roles[1]"); empty when the refusal is about no one field.
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + e.Field + ": " + e.Message
}

// Errors is several refusals of one command, typically one per invalid
// field, in the order of the command's fields.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// add appends err unless it is nil.
func (es *Errors) add(err *Error) {
	if err != nil {
		*es = append(*es, err)
	}
}

// err returns es as an error, or nil when it is empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ErrorsOf returns the domain refusals in err: every *Error of an Errors,
// or the one *Error, or nil when err holds none (it is not a refusal but a
// failure).
func ErrorsOf(err error) []*Error {
	var list Errors
	if errors.As(err, &list) {
		return list
	}
	var one *Error
	if errors.As(err, &one) {
		return []*Error{one}
	}
	return nil
}

// ErrorCode returns the Code of the first domain refusal in err, or "" when
// err holds none.
func ErrorCode(err error) string {
	if refusals := ErrorsOf(err); len(refusals) > 0 {
		return refusals[0].Code
	}
	return ""
}

func invalid(field, message string) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: message}
}

func ruleBroken(field, message string) *Error {
	return &Error{Code: CodeRule, Field: field, Message: message}
}

// checkID refuses a value that is not an ID; empty when required.
func checkID(field, s string, required bool) *Error {
	switch {
	case s == "" && !required:
		return nil
	case s == "":
		return invalid(field, "is required")
	case !ValidID(s):
		return invalid(field, "must be a UUID in lower-case canonical form")
	}
	return nil
}

// checkIDs refuses an empty list, and names each element that is not an ID
// or repeats an earlier one.
func checkIDs(field string, ids []string) Errors {
	if len(ids) == 0 {
		return Errors{invalid(field, "must name at least one")}
	}

	var errs Errors
	for i, id := range ids {
		elem := field + "[" + strconv.Itoa(i) + "]"
		if e := checkID(elem, id, true); e != nil {
			errs = append(errs, e)
		} else if slices.Contains(ids[:i], id) {
			errs = append(errs, invalid(elem, "repeats an earlier element"))
		}
	}
	return errs
}

// textRule bounds a free-text field. Lengths count characters, not bytes,
// after surrounding white space is trimmed.
type textRule struct {
	min, max int
	// multiline allows line breaks and tabs; other control characters
	// are always refused.
	multiline bool
}

// checkText returns s trimmed, or the refusal of field.
func checkText(field, s string, rule textRule) (string, *Error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", invalid(field, "must be valid UTF-8")
	}

	n := utf8.RuneCountInString(s)
	if n < rule.min || n > rule.max {
		msg := fmt.Sprintf("must be %d to %d characters", rule.min, rule.max)
		return "", invalid(field, msg)
	}

	for _, r := range s {
		if rule.multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "", invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// nameRule bounds the names of people, districts and schools.
var nameRule = textRule{min: 1, max: 200}

// orNil returns a copy of s, nil when s is empty, so that an event reads
// back from JSON exactly as it was made.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
