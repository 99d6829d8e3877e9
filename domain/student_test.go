package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	chartContactA = "c0a1c7a0-0000-4000-8000-000000000011"
	chartContactB = "c0a1c7a0-0000-4000-8000-000000000012"
	chartContactC = "c0a1c7a0-0000-4000-8000-000000000013"
)

// studentEvents has one event of each student type, with every field set.
var studentEvents = []Event{
	StudentEnrolled{
		StudentID:     studentID,
		StudentNumber: "S-1001",
		DistrictID:    districtID,
		SchoolID:      schoolA,
		GivenName:     "Ana",
		FamilyName:    "Reyes",
		BirthDate:     "2017-05-20",
		Grade:         "3",
		Gender:        GenderFemale,
		EnrolledOn:    "2022-08-15",
	},
	DemographicsUpdated{
		GivenName:  "Ana María",
		FamilyName: "Reyes López",
		BirthDate:  "2017-05-21",
		Grade:      "4",
		Gender:     GenderNonbinary,
	},
	StudentTransferred{FromSchoolID: schoolA, ToSchoolID: schoolB, On: "2026-11-02"},
	StudentWithdrawn{On: "2027-06-15", Reason: "Moved out of the district."},
	ContactAdded{
		ContactID:    chartContactA,
		Name:         "Lucía Reyes",
		Relationship: "mother",
		Phone:        "+15551234567",
		Priority:     1,
		MayPickUp:    true,
	},
	ContactRemoved{ContactID: chartContactA},
}

func init() { moreEvents = append(moreEvents, studentEvents) }

func validEnrollStudent() EnrollStudent {
	return EnrollStudent{
		StudentID:     studentID,
		StudentNumber: " S-1001 ",
		DistrictID:    districtID,
		SchoolID:      schoolA,
		GivenName:     " Ana ",
		FamilyName:    "Reyes\t",
		BirthDate:     "2017-05-20",
		Grade:         "3",
		Gender:        GenderFemale,
		EnrolledOn:    "2022-08-15",
	}
}

// chartStudent returns the student validEnrollStudent describes, with
// change made to the command first when it is not nil, and setup applied
// after the enrolment; and the history it was folded from.
func chartStudent(t *testing.T, change func(*EnrollStudent), setup ...Event) (*Student, []Event) {
	t.Helper()
	cmd := validEnrollStudent()
	if change != nil {
		change(&cmd)
	}
	history, err := NewStudent(cmd, t0)
	if err != nil {
		t.Fatal(err)
	}

	history = append(history, setup...)
	s, err := FoldStudent(history)
	if err != nil {
		t.Fatal(err)
	}
	return s, history
}

// decideStudent runs a command on s and applies what it returns.
func decideStudent(t *testing.T, s *Student, cmd func(*Student) ([]Event, error)) []Event {
	t.Helper()
	events, err := cmd(s)
	if err != nil {
		t.Fatalf("command refused: %v", err)
	}
	mustApply(t, s, events)
	return events
}

// checkUnchanged fails t unless s is what history folds to: a command
// must not change the aggregate it decides on.
func checkUnchanged(t *testing.T, s *Student, history []Event) {
	t.Helper()
	folded, err := FoldStudent(history)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, folded) {
		t.Errorf("the command changed the student:\n got %#v\nwant %#v", s, folded)
	}
}

// studentCase is a command run on a student and what it should return.
type studentCase struct {
	name   string
	change func(*EnrollStudent) // the enrolment, from validEnrollStudent
	setup  []Event              // applied after the enrolment
	run    func(*Student) ([]Event, error)
	want   []Event  // nil: no event
	refuse []string // refusals, "code field"
}

func runStudentCases(t *testing.T, cases []studentCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, history := chartStudent(t, c.change, c.setup...)
			events, err := c.run(s)
			checkRefusals(t, err, c.refuse, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v\nwant %#v", events, c.want)
			}
			checkUnchanged(t, s, history)
		})
	}
}

func TestStudentStream(t *testing.T) {
	if got, want := StudentStream(studentID), "student-"+studentID; got != want {
		t.Errorf("StudentStream = %q, want %q", got, want)
	}
}

func TestDate(t *testing.T) {
	cases := []struct {
		date Date
		want bool
	}{
		{"2024-02-29", true},
		{"2026-12-03", true},
		{"2023-02-29", false},
		{"2024-13-01", false},
		{"2024-2-29", false},
		{"24-02-29", false},
		{" 2024-02-29", false},
		{"2024-02-29T00:00:00Z", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(string(c.date), func(t *testing.T) {
			if got := c.date.Valid(); got != c.want {
				t.Errorf("Valid() = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDateOf(t *testing.T) {
	late := time.Date(2026, 12, 3, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	cases := []struct {
		name string
		t    time.Time
		want Date
	}{
		{"UTC", t0, "2026-12-03"},
		{"the day of the location, not of UTC", late, "2026-12-03"},
		{"the same instant in UTC", late.UTC(), "2026-12-04"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DateOf(c.t); got != c.want {
				t.Errorf("DateOf = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNewStudent(t *testing.T) {
	cases := []struct {
		name   string
		change func(*EnrollStudent)
		refuse []string
	}{
		{"valid", func(*EnrollStudent) {}, nil},
		{"student_id missing", func(c *EnrollStudent) { c.StudentID = "" },
			[]string{"invalid student_id"}},
		{"student_id not an ID", func(c *EnrollStudent) { c.StudentID = "S-1001" },
			[]string{"invalid student_id"}},
		{"student_number blank", func(c *EnrollStudent) { c.StudentNumber = "  " },
			[]string{"invalid student_number"}},
		{"student_number of 32 characters", func(c *EnrollStudent) {
			c.StudentNumber = strings.Repeat("9", 32)
		}, nil},
		{"student_number of 33 characters", func(c *EnrollStudent) {
			c.StudentNumber = strings.Repeat("9", 33)
		}, []string{"invalid student_number"}},
		{"district_id not an ID", func(c *EnrollStudent) { c.DistrictID = "north" },
			[]string{"invalid district_id"}},
		{"school_id missing", func(c *EnrollStudent) { c.SchoolID = "" },
			[]string{"invalid school_id"}},
		{"given_name blank", func(c *EnrollStudent) { c.GivenName = "\t" },
			[]string{"invalid given_name"}},
		{"family_name of 201 characters", func(c *EnrollStudent) {
			c.FamilyName = strings.Repeat("é", 201)
		}, []string{"invalid family_name"}},
		{"birth_date missing", func(c *EnrollStudent) { c.BirthDate = "" },
			[]string{"invalid birth_date"}},
		{"birth_date without zero padding", func(c *EnrollStudent) { c.BirthDate = "2017-5-20" },
			[]string{"invalid birth_date"}},
		{"birth_date that does not exist", func(c *EnrollStudent) { c.BirthDate = "2017-02-29" },
			[]string{"invalid birth_date"}},
		{"birth_date tomorrow", func(c *EnrollStudent) {
			c.BirthDate, c.EnrolledOn = "2026-12-04", "2026-12-04"
		}, []string{"invalid birth_date"}},
		{"birth_date today", func(c *EnrollStudent) {
			c.BirthDate, c.EnrolledOn = "2026-12-03", "2026-12-03"
		}, nil},
		{"birth_date 30 years ago", func(c *EnrollStudent) { c.BirthDate = "1996-12-03" }, nil},
		{"birth_date more than 30 years ago", func(c *EnrollStudent) { c.BirthDate = "1996-12-02" },
			[]string{"invalid birth_date"}},
		{"grade missing", func(c *EnrollStudent) { c.Grade = "" }, []string{"invalid grade"}},
		{"grade 13", func(c *EnrollStudent) { c.Grade = "13" }, []string{"invalid grade"}},
		{"grade k in lower case", func(c *EnrollStudent) { c.Grade = "k" }, []string{"invalid grade"}},
		{"grade PK", func(c *EnrollStudent) { c.Grade = "PK" }, nil},
		{"grade 12", func(c *EnrollStudent) { c.Grade = "12" }, nil},
		{"gender missing", func(c *EnrollStudent) { c.Gender = "" }, []string{"invalid gender"}},
		{"gender not in the list", func(c *EnrollStudent) { c.Gender = "other" },
			[]string{"invalid gender"}},
		{"gender unknown", func(c *EnrollStudent) { c.Gender = GenderUnknown }, nil},
		{"enrolled_on missing", func(c *EnrollStudent) { c.EnrolledOn = "" },
			[]string{"invalid enrolled_on"}},
		{"enrolled_on not a date", func(c *EnrollStudent) { c.EnrolledOn = "15/08/2022" },
			[]string{"invalid enrolled_on"}},
		{"enrolled_on before birth", func(c *EnrollStudent) { c.EnrolledOn = "2017-05-19" },
			[]string{"invalid enrolled_on"}},
		{"enrolled_on in the future", func(c *EnrollStudent) { c.EnrolledOn = "2027-01-05" }, nil},
		{"every field wrong", func(c *EnrollStudent) {
			*c = EnrollStudent{StudentID: "x", Grade: "x", Gender: "x", EnrolledOn: "x"}
		}, []string{
			"invalid student_id", "invalid student_number", "invalid district_id",
			"invalid school_id", "invalid given_name", "invalid family_name",
			"invalid birth_date", "invalid grade", "invalid gender", "invalid enrolled_on",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validEnrollStudent()
			c.change(&cmd)
			events, err := NewStudent(cmd, t0)
			checkRefusals(t, err, c.refuse, "")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
		})
	}
}

func TestNewStudentEvent(t *testing.T) {
	events, err := NewStudent(validEnrollStudent(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := studentEvents[:1]; !reflect.DeepEqual(events, want) {
		t.Errorf("events = %#v\nwant %#v", events, want)
	}
}

func TestUpdateDemographics(t *testing.T) {
	withdrawn := []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}}
	runStudentCases(t, []studentCase{
		{
			name: "names and grade",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{
					GivenName: " Ana María ", FamilyName: "Reyes López", Grade: "4",
				}, t0)
			},
			want: []Event{DemographicsUpdated{
				GivenName: "Ana María", FamilyName: "Reyes López", Grade: "4",
			}},
		},
		{
			name: "only the fields that change",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{
					GivenName: "Ana", BirthDate: "2017-05-21", Gender: GenderFemale,
				}, t0)
			},
			want: []Event{DemographicsUpdated{BirthDate: "2017-05-21"}},
		},
		{
			name: "every field as it is",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{
					GivenName: "Ana", FamilyName: "Reyes", BirthDate: "2017-05-20",
					Grade: "3", Gender: GenderFemale,
				}, t0)
			},
		},
		{
			name: "no field",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{}, t0)
			},
			refuse: []string{"invalid"},
		},
		{
			name: "blank names",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{GivenName: " ", FamilyName: "\n"}, t0)
			},
			refuse: []string{"invalid given_name", "invalid family_name"},
		},
		{
			name: "birth_date in the future",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{BirthDate: "2027-01-01"}, t0)
			},
			refuse: []string{"invalid birth_date"},
		},
		{
			name: "birth_date after the enrolment",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{BirthDate: "2022-08-16"}, t0)
			},
			refuse: []string{"invalid birth_date"},
		},
		{
			name: "grade and gender unknown",
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{Grade: "0", Gender: "f"}, t0)
			},
			refuse: []string{"invalid grade", "invalid gender"},
		},
		{
			name:  "withdrawn student",
			setup: withdrawn,
			run: func(s *Student) ([]Event, error) {
				return s.UpdateDemographics(UpdateDemographics{FamilyName: "Reyes-Ortiz"}, t0)
			},
			want: []Event{DemographicsUpdated{FamilyName: "Reyes-Ortiz"}},
		},
	})
}

func TestTransfer(t *testing.T) {
	runStudentCases(t, []studentCase{
		{
			name: "to another school",
			run:  func(s *Student) ([]Event, error) { return s.Transfer(schoolB, "2026-11-02") },
			want: []Event{StudentTransferred{
				FromSchoolID: schoolA, ToSchoolID: schoolB, On: "2026-11-02",
			}},
		},
		{
			name:   "to the same school",
			run:    func(s *Student) ([]Event, error) { return s.Transfer(schoolA, "2026-11-02") },
			refuse: []string{"conflict to_school_id"},
		},
		{
			name:   "to a school that is not an ID, on no day",
			run:    func(s *Student) ([]Event, error) { return s.Transfer("oak", "") },
			refuse: []string{"invalid to_school_id", "invalid on"},
		},
		{
			name:   "on a day that is not a date",
			run:    func(s *Student) ([]Event, error) { return s.Transfer(schoolB, "2026-11-31") },
			refuse: []string{"invalid on"},
		},
		{
			name:   "before the enrolment",
			run:    func(s *Student) ([]Event, error) { return s.Transfer(schoolB, "2022-08-14") },
			refuse: []string{"rule on"},
		},
		{
			name:   "withdrawn student",
			setup:  []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}},
			run:    func(s *Student) ([]Event, error) { return s.Transfer(schoolB, "2026-12-01") },
			refuse: []string{"rule enrolled"},
		},
	})
}

func TestWithdraw(t *testing.T) {
	withdrawn := []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}}
	runStudentCases(t, []studentCase{
		{
			name: "withdraw",
			run: func(s *Student) ([]Event, error) {
				return s.Withdraw("2026-12-18", " Moved away.\n")
			},
			want: []Event{StudentWithdrawn{On: "2026-12-18", Reason: "Moved away."}},
		},
		{
			name:  "withdraw twice",
			setup: withdrawn,
			run:   func(s *Student) ([]Event, error) { return s.Withdraw("2026-12-18", "moved") },
		},
		{
			name:   "on no day, for no reason",
			run:    func(s *Student) ([]Event, error) { return s.Withdraw("", " ") },
			refuse: []string{"invalid on", "invalid reason"},
		},
		{
			name: "for a reason of 501 characters",
			run: func(s *Student) ([]Event, error) {
				return s.Withdraw("2026-12-18", strings.Repeat("x", 501))
			},
			refuse: []string{"invalid reason"},
		},
		{
			name:   "before the enrolment",
			run:    func(s *Student) ([]Event, error) { return s.Withdraw("2021-01-01", "moved") },
			refuse: []string{"rule on"},
		},
	})
}

func validAddContact() AddContact {
	return AddContact{
		ContactID:    chartContactA,
		Name:         " Lucía Reyes ",
		Relationship: "mother",
		Phone:        "+1 (555) 123-4567",
		Priority:     1,
		MayPickUp:    true,
	}
}

func TestAddContact(t *testing.T) {
	cases := []struct {
		name   string
		change func(*AddContact)
		refuse []string
	}{
		{"valid", func(*AddContact) {}, nil},
		{"contact_id not an ID", func(c *AddContact) { c.ContactID = "mum" },
			[]string{"invalid contact_id"}},
		{"name blank", func(c *AddContact) { c.Name = "" }, []string{"invalid name"}},
		{"relationship blank", func(c *AddContact) { c.Relationship = " " },
			[]string{"invalid relationship"}},
		{"relationship of 101 characters", func(c *AddContact) {
			c.Relationship = strings.Repeat("r", 101)
		}, []string{"invalid relationship"}},
		{"phone of 7 digits", func(c *AddContact) { c.Phone = "555-1234" }, nil},
		{"phone of 15 digits with +", func(c *AddContact) { c.Phone = "+44 20 7946 0958 123" }, nil},
		{"phone with dots", func(c *AddContact) { c.Phone = "555.123.4567" }, nil},
		{"phone missing", func(c *AddContact) { c.Phone = "" }, []string{"invalid phone"}},
		{"phone of 6 digits", func(c *AddContact) { c.Phone = "555-123" }, []string{"invalid phone"}},
		{"phone of 16 digits", func(c *AddContact) { c.Phone = "+1234567890123456" },
			[]string{"invalid phone"}},
		{"phone with letters", func(c *AddContact) { c.Phone = "555-CALL-NOW" },
			[]string{"invalid phone"}},
		{"phone with + inside", func(c *AddContact) { c.Phone = "1+5551234567" },
			[]string{"invalid phone"}},
		{"phone with two +", func(c *AddContact) { c.Phone = "++15551234567" },
			[]string{"invalid phone"}},
		{"priority 0", func(c *AddContact) { c.Priority = 0 }, []string{"invalid priority"}},
		{"priority 9", func(c *AddContact) { c.Priority = 9 }, nil},
		{"priority 10", func(c *AddContact) { c.Priority = 10 }, []string{"invalid priority"}},
		{"every field wrong", func(c *AddContact) { *c = AddContact{} }, []string{
			"invalid contact_id", "invalid name", "invalid relationship",
			"invalid phone", "invalid priority",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, history := chartStudent(t, nil)
			cmd := validAddContact()
			c.change(&cmd)
			events, err := s.AddContact(cmd)
			checkRefusals(t, err, c.refuse, "")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
			checkUnchanged(t, s, history)
		})
	}
}

func TestContactCommands(t *testing.T) {
	added := []Event{studentEvents[4]}
	runStudentCases(t, []studentCase{
		{
			name: "add",
			run:  func(s *Student) ([]Event, error) { return s.AddContact(validAddContact()) },
			want: added,
		},
		{
			name:   "add a contact_id already on the chart",
			setup:  added,
			run:    func(s *Student) ([]Event, error) { return s.AddContact(validAddContact()) },
			refuse: []string{"conflict contact_id"},
		},
		{
			name:  "add to a withdrawn student",
			setup: []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}},
			run:   func(s *Student) ([]Event, error) { return s.AddContact(validAddContact()) },
			want:  added,
		},
		{
			name:  "remove",
			setup: added,
			run:   func(s *Student) ([]Event, error) { return s.RemoveContact(chartContactA) },
			want:  []Event{ContactRemoved{ContactID: chartContactA}},
		},
		{
			name:   "remove a contact not on the chart",
			setup:  added,
			run:    func(s *Student) ([]Event, error) { return s.RemoveContact(chartContactB) },
			refuse: []string{"not_found contact_id"},
		},
		{
			name:   "remove a contact_id that is not an ID",
			run:    func(s *Student) ([]Event, error) { return s.RemoveContact("") },
			refuse: []string{"invalid contact_id"},
		},
	})
}

func TestContactsInPriorityOrder(t *testing.T) {
	contact := func(id string, priority int) ContactAdded {
		return ContactAdded{
			ContactID: id, Name: id, Relationship: "aunt", Phone: "5551234", Priority: priority,
		}
	}
	s, _ := chartStudent(t, nil,
		contact(chartContactA, 2), contact(chartContactB, 1), contact(chartContactC, 2))

	var got []string
	for _, c := range s.Contacts {
		got = append(got, c.ID)
	}
	want := []string{chartContactB, chartContactA, chartContactC}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contacts = %q, want %q", got, want)
	}

	mustApply(t, s, []Event{ContactRemoved{ContactID: chartContactA}})
	if n := len(s.Contacts); n != 2 || s.Contacts[0].ID != chartContactB {
		t.Errorf("after removal: %#v, want %s then %s", s.Contacts, chartContactB, chartContactC)
	}
}

func TestAgeOn(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	cases := []struct {
		name        string
		birth       Date
		on          time.Time
		years, mons int
	}{
		{"day of birth", "2017-05-20", noonUTC(2017, 5, 20), 0, 0},
		{"day before a month", "2017-05-20", noonUTC(2017, 6, 19), 0, 0},
		{"one month", "2017-05-20", noonUTC(2017, 6, 20), 0, 1},
		{"day before the first birthday", "2017-05-20", noonUTC(2018, 5, 19), 0, 11},
		{"first birthday", "2017-05-20", noonUTC(2018, 5, 20), 1, 0},
		{"the tests' now", "2017-05-20", t0, 9, 6},
		{"before birth", "2017-05-20", noonUTC(2017, 5, 19), 0, 0},
		{
			"the day of the location",
			"2017-05-20", time.Date(2018, 5, 19, 23, 0, 0, 0, est), 0, 11,
		},
		{"born on 29 February, on 28 February", "2016-02-29", noonUTC(2017, 2, 28), 0, 11},
		{"born on 29 February, on 1 March", "2016-02-29", noonUTC(2017, 3, 1), 1, 0},
		{"born on 31 January, on 28 February", "2017-01-31", noonUTC(2017, 2, 28), 0, 0},
		{"born on 31 January, on 1 March", "2017-01-31", noonUTC(2017, 3, 1), 0, 1},
		{"no birth date", "", t0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Student{BirthDate: c.birth}
			years, months := s.AgeOn(c.on)
			if years != c.years || months != c.mons {
				t.Errorf("AgeOn = %d, %d; want %d, %d", years, months, c.years, c.mons)
			}
		})
	}
}

// noonUTC returns midday UTC of a day.
func noonUTC(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestEnrolled(t *testing.T) {
	s, _ := chartStudent(t, nil)
	if !s.Enrolled() {
		t.Error("Enrolled() = false after the enrolment, want true")
	}
	mustApply(t, s, []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}})
	if s.Enrolled() {
		t.Error("Enrolled() = true after the withdrawal, want false")
	}
	if (&Student{}).Enrolled() {
		t.Error("Enrolled() = true for the zero Student, want false")
	}
}

// TestStudentFold builds a whole chart with commands, then checks that
// applying its events one by one, folding them, and folding them after
// a round trip through the log's encoding give the same student.
func TestStudentFold(t *testing.T) {
	s, history := chartStudent(t, nil)
	steps := []func(*Student) ([]Event, error){
		func(s *Student) ([]Event, error) {
			return s.UpdateDemographics(UpdateDemographics{Grade: "4"}, t0)
		},
		func(s *Student) ([]Event, error) { return s.AddContact(validAddContact()) },
		func(s *Student) ([]Event, error) { return s.Transfer(schoolB, "2026-11-02") },
		func(s *Student) ([]Event, error) { return s.RecordAllergy(validRecordAllergy(), t0) },
		func(s *Student) ([]Event, error) { return s.RecordCondition(validRecordCondition(), t0) },
		func(s *Student) ([]Event, error) {
			return s.RecordImmunization(validRecordImmunization(), t0)
		},
		func(s *Student) ([]Event, error) { return s.RecordExemption(validRecordExemption(), t0) },
		func(s *Student) ([]Event, error) { return s.RecordScreening(validRecordScreening(), t0) },
		func(s *Student) ([]Event, error) { return s.RecordGrowth(validRecordGrowth(), t0) },
		func(s *Student) ([]Event, error) { return s.RecordVitals(validRecordVitals(), t0) },
		func(s *Student) ([]Event, error) { return s.RecordVisit(validRecordVisit(), t0) },
		func(s *Student) ([]Event, error) {
			return s.AmendEntry(AmendEntry{
				EntryID: chartVitalsID,
				Reason:  "Thermometer misread.",
				Changes: map[string]any{"temperature_c": 38.6},
			}, t0)
		},
		func(s *Student) ([]Event, error) {
			return s.MarkInError(chartScreeningID, "Recorded on the wrong chart.")
		},
		func(s *Student) ([]Event, error) { return s.RaiseAlert(validRaiseAlert(), t0) },
		func(s *Student) ([]Event, error) { return s.AcknowledgeAlert(chartAlertID, userID, t0) },
		func(s *Student) ([]Event, error) {
			return s.ResolveAlert(ResolveAlert{AlertID: chartAlertID, By: userID, Outcome: "EMS"}, t0)
		},
		func(s *Student) ([]Event, error) { return s.RemoveContact(chartContactA) },
		func(s *Student) ([]Event, error) { return s.Withdraw("2026-12-18", "moved") },
	}
	for _, step := range steps {
		history = append(history, decideStudent(t, s, step)...)
	}

	if got, want := s.Revision, uint64(len(history)-1); got != want {
		t.Errorf("Revision = %d, want %d", got, want)
	}
	if s.SchoolID != schoolB || s.Grade != "4" || s.Enrolled() || s.Contacts != nil {
		t.Errorf("student = %+v, want at school B, in grade 4, withdrawn, no contact", s)
	}
	if n := len(s.Entries()); n != 8 {
		t.Errorf("%d entries, want 8", n)
	}

	folded, err := FoldStudent(history)
	if err != nil || !reflect.DeepEqual(folded, s) {
		t.Errorf("FoldStudent = %#v, %v\nwant %#v", folded, err, s)
	}
	replayed, err := FoldStudent(roundTrip(t, history))
	if err != nil || !reflect.DeepEqual(replayed, s) {
		t.Errorf("FoldStudent of decoded events = %#v, %v\nwant %#v", replayed, err, s)
	}
}

func TestFoldStudentRefusals(t *testing.T) {
	enrolled := studentEvents[0]
	cases := []struct {
		name   string
		events []Event
		want   error
	}{
		{"no events", nil, ErrNoEvents},
		{"first event not an enrolment", studentEvents[1:2], ErrUnexpectedEvent},
		{"enrolled twice", []Event{enrolled, enrolled}, ErrUnexpectedEvent},
		{"another aggregate's event", []Event{enrolled, SessionEnded{}}, ErrUnexpectedEvent},
		{"pointer to an event", []Event{enrolled, &StudentWithdrawn{}}, ErrUnexpectedEvent},
		{
			"removal of an unknown contact",
			[]Event{enrolled, ContactRemoved{ContactID: chartContactB}},
			ErrUnexpectedEvent,
		},
		{
			"entry recorded twice",
			[]Event{enrolled, chartEvents[0], chartEvents[0]},
			ErrUnexpectedEvent,
		},
		{
			"correction of an unknown entry",
			[]Event{enrolled, EntryMarkedInError{EntryID: chartAllergyID, Reason: "wrong"}},
			ErrUnexpectedEvent,
		},
		{
			"amendment of an unknown entry",
			[]Event{enrolled, EntryAmended{EntryID: chartAllergyID, Reason: "wrong"}},
			ErrUnexpectedEvent,
		},
		{
			"acknowledgement of an unknown alert",
			[]Event{enrolled, AlertAcknowledged{AlertID: chartAlertID, By: userID, At: t0}},
			ErrUnexpectedEvent,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := FoldStudent(c.events)
			if !errors.Is(err, c.want) || s != nil {
				t.Errorf("FoldStudent = %v, %v; want nil, %v", s, err, c.want)
			}
		})
	}
}
