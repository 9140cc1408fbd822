package web

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/storage"
)

// TestStateSentences: each state is said in words, with its dates, in
// every language, from catalogue keys that exist.
func TestStateSentences(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) *time.Time { t := time.Date(2027, m, d, 12, 0, 0, 0, time.UTC); return &t }
	for _, tt := range []struct {
		name     string
		v        account.View
		en, de   string
		blocking bool
	}{
		{"pending", account.View{State: account.StatePending, DeleteAt: day(1, 21)},
			"Your e-mail address is not confirmed yet. Unless you confirm it, the account will be deleted on 21 January 2027.",
			"Deine E-Mail-Adresse ist noch nicht bestätigt. Wenn du sie nicht bestätigst, wird das Konto am 21. Januar 2027 gelöscht.", false},
		{"trial", account.View{State: account.StateTrial, TrialEnd: day(1, 14), Expires: day(1, 14)},
			"Your trial ends on 14 January 2027.", "Dein Testzeitraum endet am 14. Januar 2027.", false},
		{"active", account.View{State: account.StateActive, Plan: "yearly", PaidThrough: day(6, 30), Expires: day(6, 30)},
			"Your subscription runs until 30 June 2027.", "Dein Abo läuft bis zum 30. Juni 2027.", false},
		{"permanent", account.View{State: account.StateActive, Permanent: true},
			"Your account never expires.", "Dein Konto läuft nie ab.", false},
		{"retention after a trial", account.View{State: account.StateRetention, TrialEnd: day(1, 14), Expires: day(1, 14), DeleteAt: day(7, 13)},
			"Your trial ended on 14 January 2027. Your data will be deleted on 13 July 2027.",
			"Dein Testzeitraum ist am 14. Januar 2027 abgelaufen. Deine Daten werden am 13. Juli 2027 gelöscht.", true},
		{"retention after a subscription", account.View{State: account.StateRetention, PaidThrough: day(3, 1), Expires: day(3, 1), DeleteAt: day(8, 28)},
			"Your subscription ended on 1 March 2027. Your data will be deleted on 28 August 2027.",
			"Dein Abo ist am 1. März 2027 abgelaufen. Deine Daten werden am 28. August 2027 gelöscht.", true},
	} {
		for _, l := range langs {
			for _, s := range append(stateSentences(&tt.v), blockedSentences(&tt.v)...) {
				if _, ok := l.msgs[s.key]; !ok {
					t.Errorf("%s: catalogue %s lacks %q", tt.name, l.tag, s.key)
				}
			}
			want := map[string]string{"en": tt.en, "de": tt.de}[l.tag]
			if got := l.say(stateSentences(&tt.v)...); want != "" && got != want {
				t.Errorf("%s, %s: %q, want %q", tt.name, l.tag, got, want)
			}
			if got := l.say(blockedSentences(&tt.v)...) != ""; got != tt.blocking {
				t.Errorf("%s, %s: says what is blocked %v, want %v", tt.name, l.tag, got, tt.blocking)
			}
		}
	}
}

// TestSwatchColours: only #RRGGBB and #RRGGBBAA become a fill; anything
// else a client stored gives no colour at all.
func TestSwatchColours(t *testing.T) {
	for _, tt := range []struct{ in, color, opacity string }{
		{"#2E7D32FF", "#2E7D32", ""},
		{"#2e7d32", "#2E7D32", ""},
		{"#AB12CD80", "#AB12CD", "0.50"},
		{"#00000000", "#000000", "0.00"},
		{"", "", ""},
		{"red", "", ""},
		{"#12345", "", ""},
		{"#1234567", "", ""},
		{"#GGGGGG", "", ""},
		{"#123456 ", "", ""},
		{`#123456" onload="alert(1)`, "", ""},
		{"url(#a)", "", ""},
		{"#123456\n", "", ""},
	} {
		c, o := swatch(tt.in)
		if c != tt.color || o != tt.opacity {
			t.Errorf("swatch(%q) = %q, %q; want %q, %q", tt.in, c, o, tt.color, tt.opacity)
		}
	}
}

// TestCollectionKinds: the supported components sort a calendar into
// calendars or task lists; address books are their own; plain collections
// are not shown.
func TestCollectionKinds(t *testing.T) {
	set := func(comps ...string) storage.Props {
		s := `<supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav">`
		for _, c := range comps {
			s += `<comp name="` + c + `"/>`
		}
		return storage.Props{propComponents: []byte(s + `</supported-calendar-component-set>`)}
	}
	for _, tt := range []struct {
		name       string
		c          storage.Collection
		kind, noun string
	}{
		{"events", storage.Collection{Kind: storage.KindCalendar, Props: set("VEVENT")}, "calendar", "events"},
		{"tasks", storage.Collection{Kind: storage.KindCalendar, Props: set("VTODO")}, "tasks", "tasks"},
		{"lower-case tasks", storage.Collection{Kind: storage.KindCalendar, Props: set("vtodo")}, "tasks", "tasks"},
		{"both", storage.Collection{Kind: storage.KindCalendar, Props: set("VEVENT", "VTODO")}, "calendar", "entries"},
		{"no set", storage.Collection{Kind: storage.KindCalendar}, "calendar", "entries"},
		{"allcomp", storage.Collection{Kind: storage.KindCalendar, Props: storage.Props{propComponents: []byte(`<supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><allcomp/></supported-calendar-component-set>`)}}, "calendar", "entries"},
		{"address book", storage.Collection{Kind: storage.KindAddressBook}, "addressbook", "contacts"},
		{"plain", storage.Collection{Kind: storage.KindPlain}, "", ""},
	} {
		if kind, noun := collectionKind(tt.c); kind != tt.kind || noun != tt.noun {
			t.Errorf("%s: %q %q, want %q %q", tt.name, kind, noun, tt.kind, tt.noun)
		}
	}
	for in, want := range map[string]string{
		`<displayname xmlns="DAV:">Work &amp; play</displayname>`:                                              "Work & play",
		`<calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="custom">#FF2968FF</calendar-color>`: "#FF2968FF",
		`<displayname xmlns="DAV:"/>`: "",
		`not xml <`:                   "not xml",
		``:                            "",
	} {
		if got := propText([]byte(in)); got != want {
			t.Errorf("propText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHistoryNewestFirst: the history is shown newest first, every kind
// the lifecycle records in words of the catalogue, an unknown kind readably.
func TestHistoryNewestFirst(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range langs {
		for k, key := range eventKeys {
			if _, ok := l.msgs[key]; !ok {
				t.Errorf("catalogue %s lacks %q for %s", l.tag, key, k)
			}
		}
		for m, key := range mailKeys {
			if _, ok := l.msgs[key]; !ok {
				t.Errorf("catalogue %s lacks %q for mail %q", l.tag, key, m)
			}
		}
	}
	at := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	evs := []account.Event{
		{Kind: account.EventRegistered, At: at, Mail: "none"},
		{Kind: account.EventTrialStarted, At: at, Detail: "The free trial runs until 2027-01-31.", Mail: "sent"},
		{Kind: account.EventPasswordChanged, At: at.Add(time.Hour), Mail: "failed"},
		{Kind: "carrier_pigeon_sent", At: at.Add(2 * time.Hour), Mail: "queued"},
	}
	got := langs[0].history(evs)
	want := []historyEntry{
		{at.Add(2 * time.Hour), "Carrier pigeon sent", "", "on its way"},
		{at.Add(time.Hour), "Password changed", "", "could not be sent"},
		{at, "Trial started", "The free trial runs until 2027-01-31.", "sent"},
		{at, "Account created", "", "not sent"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := len(langs[0].history(nil)); n != 0 {
		t.Errorf("no history: %d entries", n)
	}
	if !strings.Contains(langs[0].eventName(""), "Other") {
		t.Errorf("an empty kind reads %q", langs[0].eventName(""))
	}
}

// TestOverviewKeysInCatalogues: the message keys the overview, the
// notifications and the data page name in Go (not in templates, which
// TestCataloguesCoverEveryKey reads) are in every catalogue, the counts'
// nouns included.
func TestOverviewKeysInCatalogues(t *testing.T) {
	langs, err := loadLangs()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	re := regexp.MustCompile(`"((?:overview|notifications|data)\.[a-z0-9_.]*[a-z0-9_])"`)
	for _, f := range []string{"overview.go", "data.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			if strings.HasSuffix(string(m[1]), ".html") {
				continue // a template's name
			}
			keys = append(keys, string(m[1]))
		}
	}
	if len(keys) < 30 {
		t.Fatalf("found only %d keys: the pattern no longer matches the sources", len(keys))
	}
	for _, noun := range []string{"events", "tasks", "contacts", "entries"} {
		keys = append(keys, "overview.count."+noun, "overview.count."+noun+".one")
	}
	for _, l := range langs {
		for _, k := range keys {
			if _, ok := l.msgs[k]; !ok {
				t.Errorf("catalogue %s lacks %q", l.tag, k)
			}
		}
		if got := l.count("events", 2); !strings.HasPrefix(got, "2 ") {
			t.Errorf("%s: two events read %q", l.tag, got)
		}
	}
}
