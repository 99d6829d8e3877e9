package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// TestUsersAdd creates the first administrator as a newcomer would, with
// the password on standard input, then checks the log still verifies.
func TestUsersAdd(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	t.Setenv("WHITECROSS_LOG_LEVEL", "warn")

	cases := []struct {
		name     string
		args     []string
		password string
		ok       bool
		says     []string
	}{
		{"first administrator", []string{"--email", "root@district.example", "--role", "sysadmin"},
			"Sysadmin-Pass-2026!", true, []string{"created account"}},
		{"same address again", []string{"--email", "ROOT@district.example", "--role", "sysadmin"},
			"Sysadmin-Pass-2026!", false, []string{"email: is already used"}},
		{"weak password and unknown role", []string{"--email", "x@district.example", "--role", "doctor"},
			"short", false, []string{"password:", "roles[0]:"}},
		{"a school the log does not hold", []string{"--email", "n@district.example", "--role", "nurse",
			"--school", "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70"},
			"Nurse-Office-Pass-7", false, []string{"schools[0]: names no school"}},
		{"a district the log does not hold", []string{"--email", "d@district.example", "--role",
			"district_admin", "--district", "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70"},
			"District-Pass-2026!", false, []string{"district: names no district"}},
		{"no password", []string{"--email", "nopass@district.example", "--role", "sysadmin"},
			"", false, []string{"no password given"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			stdin := strings.NewReader(c.password + "\n")
			if c.password == "" {
				stdin = strings.NewReader("")
			}
			err := runUsersAdd(t.Context(), c.args, stdin, &out, &errOut)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			text := out.String()
			if err != nil {
				text += err.Error()
			}
			for _, s := range c.says {
				if !strings.Contains(text, s) {
					t.Errorf("output %q lacks %q", text, s)
				}
			}
			if c.password != "" && strings.Contains(text, c.password) {
				t.Errorf("output repeats the password: %q", text)
			}
		})
	}
	// Only the first administrator's creation reached the log.
	var out bytes.Buffer
	if code := run(t.Context(), []string{"log"}, &out, io.Discard); code != 0 {
		t.Fatalf("log: exit %d", code)
	}
	if n := strings.Count(out.String(), "UserCreated"); n != 1 {
		t.Errorf("%d accounts in the log, want 1:\n%s", n, out.String())
	}
	if code, out := verifyCLI(t, db); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
}
