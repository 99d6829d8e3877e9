package domain_test

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/events.md from the code")

const eventsDoc = "../docs/events.md"

// TestEventsDoc keeps docs/events.md true: it lists every event type this
// package can store, with its schema version and fields, as the code has
// them. Run with -update after changing an event.
func TestEventsDoc(t *testing.T) {
	got := renderEvents(t)
	if *updateDocs {
		if err := os.WriteFile(eventsDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(eventsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date: run `go test ./domain -run TestEventsDoc -update`", eventsDoc)
	}
}

func renderEvents(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Events\n\n")
	b.WriteString("Every event type the log stores, with its schema version and the fields of\n")
	b.WriteString("its data (JSON). Generated from the code by\n")
	b.WriteString("`go test ./domain -run TestEventsDoc -update`; the same test fails when this\n")
	b.WriteString("page and the code disagree. Every event also carries the envelope of\n")
	b.WriteString("[the event log](event-log.md): id, stream, revision, position, recorded time and\n")
	b.WriteString("metadata (actor, role, school, request and correlation ids, reason,\n")
	b.WriteString("break-glass flag).\n\n")
	b.WriteString("A correction (an `…MarkedInError` event, `EntryAmended`) names the event it\n")
	b.WriteString("corrects in `original`: its `event_id` and its `revision` in the stream. It is\n")
	b.WriteString("zero in corrections recorded before they named their original; no original\n")
	b.WriteString("is at revision 0, the stream's creation.\n")
	for _, typ := range domain.EventTypes() {
		ev, err := domain.DecodeEvent(typ, 0, []byte("{}"))
		if err != nil {
			t.Fatalf("decode an empty %s: %v", typ, err)
		}
		_, version, _, err := domain.EncodeEvent(ev)
		if err != nil {
			t.Fatalf("encode %s: %v", typ, err)
		}
		fmt.Fprintf(&b, "\n## %s\n\nSchema version %d.\n\n", typ, version)
		rows := fields(reflect.TypeOf(ev), "")
		if len(rows) == 0 {
			b.WriteString("No fields.\n")
			continue
		}
		b.WriteString("| field | type |\n| --- | --- |\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| `%s` | %s |\n", r[0], r[1])
		}
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

// fields lists the JSON fields of struct type t, nested ones with dotted
// names.
func fields(t reflect.Type, prefix string) [][2]string {
	var rows [][2]string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		kind := typeName(f.Type)
		if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
			kind += ", optional"
		}
		rows = append(rows, [2]string{prefix + name, kind})
		inner := f.Type
		for inner.Kind() == reflect.Pointer || inner.Kind() == reflect.Slice {
			inner = inner.Elem()
		}
		if inner.Kind() == reflect.Struct && inner != timeType {
			suffix := "."
			if f.Type.Kind() == reflect.Slice {
				suffix = "[]."
			}
			rows = append(rows, fields(inner, prefix+name+suffix)...)
		}
	}
	return rows
}

func typeName(t reflect.Type) string {
	switch {
	case t == timeType:
		return "time (RFC 3339)"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "JSON"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "object"
	case t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Interface:
		return "JSON"
	}
	kind := t.Kind().String()
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") {
		kind = "integer"
	}
	if strings.HasPrefix(kind, "float") {
		kind = "number"
	}
	if t.Name() != "" && t.Name() != t.Kind().String() && t.PkgPath() != "" {
		return fmt.Sprintf("%s (%s)", kind, t.Name())
	}
	return kind
}
