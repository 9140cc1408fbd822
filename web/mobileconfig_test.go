package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAppleProfile reads each produced profile back with a plist reader of its
// own (mcReadPlist below, which shares no code with the writer) and checks it
// against Apple's key lists. It fails, for example, when
//   - the CardDAV (or CalDAV) payload is dropped, or a third one appears;
//   - a key is misspelt ("CalDAVPrincipalUrl") or one of ours is left out;
//   - a value has the wrong plist type (a port written as <string>, UseSSL
//     as <string>true</string>);
//   - a host name keeps its port, the port is not the URL's or the scheme's
//     default, UseSSL does not follow the scheme, or the principal URL is not
//     the absolute URL of the principal;
//   - a string is written without XML escaping (the reader then fails, or the
//     password or service name does not come back as given);
//   - UUIDs repeat or are not RFC 4122 version 4 UUIDs, or identifiers repeat;
//   - the output is not byte-for-byte the same for the same random source
//     (map order leaking into key order).
//
// The key lists come from Apple's Device Management reference (the
// apple/device-management repository, mdm/profiles/TopLevel.yaml,
// CommonPayloadKeys.yaml, com.apple.caldav.account.yaml and
// com.apple.carddav.account.yaml).
func TestAppleProfile(t *testing.T) {
	const special = `p&ss<w>rd"'&amp;]]>` + "\t\n" + `é€😀`
	cases := []struct {
		name        string
		o           ProfileOptions
		host        string
		port        int64
		ssl         bool
		principal   string
		displayName string
		ident       string
	}{
		{
			name:        "https, default port, derived identifier",
			o:           ProfileOptions{ServiceName: "Coffer", Base: mcURL(t, "https://dav.example.org/"), PrincipalPath: "/dav/principals/alice/", Username: "alice", Password: "abcd-efgh-ijkl-mnop"},
			host:        "dav.example.org",
			port:        443,
			ssl:         true,
			principal:   "https://dav.example.org/dav/principals/alice/",
			displayName: "Coffer",
			ident:       "org.example.dav.alice",
		},
		{
			name:        "https, own port, characters XML must escape",
			o:           ProfileOptions{ServiceName: `Tom & Jerry's <"DAV">`, Base: mcURL(t, "HTTPS://Cal.Example.net:8443"), PrincipalPath: "/dav/principals/bob@example.net/", Username: "bob@example.net", Password: special, Identifier: "net.example.coffer"},
			host:        "Cal.Example.net",
			port:        8443,
			ssl:         true,
			principal:   "https://Cal.Example.net:8443/dav/principals/bob@example.net/",
			displayName: `Tom & Jerry's <"DAV">`,
			ident:       "net.example.coffer.bob-example-net",
		},
		{
			name:        "http, own port",
			o:           ProfileOptions{ServiceName: "Home", Base: mcURL(t, "http://calendar.lan:8080/"), PrincipalPath: "/dav/principals/carol/", Username: "carol", Password: "secret"},
			host:        "calendar.lan",
			port:        8080,
			ssl:         false,
			principal:   "http://calendar.lan:8080/dav/principals/carol/",
			displayName: "Home",
			ident:       "lan.calendar.carol",
		},
		{
			name:        "http, default port, no password, no service name",
			o:           ProfileOptions{Base: mcURL(t, "http://dav.example.com"), PrincipalPath: "/p/dave/", Username: "dave"},
			host:        "dav.example.com",
			port:        80,
			ssl:         false,
			principal:   "http://dav.example.com/p/dave/",
			displayName: "dav.example.com",
			ident:       "com.example.dav.dave",
		},
		{
			name:        "IPv6 literal",
			o:           ProfileOptions{ServiceName: "Lab", Base: mcURL(t, "https://[2001:db8::1]:8443/"), PrincipalPath: "/dav/principals/eve/", Username: "eve", Password: "pw"},
			host:        "2001:db8::1",
			port:        8443,
			ssl:         true,
			principal:   "https://[2001:db8::1]:8443/dav/principals/eve/",
			displayName: "Lab",
			ident:       "2001-db8--1.eve",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := AppleProfile(c.o)
			if err != nil {
				t.Fatal(err)
			}
			v, err := mcReadPlist(out)
			if err != nil {
				t.Fatalf("profile is not a plist: %v\n%s", err, out)
			}
			top, ok := v.(*mcTestDict)
			if !ok {
				t.Fatalf("top level is %T, not a dict", v)
			}
			mcCheckKeys(t, "Configuration", top)

			content, _ := top.m["PayloadContent"].([]any)
			if len(content) != 2 {
				t.Fatalf("PayloadContent has %d payloads, want 2 (CalDAV and CardDAV)", len(content))
			}
			byType := map[string]*mcTestDict{}
			for i, p := range content {
				d, ok := p.(*mcTestDict)
				if !ok {
					t.Fatalf("payload %d is %T, not a dict", i, p)
				}
				typ, _ := d.m["PayloadType"].(string)
				if byType[typ] != nil {
					t.Fatalf("two payloads of type %q", typ)
				}
				byType[typ] = d
				mcCheckKeys(t, typ, d)
			}
			cal, card := byType["com.apple.caldav.account"], byType["com.apple.carddav.account"]
			if cal == nil || card == nil {
				t.Fatalf("payload types %v, want com.apple.caldav.account and com.apple.carddav.account", slices.Sorted(func(yield func(string) bool) {
					for k := range byType {
						if !yield(k) {
							return
						}
					}
				}))
			}

			want := map[string]any{
				"PayloadDisplayName":       c.displayName,
				"PayloadIdentifier":        c.ident,
				"PayloadRemovalDisallowed": false,
				"PayloadType":              "Configuration",
				"PayloadVersion":           int64(1),
			}
			mcCheckValues(t, "Configuration", top, want)
			for _, a := range []struct {
				prefix, display, suffix string
				d                       *mcTestDict
			}{
				{"CalDAV", " calendars", ".caldav", cal},
				{"CardDAV", " contacts", ".carddav", card},
			} {
				want := map[string]any{
					a.prefix + "AccountDescription": c.displayName,
					a.prefix + "HostName":           c.host,
					a.prefix + "Port":               c.port,
					a.prefix + "UseSSL":             c.ssl,
					a.prefix + "PrincipalURL":       c.principal,
					a.prefix + "Username":           c.o.Username,
					"PayloadDisplayName":            c.displayName + a.display,
					"PayloadIdentifier":             c.ident + a.suffix,
					"PayloadVersion":                int64(1),
				}
				if c.o.Password != "" {
					want[a.prefix+"Password"] = c.o.Password
				}
				mcCheckValues(t, a.prefix, a.d, want)
				if _, ok := a.d.m[a.prefix+"Password"]; ok != (c.o.Password != "") {
					t.Errorf("%s: password key present %v, want %v", a.prefix, ok, c.o.Password != "")
				}
			}

			uuids := map[string]bool{}
			idents := map[string]bool{}
			for _, d := range []*mcTestDict{top, cal, card} {
				u, _ := d.m["PayloadUUID"].(string)
				if !mcUUIDPattern.MatchString(u) {
					t.Errorf("PayloadUUID %q is not a version 4 UUID", u)
				}
				uuids[strings.ToUpper(u)] = true
				id, _ := d.m["PayloadIdentifier"].(string)
				idents[id] = true
			}
			if len(uuids) != 3 {
				t.Errorf("PayloadUUIDs are not distinct: %v", uuids)
			}
			if len(idents) != 3 {
				t.Errorf("PayloadIdentifiers are not distinct: %v", idents)
			}

			// The same random source gives the same bytes: the key order is fixed.
			o1, o2 := c.o, c.o
			o1.Rand = rand.NewChaCha8([32]byte{7})
			o2.Rand = rand.NewChaCha8([32]byte{7})
			b1, err1 := AppleProfile(o1)
			b2, err2 := AppleProfile(o2)
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Errorf("output differs for the same random source (%v, %v)", err1, err2)
			}
			// Without Rand, crypto/rand gives new UUIDs each time.
			if again, err := AppleProfile(c.o); err != nil || bytes.Equal(again, out) {
				t.Errorf("two profiles from crypto/rand are identical (%v)", err)
			}
		})
	}
}

// TestAppleProfileRefuses checks the options AppleProfile must not turn into a profile.
func TestAppleProfileRefuses(t *testing.T) {
	good := ProfileOptions{ServiceName: "Coffer", Base: mcURL(t, "https://dav.example.org/"), PrincipalPath: "/dav/principals/alice/", Username: "alice", Password: "pw"}
	cases := []struct {
		name string
		edit func(*ProfileOptions)
	}{
		{"no base", func(o *ProfileOptions) { o.Base = nil }},
		{"ftp", func(o *ProfileOptions) { o.Base = mcURL(t, "ftp://dav.example.org/") }},
		{"no host", func(o *ProfileOptions) { o.Base = &url.URL{Scheme: "https", Path: "/"} }},
		{"port out of range", func(o *ProfileOptions) { o.Base = mcURL(t, "https://dav.example.org:99999/") }},
		{"relative principal", func(o *ProfileOptions) { o.PrincipalPath = "dav/principals/alice/" }},
		{"no user", func(o *ProfileOptions) { o.Username = "" }},
		{"NUL in password", func(o *ProfileOptions) { o.Password = "a\x00b" }},
		{"escape in service name", func(o *ProfileOptions) { o.ServiceName = "a\x1bb" }},
		{"bad UTF-8 in user", func(o *ProfileOptions) { o.Username = "a\xffb" }},
		{"random source fails", func(o *ProfileOptions) { o.Rand = mcFailingReader{} }},
	}
	if _, err := AppleProfile(good); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for _, c := range cases {
		o := good
		c.edit(&o)
		if out, err := AppleProfile(o); err == nil {
			t.Errorf("%s: got a profile, want an error:\n%s", c.name, out)
		}
	}
}

// mcFailingReader is a random source that fails.
type mcFailingReader struct{}

func (mcFailingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

var _ io.Reader = mcFailingReader{}

// mcUUIDPattern matches an RFC 4122 version 4 UUID.
var mcUUIDPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)

// mcKeySpec is what Apple documents for one payload type: each key's plist
// type, and which keys are required.
type mcKeySpec struct {
	types    map[string]string // key → "string", "integer", "boolean", "array", "dictionary", "data", "date", "real"
	required []string
	written  []string // the keys AppleProfile writes (with a password)
}

// mcCommon are the keys common to all payloads (CommonPayloadKeys.yaml).
var mcCommon = map[string]string{
	"PayloadIdentifier": "string", "PayloadUUID": "string", "PayloadType": "string", "PayloadVersion": "integer",
	"PayloadDescription": "string", "PayloadDisplayName": "string", "PayloadOrganization": "string",
}

// mcAccountKeys are the CalDAV and CardDAV payload keys (com.apple.caldav.account.yaml,
// com.apple.carddav.account.yaml), after the prefix; CardDAV adds CommunicationServiceRules.
var mcAccountKeys = map[string]string{
	"AccountDescription": "string", "HostName": "string", "Username": "string", "Password": "string",
	"PrincipalURL": "string", "UseSSL": "boolean", "Port": "integer",
}

var mcSpecs = map[string]mcKeySpec{
	// TopLevel.yaml
	"Configuration": {
		types: map[string]string{
			"PayloadIdentifier": "string", "PayloadUUID": "string", "PayloadType": "string", "PayloadVersion": "integer",
			"IsEncrypted": "boolean", "PayloadContent": "array", "EncryptedPayloadContent": "data",
			"PayloadDescription": "string", "PayloadDisplayName": "string", "HasRemovalPasscode": "boolean",
			"PayloadOrganization": "string", "PayloadRemovalDisallowed": "boolean", "PayloadScope": "string",
			"RemovalDate": "date", "DurationUntilRemoval": "real", "PayloadExpirationDate": "date",
			"TargetDeviceType": "integer", "ConsentText": "dictionary",
		},
		required: []string{"PayloadContent", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion"},
		written: []string{"PayloadContent", "PayloadDescription", "PayloadDisplayName", "PayloadIdentifier",
			"PayloadRemovalDisallowed", "PayloadType", "PayloadUUID", "PayloadVersion"},
	},
	"com.apple.caldav.account":  mcAccountSpec("CalDAV"),
	"com.apple.carddav.account": mcAccountSpec("CardDAV", "CommunicationServiceRules"),
}

// mcAccountSpec builds the key spec of a CalDAV or CardDAV payload.
func mcAccountSpec(prefix string, dictKeys ...string) mcKeySpec {
	s := mcKeySpec{types: map[string]string{"VPNUUID": "string"}}
	for k, v := range mcCommon {
		s.types[k] = v
	}
	for _, k := range dictKeys {
		s.types[k] = "dictionary"
	}
	for k, v := range mcAccountKeys {
		s.types[prefix+k] = v
		s.written = append(s.written, prefix+k)
	}
	s.required = []string{"PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion", prefix + "HostName"}
	s.written = append(s.written, "PayloadDisplayName", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion")
	return s
}

// mcCheckKeys checks that d has every key Apple requires of its payload type,
// only keys Apple documents for it, each of the documented plist type, and
// exactly the keys AppleProfile is meant to write (less a password it was not given).
func mcCheckKeys(t *testing.T, typ string, d *mcTestDict) {
	t.Helper()
	spec, ok := mcSpecs[typ]
	if !ok {
		t.Errorf("payload type %q is not one AppleProfile should write", typ)
		return
	}
	for _, k := range spec.required {
		if _, ok := d.m[k]; !ok {
			t.Errorf("%s: required key %s is missing", typ, k)
		}
	}
	for _, k := range d.keys {
		want, ok := spec.types[k]
		if !ok {
			t.Errorf("%s: key %s is not documented for this payload type", typ, k)
			continue
		}
		if got := mcPlistType(d.m[k]); got != want {
			t.Errorf("%s: key %s is a <%s>, Apple documents <%s>", typ, k, got, want)
		}
	}
	written := slices.Clone(spec.written)
	if _, ok := d.m["CalDAVPassword"]; !ok && typ == "com.apple.caldav.account" {
		written = slices.DeleteFunc(written, func(k string) bool { return k == "CalDAVPassword" })
	}
	if _, ok := d.m["CardDAVPassword"]; !ok && typ == "com.apple.carddav.account" {
		written = slices.DeleteFunc(written, func(k string) bool { return k == "CardDAVPassword" })
	}
	slices.Sort(written)
	if got := slices.Sorted(slices.Values(d.keys)); !slices.Equal(got, written) {
		t.Errorf("%s: keys\n %v\nwant\n %v", typ, got, written)
	}
}

// mcCheckValues checks d's values against want.
func mcCheckValues(t *testing.T, what string, d *mcTestDict, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if got, ok := d.m[k]; !ok || got != w {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, w)
		}
	}
}

// mcPlistType names the plist element a value read by mcReadPlist came from.
func mcPlistType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case *mcTestDict:
		return "dictionary"
	}
	return fmt.Sprintf("%T", v)
}

// mcURL parses a URL for a test case.
func mcURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mcTestDict is a plist dictionary as read back, with its keys in document order.
type mcTestDict struct {
	keys []string
	m    map[string]any
}

// mcReadPlist reads an XML property list of dict, array, key, string,
// integer, true and false elements, strictly: it wants the XML declaration
// and the plist DOCTYPE, refuses unknown elements, duplicate keys, text
// outside strings and keys, and anything after the root.
func mcReadPlist(data []byte) (any, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var sawDecl, sawDoctype bool
	next := func() (xml.Token, error) {
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			switch tok := tok.(type) {
			case xml.CharData:
				if len(bytes.TrimSpace(tok)) != 0 {
					return nil, fmt.Errorf("text %q outside a string or key", tok)
				}
				continue
			case xml.Comment:
				continue
			case xml.ProcInst:
				if tok.Target != "xml" || sawDecl {
					return nil, fmt.Errorf("unexpected processing instruction %q", tok.Target)
				}
				sawDecl = true
				continue
			case xml.Directive:
				if !bytes.HasPrefix(tok, []byte(`DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"`)) || sawDoctype {
					return nil, fmt.Errorf("unexpected directive %q", tok)
				}
				sawDoctype = true
				continue
			}
			return xml.CopyToken(tok), nil
		}
	}
	// text reads character data up to the end element of name.
	text := func(name string) (string, error) {
		var b strings.Builder
		for {
			tok, err := dec.Token()
			if err != nil {
				return "", err
			}
			switch tok := tok.(type) {
			case xml.CharData:
				b.Write(tok)
			case xml.EndElement:
				if tok.Name.Local != name {
					return "", fmt.Errorf("</%s> inside <%s>", tok.Name.Local, name)
				}
				return b.String(), nil
			default:
				return "", fmt.Errorf("%T inside <%s>", tok, name)
			}
		}
	}
	var value func(start xml.StartElement) (any, error)
	value = func(start xml.StartElement) (any, error) {
		if len(start.Attr) != 0 {
			return nil, fmt.Errorf("<%s> has attributes", start.Name.Local)
		}
		switch start.Name.Local {
		case "string":
			return text("string")
		case "integer":
			s, err := text("integer")
			if err != nil {
				return nil, err
			}
			var n int64
			if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
				return nil, fmt.Errorf("<integer>%s</integer> is not an integer", s)
			}
			return n, nil
		case "true", "false":
			if s, err := text(start.Name.Local); err != nil || s != "" {
				return nil, fmt.Errorf("<%s/> is not empty (%v)", start.Name.Local, err)
			}
			return start.Name.Local == "true", nil
		case "array":
			var a []any
			for {
				tok, err := next()
				if err != nil {
					return nil, err
				}
				switch tok := tok.(type) {
				case xml.EndElement:
					return a, nil
				case xml.StartElement:
					v, err := value(tok)
					if err != nil {
						return nil, err
					}
					a = append(a, v)
				}
			}
		case "dict":
			d := &mcTestDict{m: map[string]any{}}
			for {
				tok, err := next()
				if err != nil {
					return nil, err
				}
				switch tok := tok.(type) {
				case xml.EndElement:
					return d, nil
				case xml.StartElement:
					if tok.Name.Local != "key" {
						return nil, fmt.Errorf("<%s> where a <key> belongs", tok.Name.Local)
					}
					k, err := text("key")
					if err != nil {
						return nil, err
					}
					if _, dup := d.m[k]; dup {
						return nil, fmt.Errorf("key %q twice", k)
					}
					vt, err := next()
					if err != nil {
						return nil, err
					}
					vs, ok := vt.(xml.StartElement)
					if !ok {
						return nil, fmt.Errorf("key %q has no value", k)
					}
					v, err := value(vs)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", k, err)
					}
					d.keys = append(d.keys, k)
					d.m[k] = v
				}
			}
		}
		return nil, fmt.Errorf("unknown element <%s>", start.Name.Local)
	}

	tok, err := next()
	if err != nil {
		return nil, err
	}
	root, ok := tok.(xml.StartElement)
	if !ok || root.Name.Local != "plist" || len(root.Attr) != 1 || root.Attr[0].Name.Local != "version" || root.Attr[0].Value != "1.0" {
		return nil, fmt.Errorf("root is %v, not <plist version=\"1.0\">", tok)
	}
	if !sawDecl || !sawDoctype {
		return nil, errors.New("no XML declaration or no plist DOCTYPE before the root")
	}
	tok, err = next()
	if err != nil {
		return nil, err
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return nil, errors.New("<plist> holds no value")
	}
	v, err := value(start)
	if err != nil {
		return nil, err
	}
	if tok, err := next(); err != nil || tok != (xml.EndElement{Name: xml.Name{Local: "plist"}}) {
		return nil, fmt.Errorf("more than one value in <plist> (%v, %v)", tok, err)
	}
	if tok, err := next(); err != io.EOF {
		return nil, fmt.Errorf("content after </plist> (%v, %v)", tok, err)
	}
	return v, nil
}
