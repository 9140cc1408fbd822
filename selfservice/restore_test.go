package selfservice

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestSplitObjects(t *testing.T) {
	agent := "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Boss\r\nAGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN:Assistant\r\nEND:VCARD\r\nEND:VCARD\r\n"
	tests := []struct {
		name, kind, in string
		want           []string
		err            string
	}{
		{"two with a blank line between", "VCALENDAR", eventCRLF + "\r\n" + todo, []string{eventCRLF, todo}, ""},
		{"bare line feeds, no final break", "VCALENDAR", eventLF, []string{eventLF}, ""},
		{"byte order mark", "VCALENDAR", "\xef\xbb\xbf" + eventCRLF, []string{eventCRLF}, ""},
		{"lower case", "VCALENDAR", strings.ToLower(eventCRLF), []string{strings.ToLower(eventCRLF)}, ""},
		{"empty", "VCALENDAR", "", nil, ""},
		{"only blank lines", "VCARD", "\r\n \r\n", nil, ""},
		{"cards", "VCARD", vcard3 + vcard4, []string{vcard3, vcard4}, ""},
		{"vCard 2.1 agent inside a card", "VCARD", agent + vcard3, []string{agent, vcard3}, ""},
		{"text outside", "VCALENDAR", eventCRLF + "hello\r\n", nil, "line 13 is outside"},
		{"no END", "VCALENDAR", strings.TrimSuffix(eventCRLF, "END:VCALENDAR\r\n"), nil, "has no END line"},
		{"a card in a calendar stream", "VCALENDAR", vcard3, nil, "outside any VCALENDAR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := splitObjects([]byte(tt.in), tt.kind)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range chunks {
				got = append(got, string(c.body))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestObjectUID(t *testing.T) {
	tests := []struct{ in, want string }{
		{eventCRLF, "ev-1@example.org"},
		{vcard4, "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"},
		{"BEGIN:VCARD\r\nUID:fol\r\n ded\r\nEND:VCARD\r\n", "folded"},
		{"BEGIN:VCARD\r\nuid;VALUE=text:lower\r\nEND:VCARD\r\n", "lower"},
		{"BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", ""},
	}
	for _, tt := range tests {
		if got := objectUID([]byte(tt.in)); got != tt.want {
			t.Errorf("objectUID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestImportSingleFiles: an .ics goes into the default calendar and task
// list by component, a .vcf into the default address book, each object
// verbatim; importing the same file again leaves everything as it was.
func TestImportSingleFiles(t *testing.T) {
	e := newEnv(t)
	acct := e.addUser("alice", "alice-password")
	id, err := e.auth.Login(context.Background(), "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	target := Target{AccountID: acct.ID, Username: "alice", Space: e.db.Space(acct.ID, id.Keys)}
	weird := strings.ReplaceAll(eventCRLF, "ev-1@example.org", "weird/uid with spaces")
	broken := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	ics := eventCRLF + todo + "\r\n" + weird + broken + eventLF
	tests := []struct {
		name, data       string
		objects          int
		skipped, refused []string
	}{
		{"calendar stream", ics, 4, nil, []string{"object 4 (line 36): refused (403): every component needs a UID"}},
		{"the same again", ics, 0, []string{"exists already", "exists already", "exists already"}, []string{"object 3 (line 24): refused (403): another resource in this collection has the same UID", "object 4 (line 36): refused (403): every component needs a UID"}},
		{"cards", vcard3 + vcard4, 2, nil, nil},
	}
	for _, tt := range tests {
		res, err := Import(context.Background(), target, strings.NewReader(tt.data), int64(len(tt.data)))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.Objects != tt.objects || len(res.Skipped) != len(tt.skipped) || len(res.Refused) != len(tt.refused) {
			t.Fatalf("%s: %+v", tt.name, res)
		}
		for i, s := range tt.skipped {
			if !strings.Contains(res.Skipped[i], s) {
				t.Errorf("%s: skipped[%d] = %q, want %q", tt.name, i, res.Skipped[i], s)
			}
		}
		for i, s := range tt.refused {
			if !strings.Contains(res.Refused[i], s) {
				t.Errorf("%s: refused[%d] = %q, want %q", tt.name, i, res.Refused[i], s)
			}
		}
	}
	for path, want := range map[string]string{
		"/dav/calendars/alice/calendar/ev-1@example.org.ics":                        eventCRLF,
		"/dav/calendars/alice/calendar/ev-2.ics":                                    eventLF,
		"/dav/calendars/alice/tasks/todo-1.ics":                                     todo,
		"/dav/addressbooks/alice/contacts/card-3.vcf":                               vcard3,
		"/dav/addressbooks/alice/contacts/4fbe8971-0bc3-424c-9c26-36c3e1eff6b1.vcf": vcard4,
	} {
		if got := e.must(200, "alice", "alice-password", "GET", path, "").body; got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// The object whose UID is no plain name got a random one.
	list := e.must(207, "alice", "alice-password", "PROPFIND", "/dav/calendars/alice/calendar/", propfindHome, "Depth", "1").body
	if n := len(objectHrefs(list)); n != 3 {
		t.Fatalf("%d objects in the calendar:\n%s", n, list)
	}
	for _, bad := range []string{"", "hello", "PK\x03\x04garbage"} {
		if _, err := Import(context.Background(), target, strings.NewReader(bad), int64(len(bad))); err == nil {
			t.Errorf("Import(%q) succeeded", bad)
		}
	}
}
