package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// organisationEvents has one event of each district and school type.
var organisationEvents = []Event{
	DistrictCreated{DistrictID: districtID, Name: "North Valley Unified", CreatedBy: adminID},
	SchoolCreated{
		SchoolID:   schoolA,
		DistrictID: districtID,
		Name:       "Oak Elementary",
		CreatedBy:  adminID,
	},
}

func TestNewDistrict(t *testing.T) {
	valid := CreateDistrict{DistrictID: districtID, Name: " North Valley ", CreatedBy: adminID}
	cases := []struct {
		name   string
		change func(*CreateDistrict)
		want   []Event
		refuse []string
	}{
		{
			name:   "valid",
			change: func(*CreateDistrict) {},
			want: []Event{DistrictCreated{
				DistrictID: districtID, Name: "North Valley", CreatedBy: adminID,
			}},
		},
		{
			name:   "created by the system",
			change: func(c *CreateDistrict) { c.CreatedBy = "" },
			want:   []Event{DistrictCreated{DistrictID: districtID, Name: "North Valley"}},
		},
		{
			name:   "district_id missing",
			change: func(c *CreateDistrict) { c.DistrictID = "" },
			refuse: []string{"invalid district_id"},
		},
		{
			name:   "district_id not an ID",
			change: func(c *CreateDistrict) { c.DistrictID = "north" },
			refuse: []string{"invalid district_id"},
		},
		{
			name:   "name blank",
			change: func(c *CreateDistrict) { c.Name = "\t" },
			refuse: []string{"invalid name"},
		},
		{
			name:   "name of 201 characters",
			change: func(c *CreateDistrict) { c.Name = strings.Repeat("n", 201) },
			refuse: []string{"invalid name"},
		},
		{
			name:   "name with control character",
			change: func(c *CreateDistrict) { c.Name = "North\x00Valley" },
			refuse: []string{"invalid name"},
		},
		{
			name:   "created_by not an ID",
			change: func(c *CreateDistrict) { c.CreatedBy = "root" },
			refuse: []string{"invalid created_by"},
		},
		{
			name:   "every field wrong",
			change: func(c *CreateDistrict) { *c = CreateDistrict{CreatedBy: "x"} },
			refuse: []string{"invalid district_id", "invalid name", "invalid created_by"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := valid
			c.change(&cmd)
			events, err := NewDistrict(cmd)
			checkRefusals(t, err, c.refuse, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestNewSchool(t *testing.T) {
	valid := CreateSchool{SchoolID: schoolA, DistrictID: districtID, Name: "Oak Elementary"}
	cases := []struct {
		name   string
		change func(*CreateSchool)
		want   []Event
		refuse []string
	}{
		{
			name:   "valid",
			change: func(*CreateSchool) {},
			want: []Event{SchoolCreated{
				SchoolID: schoolA, DistrictID: districtID, Name: "Oak Elementary",
			}},
		},
		{
			name:   "name of 200 characters",
			change: func(c *CreateSchool) { c.Name = strings.Repeat("ö", 200) },
			want: []Event{SchoolCreated{
				SchoolID: schoolA, DistrictID: districtID, Name: strings.Repeat("ö", 200),
			}},
		},
		{
			name:   "school_id not an ID",
			change: func(c *CreateSchool) { c.SchoolID = "oak" },
			refuse: []string{"invalid school_id"},
		},
		{
			name:   "district_id missing",
			change: func(c *CreateSchool) { c.DistrictID = "" },
			refuse: []string{"invalid district_id"},
		},
		{
			name:   "district_id not an ID",
			change: func(c *CreateSchool) { c.DistrictID = "north" },
			refuse: []string{"invalid district_id"},
		},
		{
			name:   "name missing",
			change: func(c *CreateSchool) { c.Name = "" },
			refuse: []string{"invalid name"},
		},
		{
			name:   "name of 201 characters",
			change: func(c *CreateSchool) { c.Name = strings.Repeat("ö", 201) },
			refuse: []string{"invalid name"},
		},
		{
			name:   "created_by not an ID",
			change: func(c *CreateSchool) { c.CreatedBy = "x" },
			refuse: []string{"invalid created_by"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := valid
			c.change(&cmd)
			events, err := NewSchool(cmd)
			checkRefusals(t, err, c.refuse, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestFoldDistrict(t *testing.T) {
	events := organisationEvents[:1]
	want := &District{ID: districtID, Name: "North Valley Unified", CreatedBy: adminID}
	for name, list := range map[string][]Event{"events": events, "decoded": roundTrip(t, events)} {
		got, err := FoldDistrict(list)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("FoldDistrict(%s) = %#v, %v; want %#v", name, got, err, want)
		}
	}
}

func TestFoldSchool(t *testing.T) {
	events := organisationEvents[1:]
	want := &School{ID: schoolA, DistrictID: districtID, Name: "Oak Elementary", CreatedBy: adminID}
	for name, list := range map[string][]Event{"events": events, "decoded": roundTrip(t, events)} {
		got, err := FoldSchool(list)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("FoldSchool(%s) = %#v, %v; want %#v", name, got, err, want)
		}
	}
}

func TestFoldOrganisationRefusals(t *testing.T) {
	district, school := organisationEvents[0], organisationEvents[1]
	cases := []struct {
		name string
		fold func([]Event) error
		list []Event
		want error
	}{
		{"district of no events", foldDistrictErr, nil, ErrNoEvents},
		{"district of a school event", foldDistrictErr, []Event{school}, ErrUnexpectedEvent},
		{"district created twice", foldDistrictErr, []Event{district, district}, ErrUnexpectedEvent},
		{"school of no events", foldSchoolErr, nil, ErrNoEvents},
		{"school of a district event", foldSchoolErr, []Event{district}, ErrUnexpectedEvent},
		{"school created twice", foldSchoolErr, []Event{school, school}, ErrUnexpectedEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fold(c.list); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func foldDistrictErr(events []Event) error {
	_, err := FoldDistrict(events)
	return err
}

func foldSchoolErr(events []Event) error {
	_, err := FoldSchool(events)
	return err
}
