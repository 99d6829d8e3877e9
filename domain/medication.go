package domain

// Medications is the medication part of a student's chart: orders and
// every administration, refusal, miss, hold and blocked attempt. The
// Student aggregate holds one and hands it every medication event.
//
// TODO: placeholder until the medication rules land in this file.
type Medications struct{}

// Apply applies e when it is a medication event and reports whether it
// was one.
func (m *Medications) Apply(e Event) (bool, error) { return false, nil }
