package domain

// DistrictStream returns the name of district id's stream.
func DistrictStream(id string) string { return "district-" + id }

// SchoolStream returns the name of school id's stream.
func SchoolStream(id string) string { return "school-" + id }

// DistrictCreated opens a district, the body that runs schools and holds
// their students' numbers.
type DistrictCreated struct {
	DistrictID string `json:"district_id"`
	Name       string `json:"name"`
	CreatedBy  string `json:"created_by"` // empty when the system created it
}

// SchoolCreated opens a school in a district.
type SchoolCreated struct {
	SchoolID   string `json:"school_id"`
	DistrictID string `json:"district_id"`
	Name       string `json:"name"`
	CreatedBy  string `json:"created_by"` // empty when the system created it
}

// EventType returns "DistrictCreated".
func (DistrictCreated) EventType() string { return "DistrictCreated" }

// EventType returns "SchoolCreated".
func (SchoolCreated) EventType() string { return "SchoolCreated" }

// District is a district, rebuilt from its stream by FoldDistrict.
type District struct {
	ID        string
	Name      string
	CreatedBy string
	Revision  uint64 // stream revision of the last event applied
}

// CreateDistrict is the command that opens a district.
type CreateDistrict struct {
	DistrictID string
	Name       string // trimmed by NewDistrict
	CreatedBy  string // empty when the system itself creates it
}

// NewDistrict returns the DistrictCreated that opens the district cmd
// describes, or the refusal of each invalid field (Errors, CodeInvalid):
// district_id an ID, name 1 to 200 characters without control characters,
// created_by an ID when set.
func NewDistrict(cmd CreateDistrict) ([]Event, error) {
	var errs Errors
	errs.add(checkID("district_id", cmd.DistrictID, true))
	name, nameErr := checkText("name", cmd.Name, nameRule)
	errs.add(nameErr)
	errs.add(checkID("created_by", cmd.CreatedBy, false))
	if errs != nil {
		return nil, errs
	}

	return []Event{DistrictCreated{
		DistrictID: cmd.DistrictID,
		Name:       name,
		CreatedBy:  cmd.CreatedBy,
	}}, nil
}

// FoldDistrict rebuilds a district from its events, oldest first. It
// returns ErrNoEvents for an empty list and ErrUnexpectedEvent for any
// list but one DistrictCreated.
func FoldDistrict(events []Event) (*District, error) {
	return fold[District]("district", events)
}

// Apply changes d by one event of its stream. A district records only its
// creation so far; anything else is ErrUnexpectedEvent.
func (d *District) Apply(e Event) error {
	created, ok := e.(DistrictCreated)
	switch {
	case !ok:
		return unexpected("district", e, "is not a district event")
	case d.ID != "":
		return unexpected("district", e, "after DistrictCreated")
	}

	*d = District{ID: created.DistrictID, Name: created.Name, CreatedBy: created.CreatedBy}
	return nil
}

// School is a school, rebuilt from its stream by FoldSchool.
type School struct {
	ID         string
	DistrictID string
	Name       string
	CreatedBy  string
	Revision   uint64 // stream revision of the last event applied
}

// CreateSchool is the command that opens a school.
type CreateSchool struct {
	SchoolID   string
	DistrictID string
	Name       string // trimmed by NewSchool
	CreatedBy  string // empty when the system itself creates it
}

// NewSchool returns the SchoolCreated that opens the school cmd describes,
// or the refusal of each invalid field (Errors, CodeInvalid): school_id
// and district_id IDs, name 1 to 200 characters without control
// characters, created_by an ID when set. That the district exists is the
// caller's to check.
func NewSchool(cmd CreateSchool) ([]Event, error) {
	var errs Errors
	errs.add(checkID("school_id", cmd.SchoolID, true))
	errs.add(checkID("district_id", cmd.DistrictID, true))
	name, nameErr := checkText("name", cmd.Name, nameRule)
	errs.add(nameErr)
	errs.add(checkID("created_by", cmd.CreatedBy, false))
	if errs != nil {
		return nil, errs
	}

	return []Event{SchoolCreated{
		SchoolID:   cmd.SchoolID,
		DistrictID: cmd.DistrictID,
		Name:       name,
		CreatedBy:  cmd.CreatedBy,
	}}, nil
}

// FoldSchool rebuilds a school from its events, oldest first. It returns
// ErrNoEvents for an empty list and ErrUnexpectedEvent for any list but
// one SchoolCreated.
func FoldSchool(events []Event) (*School, error) {
	return fold[School]("school", events)
}

// Apply changes s by one event of its stream. A school records only its
// creation so far; anything else is ErrUnexpectedEvent.
func (s *School) Apply(e Event) error {
	created, ok := e.(SchoolCreated)
	switch {
	case !ok:
		return unexpected("school", e, "is not a school event")
	case s.ID != "":
		return unexpected("school", e, "after SchoolCreated")
	}

	*s = School{
		ID:         created.SchoolID,
		DistrictID: created.DistrictID,
		Name:       created.Name,
		CreatedBy:  created.CreatedBy,
	}
	return nil
}
