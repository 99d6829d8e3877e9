package domain

import (
	"strings"
	"testing"
	"time"
)

// emailEvents are the events of the email reservation streams, for the
// round-trip tests.
var emailEvents = []Event{
	EmailReserved{UserID: "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
}

func TestEmailStream(t *testing.T) {
	a, b := EmailStream(" Nurse@School.example "), EmailStream("nurse@school.example")
	if a != b {
		t.Errorf("same address, other spelling: %s and %s", a, b)
	}
	if strings.Contains(a, "nurse") || !strings.HasPrefix(a, "email-") {
		t.Errorf("stream %s must hold a digest, not the address", a)
	}
	if EmailStream("other@school.example") == a {
		t.Error("two addresses share a stream")
	}
	if LoginAttemptsStream("nurse@school.example") == a {
		t.Error("the login-attempts stream is the reservation stream")
	}
}

func init() {
	moreEvents = append(moreEvents, []Event{
		StudentNumberReserved{StudentID: "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
	})
}

func TestStudentNumberStream(t *testing.T) {
	a := StudentNumberStream("d1", "S-1001")
	if a == StudentNumberStream("d2", "S-1001") || a == StudentNumberStream("d1", "S-1002") {
		t.Error("distinct numbers or districts share a stream")
	}
	if strings.Contains(a, "S-1001") {
		t.Errorf("stream %s must hold a digest, not the number", a)
	}
}

func init() {
	moreEvents = append(moreEvents, []Event{
		PHIAccessed{AccessID: "a1", ActorID: "u1", ActorRole: RoleNurse, StudentIDs: []string{"s1"},
			What: "GET /v1/students/:id", Purpose: PurposeTreatment, At: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)},
		PHIAccessRefused{AccessID: "a2", ActorID: "u2", ActorRole: RoleAuditor, StudentID: "s1",
			What: "GET /v1/students/:id", Reason: "scope", At: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)},
	})
}
