package integration_test

import (
	"encoding/base64"
	"strings"
)

// crlf turns a readable fixture into the CRLF lines that clients send.
func crlf(s string) string {
	return strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n")
}

// event is an event as DAVx5 writes it, with a marker in its summary.
func event(uid, summary string) string {
	return crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:+//IDN bitfire.at//DAVx5/4.5.9-ose ical4j/3.2.19
BEGIN:VTIMEZONE
TZID:Europe/Vienna
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
DTSTAMP:20261101T100000Z
UID:` + uid + `
SUMMARY:` + summary + `
DTSTART;TZID=Europe/Vienna:20261120T090000
DTEND;TZID=Europe/Vienna:20261120T100000
X-MOZ-GENERATION:1
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
`)
}

// task is a sub-task as jtx Board and Tasks.org write it.
func task(uid, summary string) string {
	return crlf(`
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Tasks.org//NONSGML//EN
BEGIN:VTODO
DTSTAMP:20261101T100000Z
UID:` + uid + `
SUMMARY:` + summary + `
STATUS:NEEDS-ACTION
RELATED-TO;RELTYPE=PARENT:parent-task-uid
DUE;VALUE=DATE:20261130
END:VTODO
END:VCALENDAR
`)
}

// photoBytes stands for the JPEG of a contact photo.
var photoBytes = []byte("\xff\xd8\xff\xe0PHOTO-MARKER-JPEG-BYTES-0123456789\xff\xd9")

// contact4 is a vCard 4 as Thunderbird writes it, with a data: URI photo.
func contact4(uid, name string) string {
	return crlf(`
BEGIN:VCARD
VERSION:4.0
PRODID:-//Thunderbird//EN
UID:` + uid + `
FN:` + name + `
N:` + name + `;;;;
EMAIL;PREF=1:someone@example.org
TEL;TYPE=cell:+43 660 1234567
ITEM1.X-ABLABEL:_$!<Other>!$_
CATEGORIES:friends,work\,stuff
PHOTO:data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(photoBytes) + `
END:VCARD
`)
}

// contact3 is a vCard 3 as Apple Contacts writes it.
func contact3(uid, name string) string {
	return crlf(`
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iOS 18.1//EN
N:` + name + `;;;
FN:` + name + `
item1.EMAIL;type=INTERNET;type=pref:x@example.org
item1.X-ABLabel:_$!<Other>!$_
X-ADDRESSBOOKSERVER-KIND:individual
UID:` + uid + `
END:VCARD
`)
}
