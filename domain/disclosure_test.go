package domain

import "time"

func init() {
	from := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	moreEvents = append(moreEvents, []Event{PHIDisclosed{
		DisclosureID: "d1", Kind: DisclosureExport, ActorID: "u3", ActorRole: RoleComplianceOfficer,
		StudentIDs: []string{"s1"}, Recipient: "external auditor", What: "export of one student's history",
		Purpose: "annual audit", ExportID: "e1", From: &from,
		At: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC),
	}})
}
