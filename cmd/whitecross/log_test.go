package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// logCLI runs `whitecross log` on db and returns its exit status, the
// lines it printed under the header, each split into its columns, and
// its standard error.
func logCLI(t *testing.T, db *pgtest.DB, args ...string) (int, [][]string, string) {
	t.Helper()
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_APP_DATABASE_URL", "")
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	t.Setenv("WHITECROSS_LOG_LEVEL", "warn")
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"log"}, args...), &out, &errOut)
	if strings.Contains(out.String(), "abcdef") {
		t.Errorf("log printed an event's data:\n%s", out.String())
	}
	var rows [][]string
	for i, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if i > 0 && line != "" {
			rows = append(rows, strings.Fields(line))
		}
	}
	return code, rows, errOut.String()
}

// column returns column i of every row.
func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	return out
}

func TestLogCommand(t *testing.T) {
	db := pgtest.New(t)
	seedLog(t, db)
	cases := []struct {
		name      string
		args      []string
		positions []string
		streams   []string
		more      string // what standard error says follows
	}{
		{"the whole log", nil, []string{"1", "2", "3", "4", "5", "6", "7", "8"},
			[]string{"student-a", "student-b", "student-a", "student-b", "student-a", "student-b",
				"student-a"}, ""},
		{"one stream", []string{"--stream", "student-b"}, []string{"2", "4", "6"}, []string{"student-b"}, ""},
		{"a page", []string{"--from", "4", "--limit", "2"}, []string{"4", "5"},
			[]string{"student-b", "student-a"}, "more events follow: --from 6"},
		{"a page of a stream", []string{"--stream", "student-a", "--from", "2", "--limit", "3"},
			[]string{"3", "5", "7"}, []string{"student-a"}, "more events follow: --from 8"},
		{"past the end", []string{"--from", "9"}, nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, rows, stderr := logCLI(t, db, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := column(rows, 0); !slices.Equal(got, c.positions) {
				t.Errorf("positions %v, want %v", got, c.positions)
			}
			streams := slices.Compact(column(rows, 2))
			if !slices.Equal(streams, c.streams) {
				t.Errorf("streams %v, want %v", streams, c.streams)
			}
			for _, r := range rows {
				if len(r) != 6 || r[3] != "Tested" || r[4] != "actor-1" || r[5] != "nurse" {
					t.Errorf("row %q, want position, time, stream, Tested, actor-1, nurse", r)
				}
			}
			if !strings.Contains(stderr, c.more) || c.more == "" && strings.Contains(stderr, "more") {
				t.Errorf("standard error %q, want %q", stderr, c.more)
			}
		})
	}
	for _, args := range [][]string{{"--limit", "0"}, {"--limit", "10001"}, {"--stream", "student-z"}} {
		if code, _, _ := logCLI(t, db, args...); code == 0 {
			t.Errorf("log %v: exit 0, want a refusal", args)
		}
	}
}
