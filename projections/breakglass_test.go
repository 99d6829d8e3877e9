package projections_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// openGrant appends a grant of actor to student, opened at opened for
// an hour, and returns its ID.
func openGrant(h *projectiontest.Harness, actor, student string, opened time.Time) string {
	id := newID()
	h.Append(domain.BreakGlassStream(id), domain.BreakGlassOpened{
		GrantID: id, UserID: actor, StudentID: student, ReasonCode: domain.ReasonMedicalEmergency,
		Reason: "collapsed in the gym; allergies needed", OpenedAt: opened,
		ExpiresAt: opened.Add(time.Hour),
	})
	return id
}

// TestBreakGlass projects grants opened, closed (once, then again) and
// expired, and finds the one that is active for a user and a student at
// a given time.
func TestBreakGlass(t *testing.T) {
	eachMode(t, testBreakGlass)
}

func testBreakGlass(t *testing.T, h *projectiontest.Harness) {
	nurse, officer, student, other := newID(), newID(), newID(), newID()
	first := openGrant(h, nurse, student, t0)
	closedAt := t0.Add(10 * time.Minute)
	h.Append(domain.BreakGlassStream(first), domain.BreakGlassClosed{At: closedAt, By: officer})
	h.Append(domain.BreakGlassStream(first), domain.BreakGlassClosed{At: t0.Add(time.Hour), By: nurse})
	second := openGrant(h, nurse, student, t0.Add(30*time.Minute))
	third := openGrant(h, officer, other, t0.Add(40*time.Minute))
	h.Sync()

	tests := []struct {
		name           string
		actor, student string
		at             time.Time
		want           string
	}{
		{"before any grant", nurse, student, t0.Add(-time.Minute), ""},
		{"open", nurse, student, t0.Add(5 * time.Minute), first},
		{"closed", nurse, student, t0.Add(20 * time.Minute), ""},
		{"another grant", nurse, student, t0.Add(35 * time.Minute), second},
		{"expiry is exclusive", nurse, student, t0.Add(90 * time.Minute), ""},
		{"another user", officer, student, t0.Add(35 * time.Minute), ""},
		{"another student", nurse, other, t0.Add(45 * time.Minute), ""},
		{"the other's own", officer, other, t0.Add(45 * time.Minute), third},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := projections.ActiveGrant(t.Context(), h.Pool, tt.actor, tt.student, tt.at)
			if err != nil || ok != (tt.want != "") || got != tt.want {
				t.Errorf("active grant: %q %v %v, want %q", got, ok, err, tt.want)
			}
		})
	}

	rows, next, err := projections.Grants(t.Context(), h.Pool, projections.GrantFilter{})
	if err != nil || next != "" {
		t.Fatalf("grants: next %q, error %v", next, err)
	}
	if got := grantIDs(rows); !slices.Equal(got, []string{third, second, first}) {
		t.Errorf("grants, newest first: %q", got)
	}
	if c := rows[2]; !c.ClosedAt.Equal(closedAt) || c.ClosedBy != officer ||
		!c.OpenedAt.Equal(t0) || c.ReasonCode != domain.ReasonMedicalEmergency {
		t.Errorf("the closed grant, closed once: %+v", c)
	}
}

// TestGrants filters grants by user, student and whether they are open,
// and pages through them with the cursor.
func TestGrants(t *testing.T) {
	eachMode(t, testGrants)
}

func testGrants(t *testing.T, h *projectiontest.Harness) {
	nurse, officer, student := newID(), newID(), newID()
	var all []string
	for i := range 5 {
		actor := nurse
		if i%2 == 1 {
			actor = officer
		}
		all = append(all, openGrant(h, actor, student, t0.Add(time.Duration(i)*20*time.Minute)))
	}
	h.Append(domain.BreakGlassStream(all[4]), domain.BreakGlassClosed{At: t0.Add(85 * time.Minute), By: nurse})
	h.Sync()
	slices.Reverse(all)

	at := t0.Add(90 * time.Minute)
	tests := []struct {
		name   string
		filter projections.GrantFilter
		want   []string
	}{
		{"all", projections.GrantFilter{}, all},
		{"one user", projections.GrantFilter{ActorID: officer}, []string{all[1], all[3]}},
		{"one student", projections.GrantFilter{StudentID: student}, all},
		{"another student", projections.GrantFilter{StudentID: newID()}, nil},
		// Opened at 40, 60 and 80 minutes, for an hour; the last closed.
		{"open", projections.GrantFilter{Open: true, At: at}, []string{all[1], all[2]}},
		{"open, one user", projections.GrantFilter{Open: true, At: at, ActorID: nurse}, []string{all[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, next, err := projections.Grants(t.Context(), h.Pool, tt.filter)
			if err != nil || next != "" {
				t.Fatalf("grants: next %q, error %v", next, err)
			}
			if got := grantIDs(rows); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var pages [][]string
		f := projections.GrantFilter{Limit: 2}
		for len(pages) < 10 {
			rows, next, err := projections.Grants(t.Context(), h.Pool, f)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, grantIDs(rows))
			if next == "" {
				break
			}
			f.After = next
		}
		want := [][]string{all[:2], all[2:4], all[4:]}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages: %q, want %q", pages, want)
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		_, _, err := projections.Grants(t.Context(), h.Pool, projections.GrantFilter{After: "x"})
		if !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("grants: %v, want ErrInvalidCursor", err)
		}
	})
}

func grantIDs(rows []projections.GrantRow) []string {
	return each(rows, func(r projections.GrantRow) string { return r.GrantID })
}
