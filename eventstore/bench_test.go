package eventstore_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// sealInput is one event of the benchmarks' shape: 400 bytes of data and
// the metadata a nurse's command carries.
func sealInput(b *testing.B) eventstore.Event {
	data := make([]byte, 400)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	data[0], data[1], data[398], data[399] = '{', '"', '"', '}'
	data[2], data[3], data[4] = 'x', '"', ':'
	data[5], data[397] = '"', 'z'
	evs, err := eventstore.Prepare("student-5f2b6c1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
		[]eventstore.EventData{{Type: "MedicationAdministered", Data: data, Metadata: eventstore.Metadata{
			ActorID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", ActorRole: "nurse",
			SchoolID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", RequestID: "01JEXAMPLE0000000000000000",
		}}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return evs[0]
}

// BenchmarkHash computes what the writer and the verifier compute per
// event, the salted data digest and the event hash ("event"), beside one
// SHA-256 over as many bytes in one piece ("sha256").
func BenchmarkHash(b *testing.B) {
	e := sealInput(b)
	b.Run("event", func(b *testing.B) {
		for b.Loop() {
			e.DataDigest = eventstore.DigestData(e.DataSalt, e.Data)
			e.Hash = eventstore.ComputeHash(&e)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("sha256", func(b *testing.B) {
		msg := append(eventstore.AppendEnvelope(nil, &e), e.DataSalt...)
		msg = append(msg, e.Data...)
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			sha256.Sum256(msg)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
