package vcard

import "strings"

// crlf turns a test card written with LF into the CRLF form clients send.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// Realistic cards, written the way each client writes them (see
// ../shared/clients.md sections 2.9, 3.4 and 4.5).
var (
	// appleContact is an iOS/macOS Contacts card: vCard 3.0, item groups
	// with X-ABLabel, type= parameters, an inline JPEG folded at 75 octets,
	// a birthday without year.
	appleContact = crlf(`BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//iPhone OS 17.4//EN
N:Appleseed;Johnny;Q.;Mr.;Jr.
FN:Mr. Johnny Q. Appleseed Jr.
ORG:Example Corp.;Engineering
TITLE:Engineer
item1.EMAIL;type=INTERNET;type=pref:johnny@example.com
item1.X-ABLabel:_$!<Other>!$_
EMAIL;type=INTERNET;type=WORK:j.appleseed@work.example
TEL;type=CELL;type=VOICE;type=pref:+1 (555) 555-1212
TEL;type=HOME;type=VOICE:+1 555 555 0000
item2.ADR;type=HOME;type=pref:;;1 Infinite Loop;Cupertino;CA;95014;United S
 tates
item2.X-ABADR:us
item3.URL;type=pref:https://www.example.com
item3.X-ABLabel:_$!<HomePage>!$_
item4.X-ABDATE;type=pref:2010-06-20
item4.X-ABLabel:_$!<Anniversary>!$_
BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15
NOTE:Line one\nLine two\, with a comma
X-SOCIALPROFILE;type=twitter;x-user=johnny:https://twitter.com/johnny
IMPP;X-SERVICE-TYPE=Skype;type=HOME;type=pref:skype:johnny.appleseed
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgK
 DBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAA
 BAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQE
 AAD8AKp//2Q==
CATEGORIES:friends,work
UID:8B3F1E36-9D5C-4C6B-9C0B-1A2B3C4D5E6F
REV:2024-01-15T10:30:00Z
END:VCARD
`)

	// appleGroup is an Apple Contacts group card.
	appleGroup = crlf(`BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//Mac OS X 14.4//EN
N:Friends
FN:Friends
X-ADDRESSBOOKSERVER-KIND:group
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:8B3F1E36-9D5C-4C6B-9C0B-1A2B3C4D5E6F
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0D2B7C44-1F3E-4A5B-8C9D-0E1F2A3B4C5D
REV:2024-01-15T10:31:00Z
UID:5A9C3E1F-2B4D-4E6F-8A0B-1C2D3E4F5A6B
END:VCARD
`)

	// thunderbirdContact is a Thunderbird address-book card: vCard 4.0, PREF,
	// a data: URI photo, a LABEL parameter with RFC 6868 escapes.
	thunderbirdContact = crlf(`BEGIN:VCARD
VERSION:4.0
N:Doe;Jane;;;
FN:Jane Doe
NICKNAME:JD
EMAIL;PREF=1:jane@example.org
EMAIL;TYPE=work:jane.doe@corp.example
TEL;TYPE=cell;VALUE=TEXT:+49 170 1234567
ADR;TYPE=work;LABEL="Corp Inc.^nMain Street 1^n10115 Berlin":;;Main Street 1;
 Berlin;;10115;Germany
BDAY;VALUE=DATE:19850412
ANNIVERSARY:--0620
GENDER:F
LANG;PREF=1:de
NOTE:Met at FOSDEM\; talked about CardDAV
PHOTO:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU
 lEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
GEO:geo:52.52,13.405
TZ:Europe/Berlin
CATEGORIES:friends,fosdem
URL;TYPE=home:https://jane.example.org
X-MOZILLA-HTML:TRUE
UID:3b6e8f2a-4c1d-4e5f-9a0b-7c8d9e0f1a2b
END:VCARD
`)

	// davx5Contact3 is a DAVx5 (ez-vcard) card in vCard 3.0 with a LABEL
	// property and an inline photo.
	davx5Contact3 = crlf(`BEGIN:VCARD
VERSION:3.0
PRODID:DAVx5/4.3.13-ose ez-vcard/0.12.1
UID:0c5a1f3e-8b2d-4a6c-9e0f-1a2b3c4d5e6f
FN:Dr. Max Mustermann
N:Mustermann;Max;;Dr.;
NICKNAME:Maxi
X-PHONETIC-FIRST-NAME:Maks
ORG:ACME GmbH;Sales
EMAIL;TYPE=HOME:max@example.com
TEL;TYPE=CELL:+49 151 00000000
TEL;TYPE=WORK,FAX:+49 30 0000000
ADR;TYPE=HOME:;;Hauptstr. 1;Musterstadt;;12345;Deutschland
LABEL;TYPE=HOME:Hauptstr. 1\n12345 Musterstadt
item1.X-ABRELATEDNAMES:Erika
item1.X-ABLabel:_$!<Spouse>!$_
CATEGORIES:Work,VIP
BDAY:1970-01-31
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQg
 KDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2Q==
REV:20240201T081500Z
END:VCARD
`)

	// davx5Group4 is a DAVx5 contact group in vCard 4.0.
	davx5Group4 = crlf(`BEGIN:VCARD
VERSION:4.0
PRODID:DAVx5/4.3.13-ose ez-vcard/0.12.1
UID:7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a
FN:Family
KIND:group
MEMBER:urn:uuid:0c5a1f3e-8b2d-4a6c-9e0f-1a2b3c4d5e6f
MEMBER:urn:uuid:3b6e8f2a-4c1d-4e5f-9a0b-7c8d9e0f1a2b
REV:20240201T081500Z
END:VCARD
`)

	// davx5Contact4 is a DAVx5 card in vCard 4.0 with a custom label group
	// and a birthday without year.
	davx5Contact4 = crlf(`BEGIN:VCARD
VERSION:4.0
PRODID:DAVx5/4.3.13-ose ez-vcard/0.12.1
UID:9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b
FN:Erika Mustermann
N:Mustermann;Erika;;;
item1.TEL;TYPE=voice:+49 30 1111111
item1.X-ABLabel:Studio
EMAIL;TYPE=home;PREF=1:erika@example.com
EMAIL;TYPE=work;PREF=2:erika@work.example
BDAY:--1224
RELATED;TYPE=spouse;VALUE=text:Max
IMPP:xmpp:erika@example.com
X-SIP:sip:erika@example.com
END:VCARD
`)

	// legacyAndroid is a vCard 2.1 export with quoted-printable values.
	legacyAndroid = crlf(`BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=B8=89;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=E4=B8=89
TEL;CELL;PREF:+86 138 0000 0000
NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0Asecond =
line
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD
END:VCARD
`)
)

// realCards are the realistic cards, for round trips and fuzz seeds.
var realCards = map[string]string{
	"apple-contact":       appleContact,
	"apple-group":         appleGroup,
	"thunderbird-contact": thunderbirdContact,
	"davx5-contact-3":     davx5Contact3,
	"davx5-group-4":       davx5Group4,
	"davx5-contact-4":     davx5Contact4,
	"legacy-android":      legacyAndroid,
}
