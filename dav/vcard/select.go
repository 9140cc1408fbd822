package vcard

import (
	"mime"
	"strings"
)

// AddressData is a CARDDAV:address-data element of a REPORT request
// (RFC 6352 section 10.4): which properties to return, and in which
// media type and version.
type AddressData struct {
	ContentType string        // content-type attribute as sent; "" when absent (text/vcard)
	Version     string        // version attribute as sent; "" when absent
	AllProp     bool          // CARDDAV:allprop (RFC 6352 section 10.4.1) was given
	Props       []PropRequest // CARDDAV:prop children, in order
}

// PropRequest is a CARDDAV:prop element inside address-data (RFC 6352
// section 10.4.2). A Name with a group prefix ("item1.TEL") matches that
// group only; a Name without one matches the property in any group.
type PropRequest struct {
	Name    string
	NoValue bool // novalue="yes": return name and parameters, but an empty value
}

// alwaysKept are the properties Select never drops: the delimiters and
// VERSION, UID, N and FN, without which the card is not a valid vCard.
var alwaysKept = map[string]bool{"BEGIN": true, "END": true, "VERSION": true, "UID": true, "N": true, "FN": true}

// Validate checks the content-type and version against what the server
// serves (SupportedAddressData) and fails with supported-address-data.
func (a *AddressData) Validate() error {
	if a.ContentType != "" {
		mt, _, err := mime.ParseMediaType(a.ContentType)
		if err != nil || mt != "text/vcard" {
			return errorf(CondSupportedAddressData, "content-type %q is not supported", a.ContentType)
		}
	}
	switch strings.TrimSpace(a.Version) {
	case "", "3.0", "4.0":
	default:
		return errorf(CondSupportedAddressData, "vCard version %q is not supported", a.Version)
	}
	for _, p := range a.Props {
		if !validPropName(p.Name) {
			return &Error{Message: "address-data prop has no valid name"}
		}
	}
	return nil
}

// selects reports whether the request restricts the returned properties.
func (a *AddressData) selects() bool { return !a.AllProp && len(a.Props) > 0 }

// matches reports whether the request names the property of l.
func (p PropRequest) matches(l *Line) bool {
	name := strings.TrimSpace(p.Name)
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
		return strings.EqualFold(l.Group, name[:dot]) && strings.EqualFold(l.Name, name[dot+1:])
	}
	return strings.EqualFold(l.Name, name)
}

// Select returns a copy of c with only the requested properties (RFC 6352
// section 10.4.2). BEGIN, END, VERSION, UID, N and FN are always kept with
// their values, except that UID, N and FN honour novalue when requested so.
// Malformed lines are dropped. Unselected lines of a grouped property
// (item1.X-ABLabel) go unless requested too.
func Select(c *Card, props []PropRequest) *Card {
	out := &Card{eol: c.eol}
	for _, l := range c.Lines {
		if !l.Valid() {
			continue
		}
		requested, full := false, false
		for _, p := range props {
			if p.matches(&l) {
				requested = true
				full = full || !p.NoValue
			}
		}
		upper := strings.ToUpper(l.Name)
		switch {
		case upper == "BEGIN" || upper == "END" || upper == "VERSION":
			full = true
		case alwaysKept[upper] && !requested:
			full = true
		case !requested:
			continue
		}
		l.Params = append([]Param(nil), l.Params...)
		if !full {
			l.Value = ""
		}
		out.Lines = append(out.Lines, l)
	}
	return out
}

// Transform prepares stored vCard bytes for a CARDDAV:address-data
// response element: it converts to the requested version when it differs
// from the stored one, and selects properties when the request names any.
// With nothing to do it returns stored itself, byte for byte; a request
// without a version attribute never converts.
func Transform(stored []byte, req *AddressData) ([]byte, error) {
	if req == nil {
		return stored, nil
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	want := strings.TrimSpace(req.Version)
	if want == "" && !req.selects() {
		return stored, nil
	}
	c := Parse(stored)
	changed := false
	if want != "" && c.Version() != want {
		n, err := Convert(c, want)
		if err != nil {
			return nil, err
		}
		c, changed = n, true
	}
	if req.selects() {
		c, changed = Select(c, req.Props), true
	}
	if !changed {
		return stored, nil
	}
	return c.Bytes(), nil
}
