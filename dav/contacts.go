package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/coffer-dav/coffer/dav/vcard"
	"github.com/coffer-dav/coffer/storage"
)

// Conditions of address-book queries (RFC 6352 sections 8.3 and 8.6).
var (
	condAddressSupportedCollation = xml.Name{Space: nsCardDAV, Local: "supported-collation"}    // RFC 6352 8.6
	condSupportedAddressData      = xml.Name{Space: nsCardDAV, Local: "supported-address-data"} // RFC 6352 6.3.2.1 (PUT), 8.6
	condNumberOfMatches           = xml.Name{Space: nsDAV, Local: "number-of-matches-within-limits"}
)

// appleAgents mark the User-Agents of Apple's Contacts (clients.md 3.1).
var appleAgents = []string{"dataaccessd/", "AddressBook/", "accountsd/", "CardDAVPlugin"}

// cardVersionFor returns the vCard version an address-data without a
// version attribute asks for. RFC 6352 section 10.4 says 3.0, but
// Thunderbird and vdirsyncer re-read the vCard 4 they wrote and expect it
// back unchanged, so the stored card goes out as it is ("") — except to
// Apple, which sends no version and cannot read vCard 4 (Q7): it gets 3.0.
func cardVersionFor(userAgent string) string {
	for _, a := range appleAgents {
		if strings.Contains(userAgent, a) {
			return "3.0"
		}
	}
	return ""
}

// parseAddressDataRequest reads an address-data element of a request's
// prop (RFC 6352 10.4); an empty Version asks for the client's default.
func parseAddressDataRequest(prop *node) (*vcard.AddressData, error) {
	ad := &vcard.AddressData{}
	n := prop.child(nsCardDAV, "address-data")
	if n == nil || (len(n.Kids) == 0 && len(n.Attr) == 0) {
		return ad, nil
	}
	d := xml.NewDecoder(strings.NewReader(serializeElement(n)))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, errStatus(http.StatusBadRequest, "malformed address-data element")
		}
		if start, ok := tok.(xml.StartElement); ok {
			parsed, err := vcard.DecodeAddressData(d, start)
			if err != nil {
				return nil, contactsError(err)
			}
			return parsed, nil
		}
	}
}

// parseAddressQuery reads an addressbook-query (RFC 6352 8.6).
func parseAddressQuery(n *node) (*vcard.Query, error) {
	q, err := vcard.ParseQuery([]byte(serializeElement(n)))
	if err != nil {
		return nil, contactsError(err)
	}
	return q, nil
}

// contactsError turns an error of package vcard into a DAV error value.
func contactsError(err error) error {
	var ve *vcard.Error
	if !errors.As(err, &ve) {
		return errInternal(err)
	}
	switch ve.Condition {
	case vcard.CondSupportedFilter:
		return errCond(http.StatusForbidden, condAddressSupportedFilter, ve.Message)
	case vcard.CondSupportedCollation:
		return errCond(http.StatusForbidden, condAddressSupportedCollation, ve.Message)
	case vcard.CondSupportedAddressData:
		return errCond(http.StatusForbidden, condSupportedAddressData, ve.Message)
	case vcard.CondValidAddressData:
		return errCond(http.StatusForbidden, condValidAddressData, ve.Message)
	}
	// RFC 6352 has no precondition for a malformed filter: a plain 400.
	return errStatus(http.StatusBadRequest, ve.Message)
}

// renderAddressData returns the address-data of a card as the request asks:
// the stored bytes when they already are the version asked for, else a
// conversion and selection of them.
func renderAddressData(body []byte, ad *vcard.AddressData) ([]byte, error) {
	if ad == nil {
		return body, nil
	}
	out, err := vcard.Transform(body, ad)
	if err != nil {
		return nil, contactsError(err)
	}
	return out, nil
}

// addressQuery answers addressbook-query (RFC 6352 8.6): every card is
// matched against the filter; a limit beyond which cards match ends the
// answer with a 507 for the collection (RFC 6352 8.6.1).
func (q *request) addressQuery(res *resource, rr *reportRequest, ms *multistatus) error {
	var objs []storage.Object
	if res.path.kind == pathObject { // the query names one card
		objs = []storage.Object{*res.obj}
	} else {
		var err error
		if objs, err = q.space.Objects(q.ctx, res.coll.ID); err != nil {
			return errInternal(err)
		}
	}
	names := withETag(rr.names)
	limit := 0
	if rr.addrQuery.Limit != nil {
		limit = rr.addrQuery.Limit.NResults
	}
	for _, meta := range objs {
		o, err := q.space.Object(q.ctx, res.coll.ID, meta.Name, storage.ReadOptions{Body: true})
		if errors.Is(err, storage.ErrNotFound) {
			continue
		} else if err != nil {
			return errInternal(err)
		}
		ok, err := vcard.MatchBytes(o.Body, &rr.addrQuery.Filter)
		if err != nil {
			return contactsError(err)
		}
		if !ok {
			continue
		}
		if limit > 0 && len(ms.responses) == limit {
			ms.responses = append(ms.responses, &response{href: res.path.href(), status: http.StatusInsufficientStorage,
				errCond: condNumberOfMatches})
			return nil
		}
		r, err := q.objectResponse(objectResource(res, *o), names, rr)
		if err != nil {
			return err
		}
		ms.responses = append(ms.responses, r)
	}
	return nil
}
