package vcard

import (
	"errors"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	in := crlf(`BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
NICKNAME:JD
item1.EMAIL;type=INTERNET:jane@example.org
item1.X-ABLabel:_$!<Other>!$_
EMAIL;type=WORK:jd@corp.example
TEL;type=CELL:+1 555
NOTE:secret
broken line
END:VCARD
`)
	tests := []struct {
		name  string
		props []PropRequest
		want  string
	}{
		{"one property", []PropRequest{{Name: "EMAIL"}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
item1.EMAIL;type=INTERNET:jane@example.org
EMAIL;type=WORK:jd@corp.example
END:VCARD
`},
		{"case-insensitive", []PropRequest{{Name: "nickname"}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
NICKNAME:JD
END:VCARD
`},
		{"novalue", []PropRequest{{Name: "TEL", NoValue: true}, {Name: "NOTE", NoValue: true}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
TEL;type=CELL:
NOTE:
END:VCARD
`},
		{"novalue and value", []PropRequest{{Name: "NOTE", NoValue: true}, {Name: "NOTE"}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
NOTE:secret
END:VCARD
`},
		{"group prefix is exact", []PropRequest{{Name: "item1.EMAIL"}, {Name: "ITEM1.x-ablabel"}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
item1.EMAIL;type=INTERNET:jane@example.org
item1.X-ABLabel:_$!<Other>!$_
END:VCARD
`},
		{"other group matches nothing", []PropRequest{{Name: "item2.EMAIL"}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
END:VCARD
`},
		{"required kept, novalue honoured on request", []PropRequest{{Name: "FN", NoValue: true}, {Name: "VERSION", NoValue: true}}, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:
END:VCARD
`},
		{"nothing requested", nil, `BEGIN:VCARD
VERSION:3.0
UID:u1
N:Doe;Jane;;;
FN:Jane Doe
END:VCARD
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Select(Parse([]byte(in)), tt.props).Bytes())
			if got != crlf(tt.want) {
				t.Errorf("\n got %q\nwant %q", got, crlf(tt.want))
			}
		})
	}
}

func TestSelectKeepsFolds(t *testing.T) {
	got := string(Select(Parse([]byte(appleContact)), []PropRequest{{Name: "PHOTO"}}).Bytes())
	if !strings.Contains(got, "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgK\r\n DBQN") {
		t.Errorf("selected photo lost its original bytes:\n%s", got)
	}
}

func TestTransform(t *testing.T) {
	stored := []byte(appleContact)
	same := func(b []byte) bool { return len(b) > 0 && &b[0] == &stored[0] }
	for _, req := range []*AddressData{
		nil,
		{},
		{ContentType: "text/vcard"},
		{ContentType: "text/vcard; charset=utf-8", Version: "3.0"},
		{AllProp: true},
		{Version: " 3.0 "},
	} {
		out, err := Transform(stored, req)
		if err != nil || !same(out) {
			t.Errorf("Transform(%+v) did not return the stored bytes: %v", req, err)
		}
	}
	out, err := Transform(stored, &AddressData{Version: "4.0"})
	if err != nil || !hasLine(string(out), "VERSION:4.0") {
		t.Errorf("conversion: %v\n%s", err, out)
	}
	if !hasLine(string(out), "BDAY:--0315") {
		t.Errorf("converted card lacks the 4.0 birthday:\n%s", out)
	}
	out, err = Transform(stored, &AddressData{Version: "4.0", Props: []PropRequest{{Name: "EMAIL"}, {Name: "PHOTO", NoValue: true}}})
	if err != nil {
		t.Fatal(err)
	}
	want := crlf(`BEGIN:VCARD
VERSION:4.0
N:Appleseed;Johnny;Q.;Mr.;Jr.
FN:Mr. Johnny Q. Appleseed Jr.
item1.EMAIL;TYPE=internet;PREF=1:johnny@example.com
EMAIL;TYPE=internet,work:j.appleseed@work.example
PHOTO:
UID:8B3F1E36-9D5C-4C6B-9C0B-1A2B3C4D5E6F
END:VCARD
`)
	if string(out) != want {
		t.Errorf("convert and select:\n got %q\nwant %q", out, want)
	}
	out, err = Transform([]byte(thunderbirdContact), &AddressData{Version: "3.0", Props: []PropRequest{{Name: "ADR"}}})
	if err != nil || hasLine(string(out), "LABEL;TYPE=WORK:Corp Inc.\\nMain Street 1\\n10115 Berlin") {
		// LABEL was not requested: only ADR comes back.
		t.Errorf("selection after conversion kept LABEL: %v\n%s", err, out)
	}

	for _, req := range []*AddressData{
		{ContentType: "text/x-vcard"},
		{ContentType: "application/json"},
		{Version: "2.1"},
		{ContentType: "text/vcard", Version: "5"},
	} {
		_, err := Transform(stored, req)
		var e *Error
		if !errors.As(err, &e) || e.Condition != CondSupportedAddressData {
			t.Errorf("Transform(%+v) = %v, want supported-address-data", req, err)
		}
	}
	if _, err := Transform(stored, &AddressData{Props: []PropRequest{{Name: ""}}}); err == nil {
		t.Errorf("an empty prop name was accepted")
	}
}

func TestSupported(t *testing.T) {
	got := SupportedAddressDataXML("CR")
	want := `<CR:address-data-type content-type="text/vcard" version="3.0"/><CR:address-data-type content-type="text/vcard" version="4.0"/>`
	if got != want {
		t.Errorf("SupportedAddressDataXML = %s", got)
	}
	for _, t2 := range SupportedAddressData() {
		if err := (&AddressData{ContentType: t2.ContentType, Version: t2.Version}).Validate(); err != nil {
			t.Errorf("advertised %+v is rejected: %v", t2, err)
		}
	}
	for _, c := range SupportedCollations() {
		if collation(c) != c {
			t.Errorf("advertised collation %s is not accepted", c)
		}
	}
}
