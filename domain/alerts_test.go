package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	chartAlertID      = "a1e77000-0000-4000-8000-000000000021"
	chartOtherAlertID = "a1e77000-0000-4000-8000-000000000022"
)

// alertEvents has one event of each alert type, with every field set.
var alertEvents = []Event{
	AlertRaised{
		AlertID:  chartAlertID,
		Kind:     "anaphylaxis",
		Location: "Cafeteria",
		RaisedAt: t0,
		RaisedBy: userID,
	},
	AlertAcknowledged{AlertID: chartAlertID, By: adminID, At: t0.Add(time.Minute)},
	AlertResolved{
		AlertID: chartAlertID,
		By:      adminID,
		At:      t0.Add(20 * time.Minute),
		Outcome: "Epinephrine given; taken to hospital by EMS.",
	},
}

func init() { moreEvents = append(moreEvents, alertEvents) }

func validRaiseAlert() RaiseAlert {
	return RaiseAlert{
		AlertID:  chartAlertID,
		Kind:     "anaphylaxis",
		Location: " Cafeteria ",
		RaisedBy: userID,
	}
}

func TestRaiseAlert(t *testing.T) {
	cases := []struct {
		name   string
		change func(*RaiseAlert)
		refuse []string
	}{
		{"valid", func(*RaiseAlert) {}, nil},
		{"alert_id not an ID", func(c *RaiseAlert) { c.AlertID = "help" },
			[]string{"invalid alert_id"}},
		{"kind missing", func(c *RaiseAlert) { c.Kind = "" }, []string{"invalid kind"}},
		{"kind unknown", func(c *RaiseAlert) { c.Kind = "fire" }, []string{"invalid kind"}},
		{"location blank", func(c *RaiseAlert) { c.Location = " " }, []string{"invalid location"}},
		{"location of 201 characters", func(c *RaiseAlert) { c.Location = strings.Repeat("l", 201) },
			[]string{"invalid location"}},
		{"raised_by missing", func(c *RaiseAlert) { c.RaisedBy = "" }, []string{"invalid raised_by"}},
		{"every field wrong", func(c *RaiseAlert) { *c = RaiseAlert{} }, []string{
			"invalid alert_id", "invalid kind", "invalid location", "invalid raised_by",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, history := chartStudent(t, nil)
			cmd := validRaiseAlert()
			c.change(&cmd)
			events, err := s.RaiseAlert(cmd, t0)
			checkRefusals(t, err, c.refuse, "")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
			checkUnchanged(t, s, history)
		})
	}
}

func TestAlertCommands(t *testing.T) {
	raised, acknowledged, resolved := alertEvents[:1], alertEvents[:2], alertEvents
	resolve := func(id string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) {
			return s.ResolveAlert(ResolveAlert{AlertID: id, By: adminID, Outcome: " Recovered. "}, t0)
		}
	}
	acknowledge := func(s *Student) ([]Event, error) {
		return s.AcknowledgeAlert(chartAlertID, userID, t0)
	}
	recovered := []Event{
		AlertResolved{AlertID: chartAlertID, By: adminID, At: t0, Outcome: "Recovered."},
	}
	runStudentCases(t, []studentCase{
		{
			name: "raise",
			run:  func(s *Student) ([]Event, error) { return s.RaiseAlert(validRaiseAlert(), t0) },
			want: raised,
		},
		{
			name:   "raise an alert_id the student has",
			setup:  resolved,
			run:    func(s *Student) ([]Event, error) { return s.RaiseAlert(validRaiseAlert(), t0) },
			refuse: []string{"conflict alert_id"},
		},
		{
			name:   "raise for a withdrawn student",
			setup:  []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}},
			run:    func(s *Student) ([]Event, error) { return s.RaiseAlert(validRaiseAlert(), t0) },
			refuse: []string{"rule enrolled"},
		},
		{
			name:  "acknowledge",
			setup: raised,
			run: func(s *Student) ([]Event, error) {
				return s.AcknowledgeAlert(chartAlertID, adminID, t0.Add(time.Minute))
			},
			want: alertEvents[1:2],
		},
		{
			name:  "acknowledge twice",
			setup: acknowledged,
			run:   acknowledge,
		},
		{
			name:   "acknowledge a resolved alert",
			setup:  resolved,
			run:    acknowledge,
			refuse: []string{"conflict alert_id"},
		},
		{
			name:  "acknowledge an unknown alert",
			setup: raised,
			run: func(s *Student) ([]Event, error) {
				return s.AcknowledgeAlert(chartOtherAlertID, userID, t0)
			},
			refuse: []string{"not_found alert_id"},
		},
		{
			name:   "acknowledge by no one",
			setup:  raised,
			run:    func(s *Student) ([]Event, error) { return s.AcknowledgeAlert("", "", t0) },
			refuse: []string{"invalid alert_id", "invalid by"},
		},
		{
			name:  "resolve",
			setup: acknowledged,
			run:   resolve(chartAlertID),
			want:  recovered,
		},
		{
			name:  "resolve an alert nobody acknowledged",
			setup: raised,
			run:   resolve(chartAlertID),
			want:  recovered,
		},
		{
			name:  "resolve on a withdrawn student's chart",
			setup: append(raised[:1:1], StudentWithdrawn{On: "2026-11-30", Reason: "moved"}),
			run:   resolve(chartAlertID),
			want:  recovered,
		},
		{
			name:   "resolve twice",
			setup:  resolved,
			run:    resolve(chartAlertID),
			refuse: []string{"conflict alert_id"},
		},
		{
			name:   "resolve an unknown alert",
			setup:  raised,
			run:    resolve(chartOtherAlertID),
			refuse: []string{"not_found alert_id"},
		},
		{
			name:  "resolve without outcome",
			setup: raised,
			run: func(s *Student) ([]Event, error) {
				return s.ResolveAlert(ResolveAlert{AlertID: chartAlertID, By: "x"}, t0)
			},
			refuse: []string{"invalid by", "invalid outcome"},
		},
	})
}

func TestAlertLifecycle(t *testing.T) {
	s, history := chartStudent(t, nil)
	steps := []struct {
		name       string
		run        func(*Student) ([]Event, error)
		wantActive []string
	}{
		{
			"raise the first",
			func(s *Student) ([]Event, error) { return s.RaiseAlert(validRaiseAlert(), t0) },
			[]string{chartAlertID},
		},
		{
			"raise a second",
			func(s *Student) ([]Event, error) {
				cmd := validRaiseAlert()
				cmd.AlertID, cmd.Kind = chartOtherAlertID, "asthma"
				return s.RaiseAlert(cmd, t0.Add(time.Minute))
			},
			[]string{chartAlertID, chartOtherAlertID},
		},
		{
			"acknowledge the first",
			func(s *Student) ([]Event, error) {
				return s.AcknowledgeAlert(chartAlertID, adminID, t0.Add(2*time.Minute))
			},
			[]string{chartAlertID, chartOtherAlertID},
		},
		{
			"resolve the second",
			func(s *Student) ([]Event, error) {
				cmd := ResolveAlert{
					AlertID: chartOtherAlertID, By: userID, Outcome: "Inhaler; back in class.",
				}
				return s.ResolveAlert(cmd, t0.Add(5*time.Minute))
			},
			[]string{chartAlertID},
		},
		{
			"resolve the first",
			func(s *Student) ([]Event, error) {
				cmd := ResolveAlert{AlertID: chartAlertID, By: adminID, Outcome: "EMS."}
				return s.ResolveAlert(cmd, t0.Add(9*time.Minute))
			},
			nil,
		},
	}
	for _, step := range steps {
		history = append(history, decideStudent(t, s, step.run)...)
		var active []string
		for _, a := range s.ActiveAlerts() {
			active = append(active, a.ID)
		}
		if !reflect.DeepEqual(active, step.wantActive) {
			t.Errorf("after %s: active alerts %q, want %q", step.name, active, step.wantActive)
		}
	}

	want := Alert{
		ID:             chartAlertID,
		Kind:           "anaphylaxis",
		Location:       "Cafeteria",
		RaisedAt:       t0,
		RaisedBy:       userID,
		AcknowledgedAt: t0.Add(2 * time.Minute),
		AcknowledgedBy: adminID,
		ResolvedAt:     t0.Add(9 * time.Minute),
		ResolvedBy:     adminID,
		Outcome:        "EMS.",
		Revision:       1,
	}
	if got, ok := s.Alert(chartAlertID); !ok || got != want {
		t.Errorf("Alert = %+v, %v\nwant %+v", got, ok, want)
	}
	if second, _ := s.Alert(chartOtherAlertID); second.Acknowledged() || !second.Resolved() {
		t.Errorf("second alert = %+v, want resolved without acknowledgement", second)
	}
	if _, ok := s.Alert("a1e77000-0000-4000-8000-000000000029"); ok {
		t.Error("Alert of an unknown ID: found, want not found")
	}

	folded, err := FoldStudent(roundTrip(t, history))
	if err != nil || !reflect.DeepEqual(folded, s) {
		t.Errorf("FoldStudent of decoded events = %#v, %v\nwant %#v", folded, err, s)
	}
}
