package main

import (
	"bytes"
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runUsersAdd(t.Context(), c.args, strings.NewReader(c.password+"\n"), &out, &errOut)
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
			if strings.Contains(text, c.password) {
				t.Errorf("output repeats the password: %q", text)
			}
		})
	}
	if code, out := verifyCLI(t, db); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
}
