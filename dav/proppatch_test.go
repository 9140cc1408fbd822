package dav

import (
	"strings"
	"testing"
)

// Apple Calendar's default alarms on the calendar home (Q6), as macOS
// sends them.
const bodyAppleDefaultAlarms = `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><B:default-alarm-vevent-datetime xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
X-WR-ALARMUID:0E6D1C1A-6A4B-4D7B-9A0E-7B4D0C9E1F2A&#13;
UID:0E6D1C1A-6A4B-4D7B-9A0E-7B4D0C9E1F2A&#13;
TRIGGER:-PT15M&#13;
ACTION:DISPLAY&#13;
END:VALARM&#13;
</B:default-alarm-vevent-datetime></A:prop></A:set><A:set><A:prop><B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
TRIGGER:-PT15H&#13;
ACTION:DISPLAY&#13;
END:VALARM&#13;
</B:default-alarm-vevent-date></A:prop></A:set></A:propertyupdate>`

// TestProppatchEverywhere: PROPPATCH stores dead and live-writable
// properties on objects, the principal and both homes, answers one
// propstat entry per property, and PROPFIND (prop, allprop and propname)
// returns what was stored.
func TestProppatchEverywhere(t *testing.T) {
	const obj = calPath + "ev1.ics"
	tests := []struct {
		name, path, body string
		answer           []string // fragments of the 200 propstat of the PROPPATCH answer
		propfind         string   // then PROPFIND Depth 0 with this body
		want             []string // fragments of its 200 propstat
		missing          []string // fragments of its 404 propstat
	}{
		{"dead property on an object", obj,
			`<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/ns/"><D:set><D:prop><Z:colour>blue</Z:colour><D:displayname>Lunch</D:displayname></D:prop></D:set></D:propertyupdate>`,
			[]string{`<colour xmlns="http://example.com/ns/"/>`, "<D:displayname/>"},
			`<propfind xmlns="DAV:"><prop><colour xmlns="http://example.com/ns/"/><displayname/><getetag/></prop></propfind>`,
			[]string{`<colour xmlns="http://example.com/ns/">blue</colour>`, `<displayname xmlns="DAV:">Lunch</displayname>`, "<D:getetag>"}, nil},
		{"dead property on an object, allprop", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><colour xmlns="http://example.com/ns/">blue</colour></prop></set></propertyupdate>`,
			nil, `<propfind xmlns="DAV:"><allprop/></propfind>`,
			[]string{`<colour xmlns="http://example.com/ns/">blue</colour>`, "<D:getcontenttype>"}, nil},
		{"dead property on an object, propname", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><colour xmlns="http://example.com/ns/">blue</colour></prop></set></propertyupdate>`,
			nil, `<propfind xmlns="DAV:"><propname/></propfind>`,
			[]string{`<colour xmlns="http://example.com/ns/"/>`, "<D:getetag/>"}, nil},
		{"property in no namespace", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><nonamespace xmlns="">randomvalue</nonamespace></prop></set></propertyupdate>`,
			[]string{`<nonamespace xmlns=""/>`},
			`<D:propfind xmlns:D="DAV:"><D:prop><nonamespace xmlns=""/></D:prop></D:propfind>`,
			[]string{`<nonamespace xmlns="">randomvalue</nonamespace>`}, nil},
		{"high unicode value", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><high xmlns="urn:x">&#x10000;𐀀 Grüße</high></prop></set></propertyupdate>`,
			nil, `<propfind xmlns="DAV:"><prop><high xmlns="urn:x"/></prop></propfind>`,
			[]string{`<high xmlns="urn:x">𐀀𐀀 Grüße</high>`}, nil},
		{"remove a property that does not exist", obj,
			`<propertyupdate xmlns="DAV:"><remove><prop><nothing xmlns="urn:x"/></prop></remove></propertyupdate>`,
			[]string{`<nothing xmlns="urn:x"/>`},
			`<propfind xmlns="DAV:"><prop><nothing xmlns="urn:x"/></prop></propfind>`,
			nil, []string{`<nothing xmlns="urn:x"/>`}},
		{"set then remove in one update", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><t xmlns="urn:x">1</t></prop></set><remove><prop><t xmlns="urn:x"/></prop></remove></propertyupdate>`,
			[]string{`<t xmlns="urn:x"/>`},
			`<propfind xmlns="DAV:"><prop><t xmlns="urn:x"/></prop></propfind>`,
			nil, []string{`<t xmlns="urn:x"/>`}},
		{"principal", "/dav/principals/alice/",
			`<propertyupdate xmlns="DAV:"><set><prop><displayname>Alice A.</displayname><note xmlns="urn:x">p</note></prop></set></propertyupdate>`,
			[]string{"<D:displayname/>", `<note xmlns="urn:x"/>`},
			`<propfind xmlns="DAV:"><prop><displayname/><note xmlns="urn:x"/><principal-URL/></prop></propfind>`,
			[]string{`<displayname xmlns="DAV:">Alice A.</displayname>`, `<note xmlns="urn:x">p</note>`, "<D:principal-URL>"}, nil},
		{"me-card on the address-book home", "/dav/addressbooks/alice/", bodyAppleMeCard,
			[]string{"<CS:me-card/>"},
			`<propfind xmlns="DAV:"><prop><me-card xmlns="http://calendarserver.org/ns/"/><resourcetype/></prop></propfind>`,
			[]string{`<me-card xmlns="http://calendarserver.org/ns/"><href xmlns="DAV:">/dav/addressbooks/alice/contacts/me.vcf</href></me-card>`}, nil},
		{"default alarms on the calendar home", "/dav/calendars/alice/", bodyAppleDefaultAlarms,
			[]string{"<C:default-alarm-vevent-datetime/>", "<C:default-alarm-vevent-date/>"},
			`<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><prop><C:default-alarm-vevent-datetime/><C:default-alarm-vevent-date/></prop></propfind>`,
			[]string{"TRIGGER:-PT15M&#13;\n", "TRIGGER:-PT15H&#13;\n", `<default-alarm-vevent-date xmlns="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM`}, nil},
		{"displayname of a home", "/dav/addressbooks/alice/",
			`<propertyupdate xmlns="DAV:"><set><prop><displayname>Books</displayname></prop></set></propertyupdate>`,
			[]string{"<D:displayname/>"},
			`<propfind xmlns="DAV:"><allprop/></propfind>`,
			[]string{`<displayname xmlns="DAV:">Books</displayname>`}, nil},
		{"live-writable calendar properties", calPath,
			`<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><set><prop><C:calendar-description>d</C:calendar-description><C:calendar-timezone-id>Europe/Vienna</C:calendar-timezone-id><C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp><A:calendar-order>2</A:calendar-order></prop></set></propertyupdate>`,
			[]string{"<C:calendar-description/>", "<C:calendar-timezone-id/>", "<C:schedule-calendar-transp/>", "<A:calendar-order/>"},
			`<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><prop><C:calendar-timezone-id/><C:schedule-calendar-transp/></prop></propfind>`,
			[]string{">Europe/Vienna</calendar-timezone-id>", "<transparent/></schedule-calendar-transp>"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			if rec := ts.do(t, "alice", "PUT", obj, icsEvent); rec.Code != 201 {
				t.Fatalf("PUT: %d", rec.Code)
			}
			d := parseMS(t, ts.do(t, "alice", "PROPPATCH", tc.path, tc.body, "Content-Type: application/xml"))
			r := d.Responses[0]
			if len(d.Responses) != 1 || len(r.Propstats) != 1 {
				t.Fatalf("PROPPATCH answer: %+v", d.Responses)
			}
			got := r.ok(t)
			for _, w := range tc.answer {
				if !strings.Contains(got, w) {
					t.Errorf("PROPPATCH answer lacks %s in %s", w, got)
				}
			}
			r = parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, tc.propfind, "Depth: 0")).Responses[0]
			got = ""
			if len(r.Propstats) > 0 && r.Propstats[0].Status == "HTTP/1.1 200 OK" {
				got = r.Propstats[0].Prop.Inner
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("PROPFIND lacks %s in %s", w, got)
				}
			}
			for _, w := range tc.missing {
				if !strings.Contains(r.missing(), w) {
					t.Errorf("PROPFIND 404 propstat lacks %s: %+v", w, r.Propstats)
				}
			}
		})
	}
}

// TestProppatchRefusals: protected properties fail the whole update on
// every resource kind (403 cannot-modify-protected-property, the rest
// 424); bad bodies are 400; missing resources 404.
func TestProppatchRefusals(t *testing.T) {
	const obj = calPath + "ev1.ics"
	tests := []struct {
		name, path, body string
		status           int      // of the answer
		statuses         []string // propstat statuses, in order, for 207
		unchanged        string   // a PROPFIND body whose answer must not list a 200 value
	}{
		{"protected on an object", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><getetag>"x"</getetag><note xmlns="urn:x">n</note></prop></set></propertyupdate>`,
			207, []string{"HTTP/1.1 403 Forbidden", "HTTP/1.1 424 Failed Dependency"},
			`<propfind xmlns="DAV:"><prop><note xmlns="urn:x"/></prop></propfind>`},
		{"protected on the calendar home", "/dav/calendars/alice/",
			`<propertyupdate xmlns="DAV:"><set><prop><displayname>x</displayname></prop></set><remove><prop><quota-used-bytes/></prop></remove></propertyupdate>`,
			207, []string{"HTTP/1.1 403 Forbidden", "HTTP/1.1 424 Failed Dependency"},
			`<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`},
		{"protected on the principal", "/dav/principals/alice/",
			`<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><set><prop><C:calendar-home-set><href>/x/</href></C:calendar-home-set></prop></set></propertyupdate>`,
			207, []string{"HTTP/1.1 403 Forbidden"}, ""},
		{"nothing stored on the root", "/dav/",
			`<propertyupdate xmlns="DAV:"><set><prop><displayname>x</displayname></prop></set></propertyupdate>`,
			207, []string{"HTTP/1.1 403 Forbidden"}, ""},
		{"missing object", calPath + "nonesuch.ics",
			`<propertyupdate xmlns="DAV:"><set><prop><displayname>x</displayname></prop></set></propertyupdate>`, 404, nil, ""},
		{"undeclared prefix", obj,
			`<propertyupdate xmlns="DAV:"><set><prop><z:x>1</z:x></prop></set></propertyupdate>`, 400, nil, ""},
		{"prefix bound to no namespace", obj,
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><bar:foo xmlns:bar="">1</bar:foo></D:prop></D:set></D:propertyupdate>`, 400, nil, ""},
		{"mismatched end tag", obj,
			`<D:propertyupdate xmlns:D="DAV:" xmlns:E="DAV:"><D:set></E:set></D:propertyupdate>`, 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			if rec := ts.do(t, "alice", "PUT", obj, icsEvent); rec.Code != 201 {
				t.Fatalf("PUT: %d", rec.Code)
			}
			rec := ts.do(t, "alice", "PROPPATCH", tc.path, tc.body)
			if tc.status != 207 {
				wantError(t, rec, tc.status, "")
				return
			}
			r := parseMS(t, rec).Responses[0]
			if len(r.Propstats) != len(tc.statuses) {
				t.Fatalf("propstats: %+v", r.Propstats)
			}
			for i, s := range tc.statuses {
				if r.Propstats[i].Status != s {
					t.Errorf("propstat %d: %s, want %s", i, r.Propstats[i].Status, s)
				}
			}
			if !strings.Contains(rec.Body.String(), "cannot-modify-protected-property") && tc.path != "/dav/" {
				t.Errorf("no cannot-modify-protected-property: %s", rec.Body)
			}
			if tc.unchanged != "" {
				r := parseMS(t, ts.do(t, "alice", "PROPFIND", tc.path, tc.unchanged, "Depth: 0")).Responses[0]
				if r.missing() == "" {
					t.Errorf("the update was partly applied: %+v", r.Propstats)
				}
			}
		})
	}
}
