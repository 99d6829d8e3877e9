package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StudentStream returns the name of student id's stream. It holds the
// student's whole chart, medications included, so that one aggregate
// decides medication safety with everything it needs.
func StudentStream(id string) string { return "student-" + id }

// Date is a calendar day written "YYYY-MM-DD", with no time of day and no
// zone: a birth date, a date of enrolment, an expiry. Valid dates of this
// form sort as strings do.
type Date string

const dateLayout = "2006-01-02"

// DateOf returns t's calendar day in t's own location.
func DateOf(t time.Time) Date { return Date(t.Format(dateLayout)) }

// Time returns d as midnight UTC, and false when d is not a valid date.
func (d Date) Time() (time.Time, bool) {
	t, err := time.Parse(dateLayout, string(d))
	if err != nil || t.Format(dateLayout) != string(d) {
		return time.Time{}, false
	}
	return t, true
}

// Valid reports whether d is a calendar day written YYYY-MM-DD.
func (d Date) Valid() bool {
	_, ok := d.Time()
	return ok
}

// Before reports whether d is an earlier day than o. Both must be valid.
func (d Date) Before(o Date) bool { return d < o }

// After reports whether d is a later day than o. Both must be valid.
func (d Date) After(o Date) bool { return d > o }

// Grade is a school grade: "PK" (pre-kindergarten), "K", or "1" to "12".
type Grade string

// Grades lists every grade, youngest first.
var Grades = []Grade{"PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

// Gender is the gender the school records for a student.
type Gender string

// The genders.
const (
	GenderFemale    Gender = "female"
	GenderMale      Gender = "male"
	GenderNonbinary Gender = "nonbinary"
	GenderUnknown   Gender = "unknown"
)

// Genders lists every gender.
var Genders = []Gender{GenderFemale, GenderMale, GenderNonbinary, GenderUnknown}

// StudentEnrolled opens a student's chart at a school.
type StudentEnrolled struct {
	StudentID string `json:"student_id"`
	// StudentNumber is the district's number for the student.
	StudentNumber string `json:"student_number"`
	DistrictID    string `json:"district_id"`
	SchoolID      string `json:"school_id"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	BirthDate     Date   `json:"birth_date"`
	Grade         Grade  `json:"grade"`
	Gender        Gender `json:"gender"`
	EnrolledOn    Date   `json:"enrolled_on"`
}

// DemographicsUpdated changes some of the student's demographics. It
// holds the changed fields only: an empty field is unchanged, which is
// unambiguous because none of them may be empty.
type DemographicsUpdated struct {
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	BirthDate  Date   `json:"birth_date,omitempty"`
	Grade      Grade  `json:"grade,omitempty"`
	Gender     Gender `json:"gender,omitempty"`
}

// StudentTransferred moves the student to another school of the district.
type StudentTransferred struct {
	FromSchoolID string `json:"from_school_id"`
	ToSchoolID   string `json:"to_school_id"`
	On           Date   `json:"on"`
}

// StudentWithdrawn records that the student left. The chart stays; it
// takes corrections but no new entry.
type StudentWithdrawn struct {
	On     Date   `json:"on"`
	Reason string `json:"reason"`
}

// ContactAdded adds an emergency contact.
type ContactAdded struct {
	ContactID    string `json:"contact_id"`
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	// Phone is normalised: an optional + and 7 to 15 digits.
	Phone string `json:"phone"`
	// Priority orders the calls: 1 first, up to 9.
	Priority  int  `json:"priority"`
	MayPickUp bool `json:"may_pick_up"`
}

// ContactRemoved removes an emergency contact who no longer is one.
type ContactRemoved struct {
	ContactID string `json:"contact_id"`
}

// ContactMarkedInError removes an emergency contact that should never
// have been added (the wrong number, another family's parent). The
// contact stays in the history.
type ContactMarkedInError struct {
	ContactID string   `json:"contact_id"`
	Reason    string   `json:"reason"`
	Original  EventRef `json:"original"`
}

// EventType returns "StudentEnrolled".
func (StudentEnrolled) EventType() string { return "StudentEnrolled" }

// EventType returns "DemographicsUpdated".
func (DemographicsUpdated) EventType() string { return "DemographicsUpdated" }

// EventType returns "StudentTransferred".
func (StudentTransferred) EventType() string { return "StudentTransferred" }

// EventType returns "StudentWithdrawn".
func (StudentWithdrawn) EventType() string { return "StudentWithdrawn" }

// EventType returns "ContactAdded".
func (ContactAdded) EventType() string { return "ContactAdded" }

// EventType returns "ContactRemoved".
func (ContactRemoved) EventType() string { return "ContactRemoved" }

// EventType returns "ContactMarkedInError".
func (ContactMarkedInError) EventType() string { return "ContactMarkedInError" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		StudentEnrolled{}.EventType():      decodeAs[StudentEnrolled],
		DemographicsUpdated{}.EventType():  decodeAs[DemographicsUpdated],
		StudentTransferred{}.EventType():   decodeAs[StudentTransferred],
		StudentWithdrawn{}.EventType():     decodeAs[StudentWithdrawn],
		ContactAdded{}.EventType():         decodeAs[ContactAdded],
		ContactRemoved{}.EventType():       decodeAs[ContactRemoved],
		ContactMarkedInError{}.EventType(): decodeAs[ContactMarkedInError],
	})
}

// Contact is an emergency contact of a student.
type Contact struct {
	ID           string
	Name         string
	Relationship string
	Phone        string
	Priority     int
	MayPickUp    bool
	// Revision is the revision of the event that added the contact.
	Revision uint64
}

// Student is a student's chart, rebuilt from its stream by FoldStudent:
// demographics, emergency contacts, chart entries (chart.go), emergency
// alerts (alerts.go) and medications. The zero Student is a student not
// yet enrolled.
type Student struct {
	ID            string
	StudentNumber string
	DistrictID    string
	SchoolID      string
	GivenName     string
	FamilyName    string
	BirthDate     Date
	Grade         Grade
	Gender        Gender
	EnrolledOn    Date
	// WithdrawnOn is the day the student left; empty while enrolled.
	WithdrawnOn      Date
	WithdrawalReason string
	// Contacts are in the order of their priority, then of their adding.
	Contacts    []Contact
	Medications Medications
	// Revision is the stream revision of the last event applied: the
	// expected revision of the next append.
	Revision uint64

	// entries are the chart entries in the order recorded; entryAt
	// finds one by its ID.
	entries []ChartEntry
	entryAt map[string]int
	// alerts are the emergency alerts in the order raised.
	alerts []Alert
	// eventIDs are the IDs of the stream's events by revision, when the
	// caller gave them (WithEventIDs).
	eventIDs []string
}

// FoldStudent rebuilds a student from its events, oldest first. It
// returns ErrNoEvents for an empty list and ErrUnexpectedEvent for a list
// that does not start with StudentEnrolled or holds another aggregate's
// events.
func FoldStudent(events []Event) (*Student, error) {
	return fold[Student]("student", events)
}

// Apply changes s by one event of its stream. It hands the events it
// does not know to s.Medications, and returns ErrUnexpectedEvent for one
// that is not a student event either, or is out of place.
func (s *Student) Apply(e Event) error {
	enrolled, isCreation := e.(StudentEnrolled)
	switch {
	case s.ID == "" && !isCreation:
		return unexpected("student", e, "before StudentEnrolled")
	case s.ID != "" && isCreation:
		return unexpected("student", e, "after StudentEnrolled")
	case isCreation:
		s.enrol(enrolled)
		return nil
	}

	handled, err := s.apply(e)
	if err != nil {
		return err
	}
	if !handled {
		handled, err := s.Medications.applyAt(e, s.applying())
		if err != nil {
			return err
		}
		if !handled {
			return unexpected("student", e, "is not a student event")
		}
	}
	s.Revision++
	return nil
}

// applying returns the revision of the event being applied: the one
// after the last applied, since the enrolment is revision 0.
func (s *Student) applying() uint64 { return s.Revision + 1 }

// WithEventIDs tells s the ID of each event of its stream, ids[r] for
// revision r, so that the corrections it decides name the event they
// correct. Without them, a correction names its original by revision
// alone.
func (s *Student) WithEventIDs(ids []string) { s.eventIDs = ids }

// ref names the event at revision of s's stream.
func (s *Student) ref(revision uint64) EventRef {
	r := EventRef{Revision: revision}
	if revision < uint64(len(s.eventIDs)) {
		r.EventID = s.eventIDs[revision]
	}
	return r
}

func (s *Student) enrol(e StudentEnrolled) {
	*s = Student{
		ID:            e.StudentID,
		StudentNumber: e.StudentNumber,
		DistrictID:    e.DistrictID,
		SchoolID:      e.SchoolID,
		GivenName:     e.GivenName,
		FamilyName:    e.FamilyName,
		BirthDate:     e.BirthDate,
		Grade:         e.Grade,
		Gender:        e.Gender,
		EnrolledOn:    e.EnrolledOn,
	}
}

// apply changes s by e and reports whether e is one of the events of
// this file, chart.go or alerts.go.
func (s *Student) apply(e Event) (bool, error) {
	switch e := e.(type) {
	case DemographicsUpdated:
		s.updateDemographics(e)
	case StudentTransferred:
		s.SchoolID = e.ToSchoolID
	case StudentWithdrawn:
		s.WithdrawnOn = e.On
		s.WithdrawalReason = e.Reason
	case ContactAdded:
		s.addContact(e)
	case ContactRemoved:
		return true, s.removeContact(e, e.ContactID)
	case ContactMarkedInError:
		return true, s.removeContact(e, e.ContactID)
	default:
		if handled, err := s.applyChart(e); handled {
			return true, err
		}
		return s.applyAlert(e)
	}
	return true, nil
}

func (s *Student) updateDemographics(e DemographicsUpdated) {
	s.GivenName = cmp.Or(e.GivenName, s.GivenName)
	s.FamilyName = cmp.Or(e.FamilyName, s.FamilyName)
	s.BirthDate = cmp.Or(e.BirthDate, s.BirthDate)
	s.Grade = cmp.Or(e.Grade, s.Grade)
	s.Gender = cmp.Or(e.Gender, s.Gender)
}

// addContact inserts the contact after those of the same or a higher
// priority (a lower number).
func (s *Student) addContact(e ContactAdded) {
	c := Contact{
		ID:           e.ContactID,
		Name:         e.Name,
		Relationship: e.Relationship,
		Phone:        e.Phone,
		Priority:     e.Priority,
		MayPickUp:    e.MayPickUp,
		Revision:     s.applying(),
	}
	i := slices.IndexFunc(s.Contacts, func(o Contact) bool { return o.Priority > c.Priority })
	if i < 0 {
		i = len(s.Contacts)
	}
	s.Contacts = slices.Insert(slices.Clone(s.Contacts), i, c)
}

func (s *Student) removeContact(e Event, id string) error {
	i := s.contactIndex(id)
	if i < 0 {
		return unexpected("student", e, "names an unknown contact")
	}
	s.Contacts = slices.Delete(slices.Clone(s.Contacts), i, i+1)
	if len(s.Contacts) == 0 {
		s.Contacts = nil
	}
	return nil
}

func (s *Student) contactIndex(id string) int {
	return slices.IndexFunc(s.Contacts, func(c Contact) bool { return c.ID == id })
}

// Enrolled reports whether s was enrolled and has not been withdrawn.
func (s *Student) Enrolled() bool { return s.ID != "" && s.WithdrawnOn == "" }

// AgeOn returns s's age on date's calendar day, in date's own location,
// in whole years and the whole months beyond them (0 to 11). A month is
// complete on the day of the month of the birth, or on the first of the
// next month when the month is shorter (a birthday on 29 February falls
// on 1 March in other years). AgeOn returns 0, 0 for a day before the
// birth date, or when s has no valid birth date.
func (s *Student) AgeOn(date time.Time) (years, months int) {
	m := monthsOld(s.BirthDate, DateOf(date))
	return m / 12, m % 12
}

// monthsOld returns the whole months from birth to on; 0 when either is
// not a valid date or on is before birth.
func monthsOld(birth, on Date) int {
	b, okB := birth.Time()
	d, okD := on.Time()
	if !okB || !okD || d.Before(b) {
		return 0
	}

	m := (d.Year()-b.Year())*12 + int(d.Month()-b.Month())
	if d.Day() < b.Day() {
		m--
	}
	return m
}

// EnrollStudent is the command that opens a student's chart.
type EnrollStudent struct {
	StudentID     string
	StudentNumber string // trimmed by NewStudent
	DistrictID    string
	SchoolID      string
	GivenName     string // trimmed by NewStudent
	FamilyName    string // trimmed by NewStudent
	BirthDate     Date
	Grade         Grade
	Gender        Gender
	EnrolledOn    Date
}

// studentNumberRule bounds a student number.
var studentNumberRule = textRule{min: 1, max: 32}

// NewStudent returns the StudentEnrolled that opens the chart cmd
// describes, or the refusal of each invalid field (Errors, CodeInvalid):
//   - student_id, district_id, school_id: IDs;
//   - student_number: 1 to 32 characters;
//   - given_name, family_name: 1 to 200 characters;
//   - birth_date: a date, not after now's day, at most 30 years before it;
//   - grade: one of Grades; gender: one of Genders;
//   - enrolled_on: a date, not before the birth date.
//
// A student number is unique in its district: the command that enrols
// first reserves it in StudentNumberStream, which the log lets exist once.
func NewStudent(cmd EnrollStudent, now time.Time) ([]Event, error) {
	e := StudentEnrolled{
		StudentID:     cmd.StudentID,
		StudentNumber: cmd.StudentNumber,
		DistrictID:    cmd.DistrictID,
		SchoolID:      cmd.SchoolID,
		GivenName:     cmd.GivenName,
		FamilyName:    cmd.FamilyName,
		BirthDate:     cmd.BirthDate,
		Grade:         cmd.Grade,
		Gender:        cmd.Gender,
		EnrolledOn:    cmd.EnrolledOn,
	}

	var errs Errors
	errs.add(checkID("student_id", e.StudentID, true))
	trimText(&errs, "student_number", &e.StudentNumber, studentNumberRule)
	errs.add(checkID("district_id", e.DistrictID, true))
	errs.add(checkID("school_id", e.SchoolID, true))
	trimText(&errs, "given_name", &e.GivenName, nameRule)
	trimText(&errs, "family_name", &e.FamilyName, nameRule)
	errs.add(checkBirthDate("birth_date", e.BirthDate, now))
	errs.add(checkOneOf("grade", e.Grade, Grades))
	errs.add(checkOneOf("gender", e.Gender, Genders))
	errs.add(checkEnrolledOn(e.EnrolledOn, e.BirthDate))
	if errs != nil {
		return nil, errs
	}
	return []Event{e}, nil
}

func checkEnrolledOn(on, birth Date) *Error {
	if err := checkDate("enrolled_on", on, true); err != nil {
		return err
	}
	if birth.Valid() && on.Before(birth) {
		return invalid("enrolled_on", "must not be before the birth date")
	}
	return nil
}

// UpdateDemographics is the command that changes a student's
// demographics. An empty field is left as it is.
type UpdateDemographics struct {
	GivenName  string
	FamilyName string
	BirthDate  Date
	Grade      Grade
	Gender     Gender
}

// UpdateDemographics returns a DemographicsUpdated with the fields of cmd
// that differ from s, or no event when none does. It refuses a command
// that sets no field, and each set field that is invalid as NewStudent
// says (CodeInvalid); a birth date after the enrolment date is refused
// too. A withdrawn student's demographics may still be corrected.
func (s *Student) UpdateDemographics(cmd UpdateDemographics, now time.Time) ([]Event, error) {
	if cmd == (UpdateDemographics{}) {
		return nil, invalid("", "must set at least one field")
	}

	var errs Errors
	e := DemographicsUpdated{}
	if cmd.GivenName != "" {
		e.GivenName = cmd.GivenName
		trimText(&errs, "given_name", &e.GivenName, nameRule)
	}
	if cmd.FamilyName != "" {
		e.FamilyName = cmd.FamilyName
		trimText(&errs, "family_name", &e.FamilyName, nameRule)
	}
	if cmd.BirthDate != "" {
		e.BirthDate = cmd.BirthDate
		errs.add(s.checkNewBirthDate(e.BirthDate, now))
	}
	if cmd.Grade != "" {
		e.Grade = cmd.Grade
		errs.add(checkOneOf("grade", e.Grade, Grades))
	}
	if cmd.Gender != "" {
		e.Gender = cmd.Gender
		errs.add(checkOneOf("gender", e.Gender, Genders))
	}
	if errs != nil {
		return nil, errs
	}
	return s.demographicsChanged(e), nil
}

func (s *Student) checkNewBirthDate(d Date, now time.Time) *Error {
	if err := checkBirthDate("birth_date", d, now); err != nil {
		return err
	}
	if d.After(s.EnrolledOn) {
		return invalid("birth_date", "must not be after the enrolment date")
	}
	return nil
}

// demographicsChanged returns e without the fields s already holds, as a
// list of no event when none is left.
func (s *Student) demographicsChanged(e DemographicsUpdated) []Event {
	clearSame(&e.GivenName, s.GivenName)
	clearSame(&e.FamilyName, s.FamilyName)
	clearSame(&e.BirthDate, s.BirthDate)
	clearSame(&e.Grade, s.Grade)
	clearSame(&e.Gender, s.Gender)
	if e == (DemographicsUpdated{}) {
		return nil
	}
	return []Event{e}
}

func clearSame[T comparable](v *T, current T) {
	if *v == current {
		var zero T
		*v = zero
	}
}

// Transfer moves s to school toSchoolID (an ID) on day on (a date), as a
// StudentTransferred; both are required (CodeInvalid). It refuses a
// withdrawn student (CodeRule, "enrolled"), a day before the enrolment
// (CodeRule, "on"), and the school s is at (CodeConflict). That the
// school is of s's district is the caller's to check.
func (s *Student) Transfer(toSchoolID string, on Date) ([]Event, error) {
	var errs Errors
	errs.add(checkID("to_school_id", toSchoolID, true))
	errs.add(checkDate("on", on, true))
	if errs != nil {
		return nil, errs
	}

	errs.add(s.checkEnrolled())
	errs.add(s.checkNotBeforeEnrolment("on", on))
	if toSchoolID == s.SchoolID {
		errs.add(refuseConflict("to_school_id", "is the student's school already"))
	}
	if errs != nil {
		return nil, errs
	}
	return []Event{StudentTransferred{
		FromSchoolID: s.SchoolID,
		ToSchoolID:   toSchoolID,
		On:           on,
	}}, nil
}

// withdrawalRule bounds the reason for a withdrawal.
var withdrawalRule = textRule{min: 1, max: 500, multiline: true}

// Withdraw records that s left on day on, for reason (1 to 500
// characters): a StudentWithdrawn, or no event when s is withdrawn
// already. It refuses an invalid field (CodeInvalid) and a day before the
// enrolment (CodeRule, "on").
func (s *Student) Withdraw(on Date, reason string) ([]Event, error) {
	var errs Errors
	errs.add(checkDate("on", on, true))
	trimText(&errs, "reason", &reason, withdrawalRule)
	if errs != nil {
		return nil, errs
	}

	if !s.Enrolled() {
		return nil, nil
	}
	if err := s.checkNotBeforeEnrolment("on", on); err != nil {
		return nil, err
	}
	return []Event{StudentWithdrawn{On: on, Reason: reason}}, nil
}

// checkEnrolled refuses, with CodeRule and the field "enrolled", what a
// withdrawn student may no longer receive.
func (s *Student) checkEnrolled() *Error {
	if s.Enrolled() {
		return nil
	}
	return ruleBroken("enrolled", "the student is withdrawn and takes no new entry")
}

func (s *Student) checkNotBeforeEnrolment(field string, d Date) *Error {
	if d.Before(s.EnrolledOn) {
		return ruleBroken(field, "must not be before the enrolment date")
	}
	return nil
}

// AddContact is the command that adds an emergency contact.
type AddContact struct {
	ContactID    string
	Name         string // trimmed
	Relationship string // trimmed; free text such as "mother"
	// Phone may hold spaces, dashes, dots and parentheses, which are
	// dropped: what is left is an optional + and 7 to 15 digits.
	Phone     string
	Priority  int // 1, called first, to 9
	MayPickUp bool
}

// relationshipRule bounds a contact's relationship to the student.
var relationshipRule = textRule{min: 1, max: 100}

// AddContact returns the ContactAdded that adds the contact cmd
// describes, or the refusal of each invalid field (Errors, CodeInvalid):
// contact_id an ID, name 1 to 200 characters, relationship 1 to 100,
// phone as AddContact.Phone says, priority 1 to 9. A contact_id already
// on the chart is refused (CodeConflict). A withdrawn student's contacts
// may still change.
func (s *Student) AddContact(cmd AddContact) ([]Event, error) {
	e := ContactAdded{
		ContactID:    cmd.ContactID,
		Name:         cmd.Name,
		Relationship: cmd.Relationship,
		Priority:     cmd.Priority,
		MayPickUp:    cmd.MayPickUp,
	}

	var errs Errors
	errs.add(checkID("contact_id", e.ContactID, true))
	trimText(&errs, "name", &e.Name, nameRule)
	trimText(&errs, "relationship", &e.Relationship, relationshipRule)
	phone, phoneErr := checkPhone("phone", cmd.Phone)
	errs.add(phoneErr)
	if e.Priority < 1 || e.Priority > 9 {
		errs.add(invalid("priority", "must be 1 to 9"))
	}
	if errs != nil {
		return nil, errs
	}

	if s.contactIndex(e.ContactID) >= 0 {
		return nil, refuseConflict("contact_id", "names a contact already on the chart")
	}
	e.Phone = phone
	return []Event{e}, nil
}

// RemoveContact returns the ContactRemoved that removes contact
// contactID. It refuses an ID that is not one (CodeInvalid) and a contact
// not on the chart (CodeNotFound).
func (s *Student) RemoveContact(contactID string) ([]Event, error) {
	if err := checkID("contact_id", contactID, true); err != nil {
		return nil, err
	}
	if s.contactIndex(contactID) < 0 {
		return nil, refuseNotFound("contact_id", "names no contact of the student")
	}
	return []Event{ContactRemoved{ContactID: contactID}}, nil
}

// MarkContactInError returns the ContactMarkedInError that removes
// contact contactID, added by mistake, for reason (5 to 500 characters).
// It refuses an invalid field (CodeInvalid) and a contact not on the
// chart (CodeNotFound).
func (s *Student) MarkContactInError(contactID, reason string) ([]Event, error) {
	reason, err := checkCorrection("contact_id", contactID, reason)
	if err != nil {
		return nil, err
	}
	i := s.contactIndex(contactID)
	if i < 0 {
		return nil, refuseNotFound("contact_id", "names no contact of the student")
	}
	return []Event{ContactMarkedInError{
		ContactID: contactID, Reason: reason, Original: s.ref(s.Contacts[i].Revision),
	}}, nil
}

// checkPhone returns phone without its separators (spaces, dashes, dots,
// parentheses), or the refusal of field unless what is left is an
// optional + and 7 to 15 digits, as in E.164.
func checkPhone(field, phone string) (string, *Error) {
	digits := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(phone))

	n := len(strings.TrimPrefix(digits, "+"))
	if !isDigits(strings.TrimPrefix(digits, "+")) || n < 7 || n > 15 {
		return "", invalid(field, "must be an optional + and 7 to 15 digits")
	}
	return digits, nil
}

// isDigits reports whether s is not empty and only ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkDate refuses d unless it is a date; an empty d is refused only
// when required.
func checkDate(field string, d Date, required bool) *Error {
	switch {
	case d == "" && !required:
		return nil
	case d == "":
		return invalid(field, "is required")
	case !d.Valid():
		return invalid(field, "must be a date, YYYY-MM-DD")
	}
	return nil
}

// checkPastDate is checkDate, and refuses a day after now's.
func checkPastDate(field string, d Date, required bool, now time.Time) *Error {
	if err := checkDate(field, d, required); err != nil || d == "" {
		return err
	}
	if d.After(DateOf(now)) {
		return invalid(field, "must not be in the future")
	}
	return nil
}

// maxStudentAge bounds how far back a birth date may be.
const maxStudentAge = 30

func checkBirthDate(field string, d Date, now time.Time) *Error {
	if err := checkPastDate(field, d, true, now); err != nil {
		return err
	}
	if d.Before(DateOf(now.AddDate(-maxStudentAge, 0, 0))) {
		return invalid(field, fmt.Sprintf("must be within the last %d years", maxStudentAge))
	}
	return nil
}

// checkOneOf refuses v unless it is one of known.
func checkOneOf[T ~string](field string, v T, known []T) *Error {
	switch {
	case slices.Contains(known, v):
		return nil
	case v == "":
		return invalid(field, "is required")
	}

	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return invalid(field, "must be one of "+strings.Join(names, ", "))
}

// trimText checks *s by rule and replaces it by its trimmed form, or adds
// the refusal of field to errs.
func trimText(errs *Errors, field string, s *string, rule textRule) {
	trimmed, err := checkText(field, *s, rule)
	if err != nil {
		errs.add(err)
		return
	}
	*s = trimmed
}

func refuseConflict(field, message string) *Error {
	return &Error{Code: CodeConflict, Field: field, Message: message}
}

func refuseNotFound(field, message string) *Error {
	return &Error{Code: CodeNotFound, Field: field, Message: message}
}
