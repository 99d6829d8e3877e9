package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Logins is what `whitecross simulate --logins FILE` writes, as JSON: the
// accounts of the district with their demo passwords, and the IDs the
// service gave, for a newcomer to log in with and for a load test to
// drive the district with. The passwords are demo credentials for a
// local database only; the file is written readable by its owner alone.
//
//	{
//	  "seed": 1,
//	  "base_url": "http://127.0.0.1:8080",   // "" when the service ran in-process
//	  "district": {"id": "…", "name": "Cedar Valley School District"},
//	  "time_zone": "America/Chicago",
//	  "days": ["2026-12-01", "2026-12-02", "2026-12-03"],
//	  "accounts": [
//	    {"email": "admin@cedar-valley-1.example", "password": "…", "role": "sysadmin",
//	     "display_name": "…", "user_id": "…"},
//	    {"email": "nurse1.oak-hill@cedar-valley-1.example", "password": "…", "role": "nurse",
//	     "display_name": "…", "user_id": "…", "school": 0},
//	    …
//	  ],
//	  "schools": [
//	    {"index": 0, "id": "…", "name": "Oak Hill Elementary School", "students": 30,
//	     "student_ids": ["…", …], "nurses": ["nurse1.oak-hill@…", …], "office": "office.oak-hill@…"},
//	    …
//	  ]
//	}
type Logins struct {
	Seed uint64 `json:"seed"`
	// BaseURL is the service the simulation drove; empty when it started
	// one of its own, which is gone once the simulation ends.
	BaseURL  string       `json:"base_url"`
	District Organisation `json:"district"`
	TimeZone string       `json:"time_zone"`
	// Days are the school days played, oldest first.
	Days     []string       `json:"days"`
	Accounts []LoginAccount `json:"accounts"`
	Schools  []LoginSchool  `json:"schools"`
}

// Organisation is a district or a school: its ID and name.
type Organisation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// LoginAccount is one account: its address and demo password, its role,
// and for school staff the index of its school in Logins.Schools.
type LoginAccount struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	Role        string `json:"role"`
	DisplayName string `json:"display_name"`
	UserID      string `json:"user_id"`
	School      *int   `json:"school,omitempty"`
}

// LoginSchool is one school: its ID and name, how many students it has,
// the IDs of up to the first 20 of them (in the order enrolled), and the
// addresses of its nurses and its office administrator.
type LoginSchool struct {
	Index      int      `json:"index"`
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Students   int      `json:"students"`
	StudentIDs []string `json:"student_ids"`
	Nurses     []string `json:"nurses"`
	Office     string   `json:"office"`
}

// maxListedStudents bounds the student IDs listed per school.
const maxListedStudents = 20

// WriteFile writes l to path as indented JSON, readable by its owner
// only, making the directory when missing.
func (l Logins) WriteFile(path string) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// ReadLogins reads a file WriteFile wrote.
func ReadLogins(path string) (Logins, error) {
	var l Logins
	data, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return l, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Print writes the accounts as a table: address, password, role and
// school.
func (l Logins) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tPASSWORD\tROLE\tSCHOOL")
	for _, a := range l.Accounts {
		school := "-"
		if a.School != nil {
			school = l.Schools[*a.School].Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Email, a.Password, a.Role, school)
	}
	return tw.Flush()
}

// Counts are how many of each thing a run did, by name: "students",
// "doses_given", "blocked_allergy", "reads_compliance"… Names and
// numbers only.
type Counts map[string]int

// Print writes the counts in a fixed order, those of the setup first,
// three to a line.
func (c Counts) Print(w io.Writer) error {
	var cells []string
	for _, name := range countNames {
		if n, ok := c[name]; ok {
			cells = append(cells, fmt.Sprintf("%s %d", name, n))
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for i := 0; i < len(cells); i += 3 {
		fmt.Fprintln(tw, strings.Join(cells[i:min(i+3, len(cells))], "\t")+"\t")
	}
	return tw.Flush()
}

// countNames are every tally of a run, in the order printed.
var countNames = []string{
	"districts", "schools", "accounts", "students", "contacts", "allergies", "conditions",
	"immunizations", "exemptions", "orders", "stock_receipts",
	"visits", "vitals", "vitals_flagged", "screenings", "growth",
	"doses_given", "doses_prn", "doses_refused", "doses_missed", "doses_held",
	"blocked_duplicate", "blocked_time", "blocked_allergy", "orders_discontinued",
	"alerts_raised", "alerts_acknowledged", "alerts_resolved",
	"shift_counts", "discrepancies", "witness_confirmations",
	"break_glass", "disclosures",
	"reads_nurse", "reads_refused", "reads_compliance", "reads_auditor", "reads_admin",
	"logins", "requests",
}
