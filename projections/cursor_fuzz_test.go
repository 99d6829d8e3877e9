package projections

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
)

// FuzzCursors reads arbitrary cursor parameters with every list's cursor
// decoder, as a caller may send any: none may panic, and what each
// accepts encodes to a cursor that decodes to the same page again.
func FuzzCursors(f *testing.F) {
	id := uuid.NewString()
	for _, c := range []string{
		encodeCursor(id), encodeStockCursor(1, 42), encodePositionCursor(7),
		encodeDayCursor(dayKey{section: 1, student: id, orderID: id, index: 3}),
		disclosureCursor{disclosure: 5, requestsDone: true}.String(), "end.9", "0.0",
		base64.RawURLEncoding.EncodeToString([]byte("1,-4")), "",
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		if after, err := decodeCursor(cursor); err == nil && after != nil {
			if again, err := decodeCursor(encodeCursor(after.(string))); err != nil || again != after {
				t.Fatalf("student cursor %q: %v, then %v (%v)", cursor, after, again, err)
			}
		}
		if section, after, err := decodeStockCursor(cursor); err == nil && after != nil {
			s, a, err := decodeStockCursor(encodeStockCursor(section, after.(int64)))
			if err != nil || s != section || a != after {
				t.Fatalf("stock cursor %q: %d %v, then %d %v (%v)", cursor, section, after, s, a, err)
			}
		}
		if p, err := decodePositionCursor(cursor); err == nil && cursor != "" {
			if again, err := decodePositionCursor(encodePositionCursor(uint64(p))); err != nil || again != p {
				t.Fatalf("position cursor %q: %d, then %d (%v)", cursor, p, again, err)
			}
		}
		if k, err := decodeDayCursor(cursor); err == nil {
			if again, err := decodeDayCursor(encodeDayCursor(k)); err != nil || again != k {
				t.Fatalf("dose cursor %q: %+v, then %+v (%v)", cursor, k, again, err)
			}
		}
		// An empty cursor is the first page, which no cursor names.
		if c, err := parseDisclosureCursor(cursor); err == nil && cursor != "" {
			if again, err := parseDisclosureCursor(c.String()); err != nil || again != c {
				t.Fatalf("disclosure cursor %q: %+v, then %+v (%v)", cursor, c, again, err)
			}
		}
	})
}
