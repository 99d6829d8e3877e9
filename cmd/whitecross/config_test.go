package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// TestMedicationSettings reads the medication rules' settings from the
// environment and the flags of serve, and builds the clinic with them: a
// list of nobody stays nobody, whatever the windows.
func TestMedicationSettings(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		want  domain.MedicationPolicy
		error string // in the refusal, when the settings are refused
	}{
		{name: "defaults", want: domain.MedicationPolicy{TimeCriticalWindow: 30 * time.Minute,
			StandardWindow: time.Hour, AllergyOverrideRoles: []domain.Role{domain.RoleNurse}}},
		{name: "from the environment",
			env: map[string]string{"WHITECROSS_DOSE_WINDOW_TIME_CRITICAL": "15m",
				"WHITECROSS_DOSE_WINDOW_STANDARD":   "2h",
				"WHITECROSS_ALLERGY_OVERRIDE_ROLES": "nurse, compliance_officer"},
			want: domain.MedicationPolicy{TimeCriticalWindow: 15 * time.Minute, StandardWindow: 2 * time.Hour,
				AllergyOverrideRoles: []domain.Role{domain.RoleNurse, domain.RoleComplianceOfficer}}},
		{name: "nobody may override, default windows",
			env: map[string]string{"WHITECROSS_ALLERGY_OVERRIDE_ROLES": "none"},
			want: domain.MedicationPolicy{TimeCriticalWindow: 30 * time.Minute, StandardWindow: time.Hour,
				AllergyOverrideRoles: []domain.Role{}}},
		{name: "flags over the environment",
			env:  map[string]string{"WHITECROSS_DOSE_WINDOW_STANDARD": "2h"},
			args: []string{"--dose-window-standard", "90m", "--allergy-override-roles", "none"},
			want: domain.MedicationPolicy{TimeCriticalWindow: 30 * time.Minute, StandardWindow: 90 * time.Minute,
				AllergyOverrideRoles: []domain.Role{}}},
		{name: "an unknown role", env: map[string]string{"WHITECROSS_ALLERGY_OVERRIDE_ROLES": "nurse,janitor"},
			error: "WHITECROSS_ALLERGY_OVERRIDE_ROLES"},
		{name: "a window over 4 hours", args: []string{"--dose-window-time-critical", "5h"},
			error: "WHITECROSS_DOSE_WINDOW_TIME_CRITICAL"},
		{name: "a window that is no duration", env: map[string]string{"WHITECROSS_DOSE_WINDOW_STANDARD": "an hour"},
			error: "WHITECROSS_DOSE_WINDOW_STANDARD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"WHITECROSS_DOSE_WINDOW_TIME_CRITICAL",
				"WHITECROSS_DOSE_WINDOW_STANDARD", "WHITECROSS_ALLERGY_OVERRIDE_ROLES"} {
				t.Setenv(name, c.env[name])
			}
			cfg := loadConfig()
			fs := cfg.flags("serve", io.Discard)
			cfg.medicationFlags(fs)
			err := cfg.parse(fs, c.args)
			if c.error != "" {
				if err == nil || !strings.Contains(err.Error(), c.error) {
					t.Fatalf("parse: %v, want a refusal naming %s", err, c.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			clinic, err := commands.NewClinic(nil, nil, clinicConfig(cfg))
			if err != nil {
				t.Fatal(err)
			}
			if got := clinic.Policy(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("policy = %+v, want %+v", got, c.want)
			}
		})
	}
}
