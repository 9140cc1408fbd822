package vcard

import (
	"bytes"
	"errors"
	"sort"
	"strings"
	"testing"

	govcard "github.com/emersion/go-vcard"
)

// wrap builds a minimal card of the given version around body lines.
func wrap(version string, body ...string) string {
	s := "BEGIN:VCARD\r\nVERSION:" + version + "\r\nFN:X\r\nN:;;;;\r\n"
	for _, l := range body {
		s += l + "\r\n"
	}
	return s + "END:VCARD\r\n"
}

// convert runs Convert on a card given as text.
func convert(t *testing.T, in, to string) string {
	t.Helper()
	c, err := Convert(Parse([]byte(in)), to)
	if err != nil {
		t.Fatalf("Convert(%s): %v", to, err)
	}
	return string(c.Bytes())
}

// TestConvertRules checks every rule: v3 converts up to v4, and for "both"
// v4 converts down to v3 as well.
func TestConvertRules(t *testing.T) {
	tests := []struct {
		name string
		dir  string // "both", "up" (v3 to v4 only) or "down" (v4 to v3 only)
		v3   []string
		v4   []string
	}{
		{"photo jpeg", "both", []string{"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ"}, []string{"PHOTO:data:image/jpeg;base64,/9j/4AAQ"}},
		{"logo png", "both", []string{"LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgo="}, []string{"LOGO:data:image/png;base64,iVBORw0KGgo="}},
		{"sound ogg", "both", []string{"SOUND;ENCODING=b;TYPE=OGG:T2dnUw=="}, []string{"SOUND:data:audio/ogg;base64,T2dnUw=="}},
		{"key x509", "both", []string{"KEY;ENCODING=b;TYPE=X509:MIIB"}, []string{"KEY:data:application/pkix-cert;base64,MIIB"}},
		{"key text", "both", []string{"KEY;TYPE=PGP:ABCDEF"}, []string{"KEY;VALUE=text;MEDIATYPE=application/pgp-keys:ABCDEF"}},
		{"photo uri", "both", []string{"PHOTO;VALUE=uri;TYPE=JPEG:https://example.com/p.jpg"}, []string{"PHOTO;MEDIATYPE=image/jpeg:https://example.com/p.jpg"}},
		{"photo uri without type", "both", []string{"PHOTO;VALUE=uri:https://example.com/p"}, []string{"PHOTO:https://example.com/p"}},
		{"photo extra params kept", "both", []string{"PHOTO;ENCODING=b;TYPE=JPEG;X-ABCROP-RECTANGLE=ABClipRect_1&0&0&1&1&x:/9j/"}, []string{"PHOTO;X-ABCROP-RECTANGLE=ABClipRect_1&0&0&1&1&x:data:image/jpeg;base64,/9j/"}},
		{"photo sniffed type", "up", []string{"PHOTO;ENCODING=b:/9j/4AAQSkZJRgABAQAA"}, []string{"PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAA"}},
		{"photo 2.1 base64 with spaces", "up", []string{"PHOTO;BASE64;PNG:iVBO Rw0K"}, []string{"PHOTO:data:image/png;base64,iVBORw0K"}},
		{"photo mime type value", "up", []string{"PHOTO;ENCODING=b;TYPE=image/webp:UklG"}, []string{"PHOTO:data:image/webp;base64,UklG"}},
		{"photo percent data uri", "down", []string{"PHOTO;ENCODING=b;TYPE=GIF:R0lGODlh"}, []string{"PHOTO:data:image/gif,GIF%38%39a"}},
		{"photo 4.0 type dropped", "down", []string{"PHOTO;ENCODING=b;TYPE=JPEG;PREF=1:/9j/"}, []string{"PHOTO;TYPE=work;PREF=1:data:image/jpeg;base64,/9j/"}},
		{"types and pref", "both", []string{"TEL;TYPE=CELL;TYPE=VOICE;TYPE=pref:+1 555"}, []string{"TEL;TYPE=cell,voice;PREF=1:+1 555"}},
		{"apple lowercase type", "up", []string{"TEL;type=CELL;type=pref:1"}, []string{"TEL;TYPE=cell;PREF=1:1"}},
		{"type comma list", "up", []string{"EMAIL;TYPE=INTERNET,WORK:a@b"}, []string{"EMAIL;TYPE=internet,work:a@b"}},
		{"quoted type list", "up", []string{`EMAIL;TYPE="INTERNET,HOME":a@b`}, []string{"EMAIL;TYPE=internet,home:a@b"}},
		{"bare 2.1 types", "up", []string{"TEL;CELL;PREF:1"}, []string{"TEL;TYPE=cell;PREF=1:1"}},
		{"pref other than 1", "both", []string{"EMAIL;TYPE=WORK;PREF=2:a@b"}, []string{"EMAIL;TYPE=work;PREF=2:a@b"}},
		{"pref without type", "both", []string{"EMAIL;TYPE=pref:a@b"}, []string{"EMAIL;PREF=1:a@b"}},
		{"unknown type kept", "both", []string{"TEL;TYPE=X-CUSTOM:1"}, []string{"TEL;TYPE=X-CUSTOM:1"}},
		{"grouped property", "both", []string{"item1.EMAIL;TYPE=INTERNET:a@b", "item1.X-ABLabel:_$!<Other>!$_"}, []string{"item1.EMAIL;TYPE=internet:a@b", "item1.X-ABLabel:_$!<Other>!$_"}},
		{"group kind", "both", []string{"X-ADDRESSBOOKSERVER-KIND:group"}, []string{"KIND:group"}},
		{"other kind", "both", []string{"X-ADDRESSBOOKSERVER-KIND:org"}, []string{"KIND:org"}},
		{"members", "both", []string{"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:b"}, []string{"MEMBER:urn:uuid:a", "MEMBER:urn:uuid:b"}},
		{"kind twice", "up", []string{"KIND:group", "X-ADDRESSBOOKSERVER-KIND:group", "MEMBER:urn:uuid:a", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a"}, []string{"KIND:group", "MEMBER:urn:uuid:a"}},
		{"birthday without year", "both", []string{"BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15"}, []string{"BDAY:--0315"}},
		{"birthday", "both", []string{"BDAY:1985-04-12"}, []string{"BDAY:19850412"}},
		{"birthday value date", "both", []string{"BDAY;VALUE=date:1985-04-12"}, []string{"BDAY;VALUE=date:19850412"}},
		{"birthday date-time", "both", []string{"BDAY:1953-10-15T23:10:00Z"}, []string{"BDAY:19531015T231000Z"}},
		{"birthday offset", "both", []string{"BDAY:1953-10-15T23:10:00-05:00"}, []string{"BDAY:19531015T231000-0500"}},
		{"birthday basic 3.0", "up", []string{"BDAY:19850412"}, []string{"BDAY:19850412"}},
		{"birthday --MM-DD", "up", []string{"BDAY:--03-15"}, []string{"BDAY:--0315"}},
		{"omit-year of another year", "both", []string{"BDAY;X-APPLE-OMIT-YEAR=1604:1985-03-15"}, []string{"BDAY;X-APPLE-OMIT-YEAR=1604:19850315"}},
		{"birthday text", "both", []string{"BDAY;VALUE=text:circa 1800"}, []string{"BDAY;VALUE=text:circa 1800"}},
		{"birthday month only", "down", []string{"BDAY:--03"}, []string{"BDAY:--03"}},
		{"birthday year only", "down", []string{"BDAY:1985"}, []string{"BDAY:1985"}},
		{"anniversary without year", "both", []string{"ANNIVERSARY;X-APPLE-OMIT-YEAR=1604:1604-06-20"}, []string{"ANNIVERSARY:--0620"}},
		{"rev", "both", []string{"REV:2024-01-15T10:30:00Z"}, []string{"REV:20240115T103000Z"}},
		{"geo", "both", []string{"GEO:37.386013;-122.082932"}, []string{"GEO:geo:37.386013,-122.082932"}},
		{"geo altitude", "down", []string{"GEO:37.3;-122.0"}, []string{"GEO:geo:37.3,-122.0,100;u=10"}},
		{"geo not a position", "both", []string{"GEO:somewhere"}, []string{"GEO:somewhere"}},
		{"tz offset", "both", []string{"TZ:-05:00"}, []string{"TZ;VALUE=utc-offset:-0500"}},
		{"tz hour offset", "up", []string{"TZ:+01"}, []string{"TZ;VALUE=utc-offset:+0100"}},
		{"tz text", "both", []string{"TZ;VALUE=text:Europe/Berlin"}, []string{"TZ:Europe/Berlin"}},
		{"label by type", "both",
			[]string{"ADR;TYPE=HOME:;;Main St 1;Town;;12345;", "LABEL;TYPE=HOME:Main St 1\\n12345 Town"},
			[]string{`ADR;TYPE=home;LABEL="Main St 1^n12345 Town":;;Main St 1;Town;;12345;`}},
		{"label with comma and quote", "both",
			[]string{"ADR;TYPE=WORK:;;Street;;;;", `LABEL;TYPE=WORK:ACME\, Inc. "HQ"\nStreet`},
			[]string{`ADR;TYPE=work;LABEL="ACME, Inc. ^'HQ^'^nStreet":;;Street;;;;`}},
		{"label by group", "both",
			[]string{"item1.ADR:;;a;b;;;", "item1.LABEL:a\\nb", "item2.ADR:;;c;;;;"},
			[]string{`item1.ADR;LABEL="a^nb":;;a;b;;;`, "item2.ADR:;;c;;;;"}},
		{"label without partner", "both",
			[]string{"ADR;TYPE=HOME:;;a;;;;", "ADR;TYPE=WORK:;;b;;;;", "LABEL;TYPE=POSTAL:c"},
			[]string{"ADR;TYPE=home:;;a;;;;", "ADR;TYPE=work:;;b;;;;", "LABEL;TYPE=postal:c"}},
		{"single label single adr", "up",
			[]string{"ADR;TYPE=HOME:;;a;;;;", "LABEL:a"},
			[]string{`ADR;TYPE=home;LABEL="a":;;a;;;;`}},
		{"agent uri", "both", []string{"AGENT;VALUE=uri:CID:JQPUBLIC.part3@example.com"}, []string{"RELATED;TYPE=agent:CID:JQPUBLIC.part3@example.com"}},
		{"agent inline", "both", []string{`AGENT:BEGIN:VCARD\nFN:Susan Thomas\nEND:VCARD\n`}, []string{`AGENT:BEGIN:VCARD\nFN:Susan Thomas\nEND:VCARD\n`}},
		{"related not agent", "both", []string{"RELATED;TYPE=SPOUSE:urn:uuid:x"}, []string{"RELATED;TYPE=spouse:urn:uuid:x"}},
		{"3.0-only properties", "both",
			[]string{"CLASS:PUBLIC", "NAME:Contacts", "MAILER:PigeonMail 2.1", "SORT-STRING:Harten"},
			[]string{"CLASS:PUBLIC", "NAME:Contacts", "MAILER:PigeonMail 2.1", "SORT-STRING:Harten"}},
		{"4.0-only properties", "both",
			[]string{"GENDER:M;boy", "LANG;TYPE=pref:fr", "XML:<a xmlns=\"urn:x\"/>", "CLIENTPIDMAP:1;urn:uuid:x"},
			[]string{"GENDER:M;boy", "LANG;PREF=1:fr", "XML:<a xmlns=\"urn:x\"/>", "CLIENTPIDMAP:1;urn:uuid:x"}},
		{"date-and-or-time", "down", []string{"BDAY:1985-04-12"}, []string{"BDAY;VALUE=date-and-or-time:19850412"}},
		{"3.0-style photo in 4.0", "down", []string{"PHOTO;ENCODING=b;TYPE=JPEG:/9j/"}, []string{"PHOTO;ENCODING=b;TYPE=JPEG:/9j/"}},
		{"data uri photo in 3.0", "up", []string{"PHOTO:data:image/png;base64,iVBO"}, []string{"PHOTO:data:image/png;base64,iVBO"}},
		{"tel uri", "down", []string{"TEL;TYPE=HOME:+49-30-123"}, []string{"TEL;VALUE=uri;TYPE=home:tel:+49-30-123"}},
		{"x-properties untouched", "both",
			[]string{"X-ABDATE;type=pref:2010-06-20", "X-FOO;type=bar;x=1:v\\,w", "X-AIM;type=HOME:me"},
			[]string{"X-ABDATE;type=pref:2010-06-20", "X-FOO;type=bar;x=1:v\\,w", "X-AIM;type=HOME:me"}},
		{"unknown property", "both", []string{"FOO;P=1:bar"}, []string{"FOO;P=1:bar"}},
		{"caret escapes kept", "both", []string{"X-A;P=a^nb^'c:v", "NOTE;LANGUAGE=de;X-P=\"a^^b\":text"}, []string{"X-A;P=a^nb^'c:v", "NOTE;LANGUAGE=de;X-P=\"a^^b\":text"}},
		{"quoted-printable utf-8", "up", []string{"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=0D=0Ane"}, []string{"NOTE:café\\nne"}},
		{"quoted-printable latin1", "up", []string{"NOTE;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:caf=E9 =ZZ"}, []string{"NOTE:café =ZZ"}},
		{"quoted-printable structured", "up", []string{"ORG;QUOTED-PRINTABLE:=E5=BC=A0;Dept"}, []string{"ORG:张;Dept"}},
		{"charset only", "up", []string{"NOTE;CHARSET=UTF-8;ENCODING=8BIT:x"}, []string{"NOTE:x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v3, v4 := wrap("3.0", tt.v3...), wrap("4.0", tt.v4...)
			if tt.dir != "down" {
				if got := convert(t, v3, "4.0"); got != v4 {
					t.Errorf("3.0 to 4.0:\n got %q\nwant %q", got, v4)
				}
			}
			if tt.dir != "up" {
				if got := convert(t, v4, "3.0"); got != v3 {
					t.Errorf("4.0 to 3.0:\n got %q\nwant %q", got, v3)
				}
			}
		})
	}
}

func TestConvertRequiredProperties(t *testing.T) {
	tests := []struct {
		name, in, to, want string
	}{
		{"N added for 3.0", "BEGIN:VCARD\nVERSION:4.0\nFN:Jane\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nN:;;;;\nEND:VCARD\n"},
		{"N of a group", "BEGIN:VCARD\nVERSION:4.0\nFN:Family\nKIND:group\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nFN:Family\nN:Family;;;;\nX-ADDRESSBOOKSERVER-KIND:group\nEND:VCARD\n"},
		{"N of a group with separators", "BEGIN:VCARD\nVERSION:4.0\nFN:A;B\\, C\nKIND:group\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nFN:A;B\\, C\nN:A\\;B\\, C;;;;\nX-ADDRESSBOOKSERVER-KIND:group\nEND:VCARD\n"},
		{"FN from N", "BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane;Q,R;Dr.;PhD\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:Dr. Jane Q R Doe PhD\nN:Doe;Jane;Q,R;Dr.;PhD\nEND:VCARD\n"},
		{"FN from ORG", "BEGIN:VCARD\nVERSION:4.0\nORG:ACME\\, Inc.;Sales\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nFN:ACME\\, Inc.\nN:;;;;\nORG:ACME\\, Inc.;Sales\nEND:VCARD\n"},
		{"FN from EMAIL", "BEGIN:VCARD\nVERSION:3.0\nN:;;;;\nEMAIL:a@b\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:a@b\nN:;;;;\nEMAIL:a@b\nEND:VCARD\n"},
		{"empty FN", "BEGIN:VCARD\nVERSION:3.0\nN:;;;;\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:\nN:;;;;\nEND:VCARD\n"},
		{"VERSION added", "BEGIN:VCARD\nFN:A\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n"},
		{"2.1 normalized to 3.0", "BEGIN:VCARD\nVERSION:2.1\nFN:A\nN:;;;;\nTEL;CELL;PREF:1\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nFN:A\nN:;;;;\nTEL;TYPE=CELL;TYPE=pref:1\nEND:VCARD\n"},
		{"same version unchanged", "BEGIN:VCARD\nVERSION:3.0\nTEL;type=cell:1\nEND:VCARD\n", "3.0",
			"BEGIN:VCARD\nVERSION:3.0\nTEL;type=cell:1\nEND:VCARD\n"},
		{"nested card untouched", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nN:;;;;\nAGENT:\nBEGIN:VCARD\nTEL;CELL:1\nEND:VCARD\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nN:;;;;\nAGENT:\nBEGIN:VCARD\nTEL;CELL:1\nEND:VCARD\nEND:VCARD\n"},
		{"two cards", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:B\nX-ADDRESSBOOKSERVER-KIND:group\nEND:VCARD\n", "4.0",
			"BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:B\nKIND:group\nEND:VCARD\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := convert(t, crlf(tt.in), tt.to); got != crlf(tt.want) {
				t.Errorf("\n got %q\nwant %q", got, crlf(tt.want))
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		in, to, cond string
	}{
		{appleContact, "2.1", CondSupportedAddressData},
		{appleContact, "", CondSupportedAddressData},
		{"BEGIN:VCARD\r\nVERSION:5.0\r\nEND:VCARD\r\n", "4.0", CondValidAddressData},
		{"FN:no card\r\n", "4.0", CondValidAddressData},
		{"", "3.0", CondValidAddressData},
	}
	for _, tt := range tests {
		_, err := Convert(Parse([]byte(tt.in)), tt.to)
		var e *Error
		if !errors.As(err, &e) || e.Condition != tt.cond {
			t.Errorf("Convert(%q, %q) = %v, want condition %s", tt.in, tt.to, err, tt.cond)
		}
	}
}

func TestConvertBytes(t *testing.T) {
	in := []byte(appleContact)
	out, err := ConvertBytes(in, "3.0")
	if err != nil || &out[0] != &in[0] {
		t.Errorf("same version must return the stored slice")
	}
	out, err = ConvertBytes(in, "4.0")
	if err != nil || !bytes.Contains(out, []byte("VERSION:4.0\r\n")) {
		t.Errorf("ConvertBytes to 4.0: %v %q", err, out)
	}
	if _, err := ConvertBytes(in, "9"); err == nil {
		t.Errorf("ConvertBytes to 9 did not fail")
	}
}

// propKey describes a property for round-trip comparison: group, name,
// decoded parameters and value, with case and parameter order normalized.
func propKey(l *Line) string {
	var ps []string
	for _, p := range l.Params {
		name := strings.ToUpper(p.Name)
		if name == "" {
			name = "TYPE"
		}
		for _, v := range p.Values() {
			if name == "TYPE" {
				v = strings.ToUpper(v)
			}
			ps = append(ps, name+"="+v)
		}
	}
	sort.Strings(ps)
	v := l.Value
	switch strings.ToUpper(l.Name) {
	case "BDAY", "ANNIVERSARY", "REV": // 19700131 and 1970-01-31 are the same date
		v = strings.NewReplacer("-", "", ":", "").Replace(v)
	}
	return strings.ToUpper(l.Group) + "." + strings.ToUpper(l.Name) + ";" + strings.Join(ps, ";") + ":" + v
}

// propKeys returns the sorted property keys of a card.
func propKeys(c *Card) []string {
	var out []string
	for i := range c.Lines {
		if c.Lines[i].Valid() && !c.Lines[i].Is("VERSION") {
			out = append(out, propKey(&c.Lines[i]))
		}
	}
	sort.Strings(out)
	return out
}

// TestRoundTrips converts the realistic cards to the other version and
// back; every property comes back with its group, parameters and value.
func TestRoundTrips(t *testing.T) {
	for name, in := range realCards {
		if name == "legacy-android" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			orig := Parse([]byte(in))
			from := orig.Version()
			to := map[string]string{"3.0": "4.0", "4.0": "3.0"}[from]
			mid, err := Convert(orig, to)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Convert(Parse(mid.Bytes()), from)
			if err != nil {
				t.Fatal(err)
			}
			want, got := propKeys(orig), propKeys(back)
			if own(orig.Lines, "N") == nil { // 3.0 requires N: added on the way
				got = dropPrefix(got, ".N;")
			}
			if strings.Join(want, "\n") != strings.Join(got, "\n") {
				t.Errorf("%s to %s and back changed properties:\n got %q\nwant %q\nvia %s", from, to, got, want, mid.Bytes())
			}
			for _, b := range [][]byte{mid.Bytes(), back.Bytes()} {
				checkGoVcard(t, b)
			}
		})
	}
}

// dropPrefix removes the keys that start with p.
func dropPrefix(keys []string, p string) []string {
	out := keys[:0]
	for _, k := range keys {
		if !strings.HasPrefix(k, p) {
			out = append(out, k)
		}
	}
	return out
}

// hasLine reports whether the card text holds a content line that unfolds
// to want.
func hasLine(card, want string) bool {
	c := Parse([]byte(card))
	for i := range c.Lines {
		if c.Lines[i].String() == want {
			return true
		}
	}
	return false
}

// checkGoVcard makes sure go-vcard reads every line of a converted card.
func checkGoVcard(t *testing.T, b []byte) {
	t.Helper()
	card, err := govcard.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("go-vcard cannot read the result: %v\n%s", err, b)
	}
	fields := 0
	for _, fs := range card {
		fields += len(fs)
	}
	c := Parse(b)
	if want := len(c.Lines) - 2; fields != want {
		t.Errorf("go-vcard read %d fields, the card has %d content lines", fields, want)
	}
}

// TestConvertRealCards pins what the clients care about in each direction.
func TestConvertRealCards(t *testing.T) {
	apple4 := convert(t, appleContact, "4.0")
	for _, want := range []string{
		"VERSION:4.0",
		"item1.EMAIL;TYPE=internet;PREF=1:johnny@example.com",
		"item1.X-ABLabel:_$!<Other>!$_",
		"item4.X-ABDATE;type=pref:2010-06-20",
		"BDAY:--0315",
		"PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==",
		"X-SOCIALPROFILE;type=twitter;x-user=johnny:https://twitter.com/johnny",
		"CATEGORIES:friends,work",
	} {
		if !hasLine(apple4, want) {
			t.Errorf("Apple card in 4.0 lacks %q:\n%s", want, apple4)
		}
	}
	group4 := convert(t, appleGroup, "4.0")
	for _, want := range []string{"KIND:group", "MEMBER:urn:uuid:8B3F1E36-9D5C-4C6B-9C0B-1A2B3C4D5E6F", "MEMBER:urn:uuid:0D2B7C44-1F3E-4A5B-8C9D-0E1F2A3B4C5D"} {
		if !hasLine(group4, want) {
			t.Errorf("Apple group in 4.0 lacks %q", want)
		}
	}
	group3 := convert(t, davx5Group4, "3.0")
	for _, want := range []string{"X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0c5a1f3e-8b2d-4a6c-9e0f-1a2b3c4d5e6f", "N:Family;;;;", "REV:2024-02-01T08:15:00Z"} {
		if !hasLine(group3, want) {
			t.Errorf("DAVx5 group in 3.0 lacks %q:\n%s", want, group3)
		}
	}
	tb3 := convert(t, thunderbirdContact, "3.0")
	for _, want := range []string{
		"PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
		"ADR;TYPE=WORK:;;Main Street 1;Berlin;;10115;Germany",
		"LABEL;TYPE=WORK:Corp Inc.\\nMain Street 1\\n10115 Berlin",
		"EMAIL;TYPE=pref:jane@example.org",
		"ANNIVERSARY;X-APPLE-OMIT-YEAR=1604:1604-06-20",
		"BDAY;VALUE=DATE:1985-04-12",
		"GEO:52.52;13.405",
		"TZ;VALUE=text:Europe/Berlin",
		"GENDER:F",
	} {
		if !hasLine(tb3, want) {
			t.Errorf("Thunderbird card in 3.0 lacks %q:\n%s", want, tb3)
		}
	}
	legacy4 := convert(t, legacyAndroid, "4.0")
	for _, want := range []string{"N:张;三;;;", "FN:张三", "TEL;TYPE=cell;PREF=1:+86 138 0000 0000", "NOTE:first line\\nsecond line", "PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"} {
		if !hasLine(legacy4, want) {
			t.Errorf("legacy card in 4.0 lacks %q:\n%s", want, legacy4)
		}
	}
}

// TestConvertKeepsUntouchedBytes checks that lines no rule touches keep
// their original bytes, folds included.
func TestConvertKeepsUntouchedBytes(t *testing.T) {
	out := convert(t, appleContact, "4.0")
	for _, want := range []string{
		"item2.X-ABADR:us\r\n",
		"NOTE:Line one\\nLine two\\, with a comma\r\n",
		"UID:8B3F1E36-9D5C-4C6B-9C0B-1A2B3C4D5E6F\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lost %q", want)
		}
	}
}
