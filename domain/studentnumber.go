package domain

import (
	"crypto/sha256"
	"encoding/hex"
)

// StudentNumberStream is the stream whose first event reserves a student
// number within a district for one student, so that the log itself keeps
// numbers unique. Its name carries a digest, not the number.
func StudentNumberStream(districtID, number string) string {
	sum := sha256.Sum256([]byte(districtID + "\x00" + number))
	return "studentnumber-" + hex.EncodeToString(sum[:])
}

// StudentNumberReserved gives a student number of a district to a student.
type StudentNumberReserved struct {
	StudentID string `json:"student_id"`
}

// EventType returns "StudentNumberReserved".
func (StudentNumberReserved) EventType() string { return "StudentNumberReserved" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		StudentNumberReserved{}.EventType(): decodeAs[StudentNumberReserved],
	})
}
