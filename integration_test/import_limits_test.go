package integration_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportLimits: "coffer import" meets the limits a client's PUT meets,
// set by the same flags or COFFER_* variables as serve: before, it wrote
// through a DAV handler built without them, so an import could fill an
// account past its quota or a collection past its count.
func TestImportLimits(t *testing.T) {
	s := startServer(t, "")
	ics := filepath.Join(t.TempDir(), "three.ics")
	body := event("imp-1", "One") + event("imp-2", "Two") + event("imp-3", "Three")
	if err := os.WriteFile(ics, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user     string
		env      []string
		flags    []string
		imported string
		refusal  string
	}{
		{"ivo", nil, nil, "imported 3 of 3 objects", ""},
		{"ida", nil, []string{"--max-objects-per-collection", "2"}, "imported 2 of 3 objects", "refused (507): a collection may hold at most 2 resources"},
		{"ike", []string{"COFFER_QUOTA=3700B"}, nil, "imported 1 of 3 objects", "refused (507): the account's storage quota is used up"},
		{"ira", nil, []string{"--max-resource-size", "500B"}, "imported 0 of 3 objects", "refused (403): the resource exceeds the size limit"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			addUser(t, s.data, tt.user, tt.user+"-password")
			args := append([]string{"import", tt.user, ics, "--password-stdin", "--data", s.data}, tt.flags...)
			out, err := cofferEnv(t, tt.env, tt.user+"-password\n", args...)
			// Anything refused makes the import fail, with the summary last.
			if (err != nil) != (tt.refusal != "") {
				t.Fatalf("import: %v\n%s", err, out)
			}
			if lines := strings.Split(strings.TrimSpace(out), "\n"); !strings.Contains(lines[len(lines)-1], tt.imported) {
				t.Fatalf("the last line of the import is not its summary:\n%s", out)
			}
			if !strings.Contains(out, tt.imported) || (tt.refusal != "" && !strings.Contains(out, tt.refusal)) {
				t.Fatalf("import said:\n%s\nwant %q and %q", out, tt.imported, tt.refusal)
			}
			c := s.client(t, tt.user, tt.user+"-password")
			list := c.must(207, "PROPFIND", "/dav/calendars/"+tt.user+"/calendar/", "", "Depth", "1").Body
			n := strings.Count(list, ".ics</")
			if want := int(tt.imported[len("imported ")] - '0'); n != want {
				t.Fatalf("the calendar lists %d objects after the import, want %d:\n%s", n, want, list)
			}
		})
	}
}
