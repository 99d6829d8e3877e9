package domain

// AllergyFact is what the medication rules need of one allergy on a
// student's chart: the chart (student.go) provides them, the medication
// rules (medication.go) read them.
type AllergyFact struct {
	EntryID  string // the event that recorded it, for the refusal to name
	Allergen string // as recorded, e.g. "penicillin"
	Type     string // food, medication, environmental, insect, latex, other
	Severity string // mild, moderate, severe, life-threatening
}
