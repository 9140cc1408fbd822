package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// kind is a type of object and the collection it goes to.
type kind int

const (
	kindContact kind = iota
	kindEvent
	kindTask
)

// String names the kind as on the command line.
func (k kind) String() string { return [...]string{"contacts", "events", "tasks"}[k] }

// collection is the kind's default collection, relative to the user's home.
func (k kind) collection(user string) string {
	switch k {
	case kindContact:
		return "/dav/addressbooks/" + user + "/contacts/"
	case kindEvent:
		return "/dav/calendars/" + user + "/calendar/"
	}
	return "/dav/calendars/" + user + "/tasks/"
}

// ext and contentType are what DAVx5 uses for the kind (clients.md 2.5.3).
func (k kind) ext() string {
	if k == kindContact {
		return ".vcf"
	}
	return ".ics"
}

// contentType is the media type DAVx5 sends with the kind.
func (k kind) contentType() string {
	if k == kindContact {
		return "text/vcard;charset=utf-8"
	}
	return "text/calendar;charset=utf-8"
}

// parseKinds reads a comma-separated list of kinds.
func parseKinds(s string) ([]kind, error) {
	var out []kind
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "contacts":
			out = append(out, kindContact)
		case "events":
			out = append(out, kindEvent)
		case "tasks":
			out = append(out, kindTask)
		default:
			return nil, fmt.Errorf("--kinds: unknown kind %q (want contacts, events, tasks)", f)
		}
	}
	return out, nil
}

// generator makes the objects of one run, deterministically from a seed.
type generator struct {
	run        string   // unique per run, so UIDs never collide
	photos     []string // PHOTO lines, folded, of 30 to 100 KB of JPEG-like bytes
	photoShare float64
	loc        *time.Location
}

// newGenerator prepares photos and the time zone.
func newGenerator(run string, seed uint64, photoShare float64) (*generator, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return nil, fmt.Errorf("time zone data: %w", err)
	}
	g := &generator{run: run, photoShare: photoShare, loc: loc}
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < 8; i++ {
		n := 30<<10 + r.IntN(70<<10)
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0})
		g.photos = append(g.photos, fold("PHOTO;ENCODING=b;TYPE=JPEG:"+base64.StdEncoding.EncodeToString(b)))
	}
	return g, nil
}

// fold folds a content line at 75 octets (RFC 6350 3.2, RFC 5545 3.1).
func fold(line string) string {
	if len(line) <= 75 {
		return line + "\r\n"
	}
	var b strings.Builder
	b.Grow(len(line) + len(line)/74*3 + 2)
	b.WriteString(line[:75])
	for rest := line[75:]; len(rest) > 0; {
		n := min(74, len(rest))
		b.WriteString("\r\n ")
		b.WriteString(rest[:n])
		rest = rest[n:]
	}
	b.WriteString("\r\n")
	return b.String()
}

// name is the resource name of the i-th object of a kind: <UID>.ext, as DAVx5 names them.
func (g *generator) name(k kind, i int) string { return g.uid(k, i) + k.ext() }

// uid is the UID of the i-th object of a kind, unique per run.
func (g *generator) uid(k kind, i int) string { return fmt.Sprintf("%s-%s-%06d", g.run, k, i) }

// object returns the body of the i-th object of kind k at revision rev.
func (g *generator) object(k kind, i, rev int) []byte {
	switch k {
	case kindContact:
		return g.contact(i, rev)
	case kindEvent:
		return g.event(i, rev)
	}
	return g.task(i, rev)
}

var (
	givenNames  = []string{"Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Katarzyna", "Luis"}
	familyNames = []string{"Müller", "Schmidt", "O'Brien", "García", "Nowak", "Rossi", "Dubois", "Jensen", "Kowalski", "Silva"}
	cities      = []string{"Berlin", "Wien", "Zürich", "Lyon", "Porto", "Kraków", "Gent", "Aarhus"}
)

// contact is a vCard 3 as DAVx5 and iOS write it: about 20 properties,
// grouped labels, escaped values, and for some a photo.
func (g *generator) contact(i, rev int) []byte {
	given, family := givenNames[i%len(givenNames)], familyNames[(i/len(givenNames))%len(familyNames)]
	city := cities[i%len(cities)]
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:+//IDN bitfire.at//ezvcard 0.12.1\r\n")
	fmt.Fprintf(&b, "UID:%s\r\n", g.uid(kindContact, i))
	fmt.Fprintf(&b, "FN:%s %s %d\r\nN:%s;%s;;;\r\n", given, family, i, family, given)
	fmt.Fprintf(&b, "NICKNAME:%s%d\r\nORG:Example Corp\\, Ltd.;Team %d\r\nTITLE:Engineer\r\n", strings.ToLower(given), i, i%17)
	fmt.Fprintf(&b, "TEL;TYPE=CELL:+49 151 %08d\r\nTEL;TYPE=WORK,VOICE:+49 30 %07d\r\n", i, i*7%10000000)
	fmt.Fprintf(&b, "item1.EMAIL;TYPE=INTERNET:%s.%d@example.org\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n", strings.ToLower(given), i)
	fmt.Fprintf(&b, "EMAIL;TYPE=INTERNET,HOME:p%d@example.net\r\n", i)
	fmt.Fprintf(&b, "ADR;TYPE=HOME:;;Hauptstraße %d;%s;;%05d;Germany\r\n", i%200+1, city, 10000+i%89999)
	fmt.Fprintf(&b, "ADR;TYPE=WORK:;;Business Park %d;%s;;%05d;Germany\r\n", i%50+1, city, 20000+i%79999)
	fmt.Fprintf(&b, "BDAY:%04d-%02d-%02d\r\n", 1950+i%60, 1+i%12, 1+i%28)
	fmt.Fprintf(&b, "URL:https://example.org/people/%d\r\n", i)
	fmt.Fprintf(&b, "NOTE:Met at conference %d\\; follow up\\, maybe. Revision %d.\r\n", i%40, rev)
	fmt.Fprintf(&b, "CATEGORIES:friends,work,group%d\r\n", i%5)
	fmt.Fprintf(&b, "X-SOCIALPROFILE;TYPE=mastodon:https://social.example/@u%d\r\n", i)
	fmt.Fprintf(&b, "IMPP;X-SERVICE-TYPE=Jabber:xmpp:u%d@example.org\r\n", i)
	b.WriteString("X-ABShowAs:PERSON\r\n")
	fmt.Fprintf(&b, "REV:2026%02d%02dT%02d%02d00Z\r\n", 1+i%12, 1+i%28, rev%24, i%60)
	if g.hasPhoto(i) {
		b.WriteString(g.photos[i%len(g.photos)])
	}
	b.WriteString("END:VCARD\r\n")
	return []byte(b.String())
}

// hasPhoto reports whether the i-th contact carries a photo.
func (g *generator) hasPhoto(i int) bool {
	if g.photoShare <= 0 {
		return false
	}
	step := int(1 / g.photoShare)
	return step > 0 && i%step == 3%step
}

// berlinTZ is the VTIMEZONE that DAVx5 and iOS embed for Europe/Berlin.
const berlinTZ = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nX-LIC-LOCATION:Europe/Berlin\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// ruleKind is how an event recurs.
type ruleKind int

const (
	ruleNone ruleKind = iota
	ruleWeeklyCount
	ruleWeeklyForever
	ruleDailyUntil
)

// eventSpec is what an event's occurrences derive from; the query
// scenario checks the server's answers against it.
type eventSpec struct {
	start time.Time // the first occurrence
	dur   time.Duration
	utc   bool // written in UTC, else with TZID=Europe/Berlin
	rule  ruleKind
	count int       // ruleWeeklyCount
	until time.Time // ruleDailyUntil, in UTC
}

// spanStart and spanDays are where the events lie: two years from 2025.
var spanStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const spanDays = 730

// eventSpec returns the i-th event's timing: spread over two years, 15%
// recurring (weekly with a count, weekly for ever, every third day until
// a date), a fifth of them written in UTC, the rest in Europe/Berlin.
func (g *generator) eventSpec(i int) eventSpec {
	day := (i * 7919) % spanDays
	d := spanStart.AddDate(0, 0, day)
	s := eventSpec{dur: time.Duration(30+30*(i%4)) * time.Minute, utc: i%5 == 0}
	hour := 8 + i%10
	if s.utc {
		s.start = time.Date(d.Year(), d.Month(), d.Day(), hour, 15*(i%4), 0, 0, time.UTC)
	} else {
		s.start = time.Date(d.Year(), d.Month(), d.Day(), hour, 15*(i%4), 0, 0, g.loc)
	}
	switch {
	case i%20 < 17: // 85% single
	case i%3 == 0:
		s.rule, s.count = ruleWeeklyCount, 10+i%20
	case i%3 == 1:
		s.rule = ruleWeeklyForever
	default:
		s.rule = ruleDailyUntil
		u := s.start.AddDate(0, 0, 20+i%60).UTC()
		s.until = time.Date(u.Year(), u.Month(), u.Day(), 23, 59, 59, 0, time.UTC)
	}
	return s
}

// overlaps reports whether any occurrence of s overlaps [from, to), as
// RFC 4791 9.9 defines it for a VEVENT with DTEND.
func (s eventSpec) overlaps(from, to time.Time) bool {
	for n := 0; n < 100000; n++ {
		var start time.Time
		switch s.rule {
		case ruleNone:
			if n > 0 {
				return false
			}
			start = s.start
		case ruleWeeklyCount, ruleWeeklyForever:
			if s.rule == ruleWeeklyCount && n >= s.count {
				return false
			}
			start = s.start.AddDate(0, 0, 7*n)
		case ruleDailyUntil:
			start = s.start.AddDate(0, 0, 3*n)
			if start.After(s.until) {
				return false
			}
		}
		if !start.Before(to) {
			return false
		}
		if start.Add(s.dur).After(from) {
			return true
		}
	}
	return false
}

// icsTime formats t as iCalendar DATE-TIME: UTC with Z, else local.
func icsTime(t time.Time, utc bool) string {
	if utc {
		return t.UTC().Format("20060102T150405Z")
	}
	return t.Format("20060102T150405")
}

// event is a VEVENT as DAVx5 writes it, with a VTIMEZONE when it uses one,
// an RRULE on 15% of them, and an alarm on a third.
func (g *generator) event(i, rev int) []byte {
	s := g.eventSpec(i)
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:+//IDN bitfire.at//ical4android (at.bitfire.davdroid)\r\n")
	if !s.utc {
		b.WriteString(berlinTZ)
	}
	b.WriteString("BEGIN:VEVENT\r\n")
	fmt.Fprintf(&b, "DTSTAMP:20260101T%02d0000Z\r\nUID:%s\r\n", rev%24, g.uid(kindEvent, i))
	if s.utc {
		fmt.Fprintf(&b, "DTSTART:%s\r\nDTEND:%s\r\n", icsTime(s.start, true), icsTime(s.start.Add(s.dur), true))
	} else {
		fmt.Fprintf(&b, "DTSTART;TZID=Europe/Berlin:%s\r\nDTEND;TZID=Europe/Berlin:%s\r\n", icsTime(s.start, false), icsTime(s.start.Add(s.dur), false))
	}
	switch s.rule {
	case ruleWeeklyCount:
		fmt.Fprintf(&b, "RRULE:FREQ=WEEKLY;COUNT=%d\r\n", s.count)
	case ruleWeeklyForever:
		b.WriteString("RRULE:FREQ=WEEKLY\r\n")
	case ruleDailyUntil:
		fmt.Fprintf(&b, "RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=%s\r\n", s.until.Format("20060102T150405Z"))
	}
	fmt.Fprintf(&b, "SUMMARY:Meeting %d\\, room %d\r\nLOCATION:%s\r\n", i, i%30, cities[i%len(cities)])
	fmt.Fprintf(&b, "DESCRIPTION:Agenda: item one\\; item two\\nRevision %d\r\n", rev)
	fmt.Fprintf(&b, "SEQUENCE:%d\r\nSTATUS:CONFIRMED\r\nCLASS:PUBLIC\r\nTRANSP:OPAQUE\r\n", rev)
	if i%3 == 0 {
		b.WriteString("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n")
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// task is a VTODO as OpenTasks and Tasks.org write it through DAVx5.
func (g *generator) task(i, rev int) []byte {
	due := spanStart.AddDate(0, 0, (i*31)%spanDays).Add(17 * time.Hour)
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:+//IDN bitfire.at//ical4android (org.dmfs.tasks)\r\nBEGIN:VTODO\r\n")
	fmt.Fprintf(&b, "DTSTAMP:20260101T%02d0000Z\r\nUID:%s\r\n", rev%24, g.uid(kindTask, i))
	fmt.Fprintf(&b, "CREATED:20250101T080000Z\r\nLAST-MODIFIED:20260101T%02d0000Z\r\nSUMMARY:Task %d: buy milk\\, bread\r\n", rev%24, i)
	fmt.Fprintf(&b, "DUE:%s\r\nPRIORITY:%d\r\nSTATUS:NEEDS-ACTION\r\nSEQUENCE:%d\r\n", due.Format("20060102T150405Z"), i%10, rev)
	if i%10 == 1 && i > 1 {
		fmt.Fprintf(&b, "RELATED-TO;RELTYPE=PARENT:%s\r\n", g.uid(kindTask, i-1))
	}
	if i%4 == 0 {
		b.WriteString("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Task due\r\nTRIGGER;RELATED=END:-PT1H\r\nEND:VALARM\r\n")
	}
	b.WriteString("END:VTODO\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}
