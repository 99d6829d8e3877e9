package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	grantID   = "b4ea6c1a-0000-4000-8000-000000000003"
	studentID = "57de0000-0000-4000-8000-000000000004"

	// emergencyReason is a reason long enough to be accepted.
	emergencyReason = "Student collapsed at the field trip; checking allergies for EMS."
)

// breakGlassEvents has one event of each grant type.
var breakGlassEvents = []Event{
	BreakGlassOpened{
		GrantID:    grantID,
		UserID:     userID,
		StudentID:  studentID,
		ReasonCode: ReasonMedicalEmergency,
		Reason:     emergencyReason,
		OpenedAt:   t0,
		ExpiresAt:  t0.Add(time.Hour),
	},
	BreakGlassClosed{At: t0.Add(30 * time.Minute), By: adminID},
}

func validOpenBreakGlass() OpenBreakGlass {
	return OpenBreakGlass{
		GrantID:    grantID,
		UserID:     userID,
		StudentID:  studentID,
		ReasonCode: ReasonMedicalEmergency,
		Reason:     "  " + emergencyReason + "\n",
		Duration:   time.Hour,
	}
}

func TestNewBreakGlassGrant(t *testing.T) {
	cases := []struct {
		name   string
		change func(*OpenBreakGlass)
		refuse []string
	}{
		{"valid", func(*OpenBreakGlass) {}, nil},
		{"grant_id missing", func(c *OpenBreakGlass) { c.GrantID = "" }, []string{"invalid grant_id"}},
		{"user_id not an ID", func(c *OpenBreakGlass) { c.UserID = "joy" }, []string{"invalid user_id"}},
		{
			"student_id not an ID",
			func(c *OpenBreakGlass) { c.StudentID = "S-1042" },
			[]string{"invalid student_id"},
		},
		{"reason missing", func(c *OpenBreakGlass) { c.Reason = "" }, []string{"invalid reason"}},
		{
			"reason of 19 characters",
			func(c *OpenBreakGlass) { c.Reason = strings.Repeat("x", 19) },
			[]string{"invalid reason"},
		},
		{
			"reason padded to 20 characters",
			func(c *OpenBreakGlass) { c.Reason = "   emergency   " + strings.Repeat(" ", 10) },
			[]string{"invalid reason"},
		},
		{"reason of 20 characters", func(c *OpenBreakGlass) { c.Reason = strings.Repeat("é", 20) }, nil},
		{
			"reason of 2000 characters",
			func(c *OpenBreakGlass) { c.Reason = strings.Repeat("x", 2000) },
			nil,
		},
		{
			"reason of 2001 characters",
			func(c *OpenBreakGlass) { c.Reason = strings.Repeat("x", 2001) },
			[]string{"invalid reason"},
		},
		{
			"reason on several lines",
			func(c *OpenBreakGlass) { c.Reason = "Seizure in class.\r\n\tChecking the care plan." },
			nil,
		},
		{
			"reason with control character",
			func(c *OpenBreakGlass) { c.Reason = emergencyReason + "\x1b[2J" },
			[]string{"invalid reason"},
		},
		{"duration zero", func(c *OpenBreakGlass) { c.Duration = 0 }, []string{"invalid duration"}},
		{
			"duration under a minute",
			func(c *OpenBreakGlass) { c.Duration = 59 * time.Second },
			[]string{"invalid duration"},
		},
		{"duration of a minute", func(c *OpenBreakGlass) { c.Duration = time.Minute }, nil},
		{"duration of four hours", func(c *OpenBreakGlass) { c.Duration = 4 * time.Hour }, nil},
		{
			"duration over four hours",
			func(c *OpenBreakGlass) { c.Duration = 4*time.Hour + time.Second },
			[]string{"invalid duration"},
		},
		{
			"every field wrong",
			func(c *OpenBreakGlass) { *c = OpenBreakGlass{UserID: "x", Reason: "because"} },
			[]string{
				"invalid grant_id", "invalid user_id", "invalid student_id",
				"invalid reason", "invalid reason_code", "invalid duration",
			},
		},
		{"reason code unknown", func(c *OpenBreakGlass) { c.ReasonCode = "curiosity" }, []string{"invalid reason_code"}},
		{"reason code of old grants", func(c *OpenBreakGlass) { c.ReasonCode = ReasonUnspecified }, []string{"invalid reason_code"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validOpenBreakGlass()
			c.change(&cmd)
			events, err := NewBreakGlassGrant(cmd, t0)
			checkRefusals(t, err, c.refuse, strings.TrimSpace(cmd.Reason))
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
		})
	}
}

func TestNewBreakGlassGrantEvent(t *testing.T) {
	events, err := NewBreakGlassGrant(validOpenBreakGlass(), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := breakGlassEvents[:1]
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events = %#v, want %#v", events, want)
	}
}

func TestBreakGlassActiveAt(t *testing.T) {
	open := breakGlassEvents[:1]
	closed := breakGlassEvents // closed 30 minutes in
	cases := []struct {
		name   string
		events []Event
		at     time.Time
		want   bool
	}{
		{"before opening", open, t0.Add(-time.Second), false},
		{"at opening", open, t0, true},
		{"before expiry", open, t0.Add(59 * time.Minute), true},
		{"at expiry", open, t0.Add(time.Hour), false},
		{"after expiry", open, t0.Add(2 * time.Hour), false},
		{"before closing", closed, t0.Add(29 * time.Minute), true},
		{"at closing", closed, t0.Add(30 * time.Minute), false},
		{"after closing, before expiry", closed, t0.Add(45 * time.Minute), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := FoldBreakGlassGrant(c.events)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.ActiveAt(c.at); got != c.want {
				t.Errorf("ActiveAt(%v) = %v, want %v", c.at, got, c.want)
			}
		})
	}
}

func TestBreakGlassClose(t *testing.T) {
	cases := []struct {
		name   string
		events []Event
		by     string
		want   []Event
		refuse []string
	}{
		{
			name:   "open grant",
			events: breakGlassEvents[:1],
			by:     adminID,
			want:   []Event{BreakGlassClosed{At: t0.Add(time.Minute), By: adminID}},
		},
		{name: "closed grant", events: breakGlassEvents, by: adminID},
		{name: "by no one", events: breakGlassEvents[:1], refuse: []string{"invalid by"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := FoldBreakGlassGrant(c.events)
			if err != nil {
				t.Fatal(err)
			}
			events, err := g.Close(c.by, t0.Add(time.Minute))
			checkRefusals(t, err, c.refuse, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestBreakGlassFold(t *testing.T) {
	want := &BreakGlassGrant{
		ID:         grantID,
		UserID:     userID,
		StudentID:  studentID,
		ReasonCode: ReasonMedicalEmergency,
		Reason:     emergencyReason,
		OpenedAt:   t0,
		ExpiresAt:  t0.Add(time.Hour),
		ClosedAt:   t0.Add(30 * time.Minute),
		ClosedBy:   adminID,
		Revision:   1,
	}
	oneByOne := &BreakGlassGrant{}
	mustApply(t, oneByOne, breakGlassEvents)
	if !reflect.DeepEqual(oneByOne, want) {
		t.Errorf("applied one by one:\n got %#v\nwant %#v", oneByOne, want)
	}

	lists := map[string][]Event{"events": breakGlassEvents, "decoded": roundTrip(t, breakGlassEvents)}
	for name, list := range lists {
		got, err := FoldBreakGlassGrant(list)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("FoldBreakGlassGrant(%s) = %#v, %v\nwant %#v", name, got, err, want)
		}
	}
}

func TestFoldBreakGlassRefusals(t *testing.T) {
	opened := breakGlassEvents[0]
	cases := []struct {
		name   string
		events []Event
		want   error
	}{
		{"no events", nil, ErrNoEvents},
		{"closed before opened", breakGlassEvents[1:], ErrUnexpectedEvent},
		{"opened twice", []Event{opened, opened}, ErrUnexpectedEvent},
		{"session event", []Event{opened, SessionEnded{}}, ErrUnexpectedEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := FoldBreakGlassGrant(c.events); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestBreakGlassOpenedVersion1 loads a grant stored before reason codes
// existed, as version 1, through the upcaster.
func TestBreakGlassOpenedVersion1(t *testing.T) {
	v1 := []byte(`{"grant_id":"` + grantID + `","user_id":"` + userID + `","student_id":"` + studentID +
		`","reason":"` + emergencyReason + `","opened_at":"2026-09-01T08:00:00Z","expires_at":"2026-09-01T09:00:00Z"}`)
	e, err := DecodeEvent("BreakGlassOpened", 1, v1)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := e.(BreakGlassOpened)
	if !ok || got.ReasonCode != ReasonUnspecified || got.Reason != emergencyReason || got.GrantID != grantID {
		t.Fatalf("decoded %#v", e)
	}
	if _, version, _, _ := EncodeEvent(got); version != 2 {
		t.Errorf("written as version %d, want 2", version)
	}
	if _, err := DecodeEvent("BreakGlassOpened", 3, v1); !errors.Is(err, ErrUnknownSchemaVersion) {
		t.Errorf("version 3: %v, want ErrUnknownSchemaVersion", err)
	}
}
