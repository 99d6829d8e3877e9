package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func init() {
	from := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	moreEvents = append(moreEvents, []Event{PHIDisclosed{
		DisclosureID: "d1", Kind: DisclosureExport, ActorID: "u3", ActorRole: RoleComplianceOfficer,
		StudentIDs: []string{"s1"}, Recipient: "external auditor", What: "export of one student's history",
		Purpose: "annual audit", ExportID: "e1", From: &from,
		At: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC),
	}})
}

const disclosureID = "d15c0000-0000-4000-8000-000000000005"

func validRecordDisclosure() RecordDisclosure {
	return RecordDisclosure{
		DisclosureID: disclosureID, ActorID: userID, ActorRole: RoleComplianceOfficer,
		StudentID: studentID, Recipient: "  County health department ",
		What: "immunization record", Purpose: "measles outbreak follow-up",
		At: "2026-12-02T15:30:00-05:00",
	}
}

func TestNewDisclosure(t *testing.T) {
	cases := []struct {
		name   string
		change func(*RecordDisclosure)
		refuse []string
	}{
		{"valid", func(*RecordDisclosure) {}, nil},
		{"disclosure_id missing", func(c *RecordDisclosure) { c.DisclosureID = "" }, []string{"invalid disclosure_id"}},
		{"student_id not an ID", func(c *RecordDisclosure) { c.StudentID = "S-1042" }, []string{"invalid student_id"}},
		{"recipient blank", func(c *RecordDisclosure) { c.Recipient = "   " }, []string{"invalid recipient"}},
		{"recipient on two lines", func(c *RecordDisclosure) { c.Recipient = "County\nhealth" }, []string{"invalid recipient"}},
		{"recipient of 201 characters", func(c *RecordDisclosure) { c.Recipient = strings.Repeat("r", 201) },
			[]string{"invalid recipient"}},
		{"what of 2000 characters on lines", func(c *RecordDisclosure) {
			c.What = strings.Repeat("w", 1000) + "\n" + strings.Repeat("w", 999)
		}, nil},
		{"what of 2001 characters", func(c *RecordDisclosure) { c.What = strings.Repeat("w", 2001) },
			[]string{"invalid what"}},
		{"purpose missing", func(c *RecordDisclosure) { c.Purpose = "" }, []string{"invalid purpose"}},
		{"at missing", func(c *RecordDisclosure) { c.At = "" }, []string{"invalid at"}},
		{"at a date only", func(c *RecordDisclosure) { c.At = "2026-12-02" }, []string{"invalid at"}},
		{"at in the future", func(c *RecordDisclosure) { c.At = t0.Add(time.Minute).Format(time.RFC3339) },
			[]string{"invalid at"}},
		{"at now", func(c *RecordDisclosure) { c.At = t0.Format(time.RFC3339) }, nil},
		{"every field wrong", func(c *RecordDisclosure) { *c = RecordDisclosure{At: "soon"} }, []string{
			"invalid disclosure_id", "invalid actor_id", "invalid student_id",
			"invalid recipient", "invalid what", "invalid purpose", "invalid at",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validRecordDisclosure()
			c.change(&cmd)
			events, err := NewDisclosure(cmd, t0)
			checkRefusals(t, err, c.refuse, "")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
		})
	}
}

func TestNewDisclosureEvent(t *testing.T) {
	events, err := NewDisclosure(validRecordDisclosure(), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{PHIDisclosed{
		DisclosureID: disclosureID, Kind: DisclosureOther, ActorID: userID,
		ActorRole: RoleComplianceOfficer, StudentIDs: []string{studentID},
		Recipient: "County health department", What: "immunization record",
		Purpose: "measles outbreak follow-up", At: time.Date(2026, 12, 2, 20, 30, 0, 0, time.UTC),
	}}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events = %#v, want %#v", events, want)
	}
}
