// Package vcard transforms vCard data for CardDAV reports (RFC 6352).
//
// It keeps vCards as lossless content lines (Parse, Card.Bytes), converts
// between vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) in both directions
// (Convert), selects properties for CARDDAV:address-data (Select,
// Transform), and parses and evaluates CARDDAV:filter for
// addressbook-query (ParseQuery, DecodeFilter, Match).
//
// The package is pure: no HTTP, no storage. Every entry point bounds its
// work by the size of its input and never panics. Stored bytes that need no
// transformation are returned unchanged; callers should send them as they
// are.
package vcard

import "fmt"

// NamespaceCardDAV is the XML namespace of CardDAV elements (RFC 6352
// section 14.1).
const NamespaceCardDAV = "urn:ietf:params:xml:ns:carddav"

// Precondition names (RFC 6352 sections 6.3.2.1 and 8.6) carried by *Error,
// as local names in the CardDAV namespace.
const (
	CondSupportedFilter      = "supported-filter"       // RFC 6352 section 8.6
	CondSupportedCollation   = "supported-collation"    // RFC 6352 sections 8.3 and 8.6
	CondSupportedAddressData = "supported-address-data" // RFC 6352 section 8.6
	CondValidAddressData     = "valid-address-data"     // RFC 6352 section 6.3.2.1
	// CondValidFilter marks a filter that breaks the RFC 6352 section 10.5
	// grammar. RFC 6352 defines no such precondition; the name mirrors
	// CALDAV:valid-filter (RFC 4791 section 7.7). Answer 403 with it, or
	// 400 without a body condition.
	CondValidFilter = "valid-filter"
)

// Error is a failure that maps to a CardDAV precondition. It never holds
// vCard content.
type Error struct {
	Condition   string // local name of the precondition element; "" means a plain 400
	Message     string // human-readable detail
	PropFilter  string // name of the offending prop-filter, if any (for supported-filter)
	ParamFilter string // name of the offending param-filter, if any
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Condition == "" {
		return "vcard: " + e.Message
	}
	return fmt.Sprintf("vcard: %s: %s", e.Condition, e.Message)
}

// errorf builds an *Error for a precondition.
func errorf(cond, format string, args ...any) *Error {
	return &Error{Condition: cond, Message: fmt.Sprintf(format, args...)}
}

// AddressDataType is one CARDDAV:address-data-type element (RFC 6352
// section 6.2.2) of CARDDAV:supported-address-data.
type AddressDataType struct {
	ContentType string
	Version     string
}

// SupportedAddressData lists the media types served faithfully: vCard 3.0
// and 4.0, because Convert translates stored cards of either version.
func SupportedAddressData() []AddressDataType {
	return []AddressDataType{{"text/vcard", "3.0"}, {"text/vcard", "4.0"}}
}

// SupportedAddressDataXML renders the children of
// CARDDAV:supported-address-data with the given namespace prefix (e.g. "CR").
func SupportedAddressDataXML(prefix string) string {
	s := ""
	for _, t := range SupportedAddressData() {
		s += "<" + prefix + `:address-data-type content-type="` + t.ContentType + `" version="` + t.Version + `"/>`
	}
	return s
}

// SupportedCollations lists the collations of CARDDAV:supported-collation-set
// (RFC 6352 section 8.3.1) that text-match accepts.
func SupportedCollations() []string {
	return []string{CollationASCIICasemap, CollationOctet, CollationUnicodeCasemap}
}
