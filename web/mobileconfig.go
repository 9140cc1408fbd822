// Apple configuration profile (.mobileconfig) for the "Connect a device"
// page: one profile that adds both a CalDAV and a CardDAV account.
//
// The keys follow Apple's Configuration Profile Reference, now the Device
// Management documentation (developer.apple.com/documentation/devicemanagement:
// "TopLevel", "CommonPayloadKeys", "CalDAV", "CardDAV"), whose
// machine-readable form is the apple/device-management repository
// (mdm/profiles/TopLevel.yaml, CommonPayloadKeys.yaml,
// com.apple.caldav.account.yaml, com.apple.carddav.account.yaml).

package web

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ProfileOptions describes the accounts an Apple configuration profile sets up.
type ProfileOptions struct {
	// ServiceName is shown as the accounts' description and the profile's display name; empty means the host name.
	ServiceName string
	// Base is the server root, http or https, with or without a port.
	Base *url.URL
	// PrincipalPath is the absolute path of the user's principal, such as "/dav/principals/alice/".
	PrincipalPath string
	// Username is the login name of both accounts.
	Username string
	// Password is the app password of both accounts; empty leaves it out, and the device asks for it.
	Password string
	// Identifier is the reverse-DNS base of the payload identifiers, such as "org.example.dav"; empty derives it from Base's host.
	Identifier string
	// Rand is the source of the payload UUIDs; nil means crypto/rand.
	Rand io.Reader
}

// mcDict is a property list dictionary; mcWrite writes its keys sorted.
type mcDict map[string]any

// Payload types and the profile's format version, as Apple names them.
const (
	mcProfileType    = "Configuration"
	mcCalDAVType     = "com.apple.caldav.account"
	mcCardDAVType    = "com.apple.carddav.account"
	mcPayloadVersion = 1
)

// AppleProfile returns an unsigned .mobileconfig (an XML property list) that
// adds a CalDAV and a CardDAV account for o.Username on o.Base's host.
//
// The profile's identifier is the reverse-DNS base followed by the user name,
// so that downloading the profile again for the same account replaces the
// installed one, while two accounts on one device live side by side. The
// payloads' identifiers append ".caldav" and ".carddav" to it.
//
// The password, when given, is stored in the profile in the clear (Apple
// advises encrypted profiles for it); serve the profile only to its owner.
func AppleProfile(o ProfileOptions) ([]byte, error) {
	if o.Base == nil {
		return nil, errors.New("web: profile: no base URL")
	}
	var useSSL bool
	switch strings.ToLower(o.Base.Scheme) {
	case "https":
		useSSL = true
	case "http":
	default:
		return nil, fmt.Errorf("web: profile: base URL scheme %q is not http or https", o.Base.Scheme)
	}
	host := o.Base.Hostname()
	if host == "" {
		return nil, errors.New("web: profile: base URL has no host")
	}
	port := 80
	if useSSL {
		port = 443
	}
	if p := o.Base.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("web: profile: base URL port %q is not a port number", p)
		}
		port = n
	}
	if !strings.HasPrefix(o.PrincipalPath, "/") {
		return nil, fmt.Errorf("web: profile: principal path %q is not absolute", o.PrincipalPath)
	}
	if o.Username == "" {
		return nil, errors.New("web: profile: no user name")
	}
	principal := (&url.URL{Scheme: strings.ToLower(o.Base.Scheme), Host: o.Base.Host, Path: o.PrincipalPath}).String()

	name := o.ServiceName
	if name == "" {
		name = host
	}
	base := o.Identifier
	if base == "" {
		base = mcReverseDNS(host)
	}
	ident := base + "." + mcLabel(o.Username)

	rnd := o.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var uuids [3]string
	for i := range uuids {
		u, err := mcUUID(rnd)
		if err != nil {
			return nil, fmt.Errorf("web: profile: payload UUID: %w", err)
		}
		uuids[i] = u
	}

	account := func(prefix, typ, display, suffix, uuid string) mcDict {
		d := mcDict{
			prefix + "AccountDescription": name,
			prefix + "HostName":           host,
			prefix + "Port":               port,
			prefix + "PrincipalURL":       principal,
			prefix + "UseSSL":             useSSL,
			prefix + "Username":           o.Username,
			"PayloadDisplayName":          display,
			"PayloadIdentifier":           ident + suffix,
			"PayloadType":                 typ,
			"PayloadUUID":                 uuid,
			"PayloadVersion":              mcPayloadVersion,
		}
		if o.Password != "" {
			d[prefix+"Password"] = o.Password
		}
		return d
	}
	profile := mcDict{
		"PayloadContent": []mcDict{
			account("CalDAV", mcCalDAVType, name+" calendars", ".caldav", uuids[1]),
			account("CardDAV", mcCardDAVType, name+" contacts", ".carddav", uuids[2]),
		},
		"PayloadDescription":       "Adds the calendar and contacts accounts of " + o.Username + " on " + host + ".",
		"PayloadDisplayName":       name,
		"PayloadIdentifier":        ident,
		"PayloadRemovalDisallowed": false,
		"PayloadType":              mcProfileType,
		"PayloadUUID":              uuids[0],
		"PayloadVersion":           mcPayloadVersion,
	}

	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n")
	if err := mcWrite(&b, profile, 0); err != nil {
		return nil, err
	}
	b.WriteString("</plist>\n")
	return b.Bytes(), nil
}

// mcWrite writes v as a property list element indented by depth tabs.
func mcWrite(b *bytes.Buffer, v any, depth int) error {
	indent := strings.Repeat("\t", depth)
	switch v := v.(type) {
	case mcDict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(indent + "<dict>\n")
		for _, k := range keys {
			b.WriteString(indent + "\t<key>")
			if err := mcWriteText(b, k); err != nil {
				return err
			}
			b.WriteString("</key>\n")
			if err := mcWrite(b, v[k], depth+1); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		b.WriteString(indent + "</dict>\n")
	case []mcDict:
		b.WriteString(indent + "<array>\n")
		for _, e := range v {
			if err := mcWrite(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteString(indent + "</array>\n")
	case string:
		b.WriteString(indent + "<string>")
		if err := mcWriteText(b, v); err != nil {
			return err
		}
		b.WriteString("</string>\n")
	case int:
		b.WriteString(indent + "<integer>" + strconv.Itoa(v) + "</integer>\n")
	case bool:
		if v {
			b.WriteString(indent + "<true/>\n")
		} else {
			b.WriteString(indent + "<false/>\n")
		}
	default:
		return fmt.Errorf("web: profile: no plist form for %T", v)
	}
	return nil
}

// mcWriteText writes s escaped as XML character data. It refuses a string that
// XML cannot carry (invalid UTF-8, or control characters other than tab, line
// feed and carriage return) rather than let xml.EscapeText replace them.
func mcWriteText(b *bytes.Buffer, s string) error {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return errors.New("web: profile: a string is not valid UTF-8")
		}
		if !mcXMLChar(r) {
			return fmt.Errorf("web: profile: a string holds %U, which XML cannot carry", r)
		}
	}
	return xml.EscapeText(b, []byte(s))
}

// mcXMLChar reports whether r is a character XML 1.0 allows in a document.
func mcXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// mcReverseDNS turns a host name into a reverse-DNS identifier:
// "dav.example.org" becomes "org.example.dav".
func mcReverseDNS(host string) string {
	labels := strings.Split(strings.Trim(host, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	for i, l := range labels {
		labels[i] = mcLabel(l)
	}
	return strings.Join(labels, ".")
}

// mcLabel makes s one component of a reverse-DNS identifier: ASCII
// letters, digits and hyphens, anything else a hyphen.
func mcLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// mcUUID reads a random (version 4) UUID from r, in upper case as Apple's
// tools write them.
func mcUUID(r io.Reader) (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
