package commands_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// TestClinicPolicyDefaults fills each zero field of the medication policy
// with its default, and only those: a list of nobody who may override
// stays empty.
func TestClinicPolicyDefaults(t *testing.T) {
	nobody := []domain.Role{}
	cases := []struct {
		name string
		in   domain.MedicationPolicy
		want domain.MedicationPolicy
	}{
		{"zero", domain.MedicationPolicy{}, domain.DefaultMedicationPolicy()},
		{"nobody may override", domain.MedicationPolicy{AllergyOverrideRoles: nobody},
			domain.MedicationPolicy{TimeCriticalWindow: 30 * time.Minute, StandardWindow: time.Hour,
				AllergyOverrideRoles: nobody}},
		{"one window set", domain.MedicationPolicy{StandardWindow: 2 * time.Hour},
			domain.MedicationPolicy{TimeCriticalWindow: 30 * time.Minute, StandardWindow: 2 * time.Hour,
				AllergyOverrideRoles: []domain.Role{domain.RoleNurse}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clinic, err := commands.NewClinic(nil, nil, commands.ClinicConfig{Medication: c.in})
			if err != nil {
				t.Fatal(err)
			}
			if got := clinic.Policy(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("policy = %+v, want %+v", got, c.want)
			}
		})
	}
	_, err := commands.NewClinic(nil, nil, commands.ClinicConfig{
		Medication: domain.MedicationPolicy{StandardWindow: 5 * time.Hour}})
	if domain.ErrorCode(err) != domain.CodeInvalid {
		t.Errorf("a window of 5 hours: %v, want it refused", err)
	}
}

// TestIdempotencyKeyOfAnotherRequest records an allergy under a key, then
// sends the key again: from the same caller with the same request, the
// first result comes back; from another caller, or with another request,
// the key is refused and nothing is appended.
func TestIdempotencyKeyOfAnotherRequest(t *testing.T) {
	a, l := newAccounts(t)
	ctx := t.Context()
	district, _, err := a.CreateDistrict(ctx, sysadmin, commands.Meta{}, "D")
	if err != nil {
		t.Fatal(err)
	}
	school, _, err := a.CreateSchool(ctx, sysadmin, commands.Meta{}, district, "S")
	if err != nil {
		t.Fatal(err)
	}
	clinic, err := commands.NewClinic(l, a, commands.ClinicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	nurse := auth.Principal{UserID: uuid.NewString(), Roles: []domain.Role{domain.RoleNurse},
		Schools: []string{school}}
	student, _, err := clinic.Enrol(ctx, nurse, commands.Meta{}, domain.EnrollStudent{
		StudentNumber: "S-1", DistrictID: district, SchoolID: school, GivenName: "A", FamilyName: "B",
		BirthDate: "2016-01-01", Grade: "4", Gender: "unknown", EnrolledOn: "2025-08-20"})
	if err != nil {
		t.Fatal(err)
	}
	allergy := func(s *domain.Student, now time.Time) ([]domain.Event, error) {
		return s.RecordAllergy(domain.RecordAllergy{EntryID: "e0000000-0000-4000-8000-000000000001",
			Allergen: "peanut", AllergenType: "food", Severity: "severe"}, now)
	}
	meta := commands.Meta{ActorID: nurse.UserID, IdempotencyKey: "k-1", RequestDigest: "digest-1"}
	first, err := clinic.Chart(ctx, nurse, meta, student, allergy)
	if err != nil {
		t.Fatal(err)
	}
	again, err := clinic.Chart(ctx, nurse, meta, student, allergy)
	if err != nil || !again.Repeated || again.Position != first.Position ||
		again.Recorded[0].ID != first.Recorded[0].ID {
		t.Fatalf("the same request again: %+v, %v; want the first result %+v", again, err, first)
	}

	other := nurse
	other.UserID = uuid.NewString()
	otherMeta := meta
	otherMeta.ActorID = other.UserID
	changed := meta
	changed.RequestDigest = "digest-2"
	length := streamLength(t, l, domain.StudentStream(student))
	for name, c := range map[string]struct {
		actor auth.Principal
		meta  commands.Meta
	}{
		"another caller":  {other, otherMeta},
		"another request": {nurse, changed},
	} {
		_, err := clinic.Chart(ctx, c.actor, c.meta, student, allergy)
		if !errors.Is(err, commands.ErrIdempotencyKeyReused) {
			t.Errorf("%s under the same key: %v, want ErrIdempotencyKeyReused", name, err)
		}
	}
	if n := streamLength(t, l, domain.StudentStream(student)); n != length {
		t.Errorf("the chart grew from %d to %d events", length, n)
	}
}
