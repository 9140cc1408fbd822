package dav

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/dav/vcard"
	"github.com/coffer-dav/coffer/storage"
)

// Property names the server computes. Each comment names the defining
// RFC and section.
var (
	pnResourcetype       = xml.Name{Space: nsDAV, Local: "resourcetype"}                        // RFC 4918 15.9
	pnDisplayname        = xml.Name{Space: nsDAV, Local: "displayname"}                         // RFC 4918 15.2
	pnGetetag            = xml.Name{Space: nsDAV, Local: "getetag"}                             // RFC 4918 15.6
	pnGetcontenttype     = xml.Name{Space: nsDAV, Local: "getcontenttype"}                      // RFC 4918 15.5
	pnGetcontentlength   = xml.Name{Space: nsDAV, Local: "getcontentlength"}                    // RFC 4918 15.4
	pnGetlastmodified    = xml.Name{Space: nsDAV, Local: "getlastmodified"}                     // RFC 4918 15.7
	pnCreationdate       = xml.Name{Space: nsDAV, Local: "creationdate"}                        // RFC 4918 15.1
	pnCurrentUserPrinc   = xml.Name{Space: nsDAV, Local: "current-user-principal"}              // RFC 5397 3
	pnPrincipalURL       = xml.Name{Space: nsDAV, Local: "principal-URL"}                       // RFC 3744 4.2
	pnPrincipalCollSet   = xml.Name{Space: nsDAV, Local: "principal-collection-set"}            // RFC 3744 5.8
	pnOwner              = xml.Name{Space: nsDAV, Local: "owner"}                               // RFC 3744 5.1
	pnCurrentUserPrivSet = xml.Name{Space: nsDAV, Local: "current-user-privilege-set"}          // RFC 3744 5.4
	pnSupportedReportSet = xml.Name{Space: nsDAV, Local: "supported-report-set"}                // RFC 3253 3.1.5
	pnSyncToken          = xml.Name{Space: nsDAV, Local: "sync-token"}                          // RFC 6578 4
	pnGetctag            = xml.Name{Space: nsCS, Local: "getctag"}                              // calendarserver.org ctag
	pnCalendarHomeSet    = xml.Name{Space: nsCalDAV, Local: "calendar-home-set"}                // RFC 4791 6.2.1
	pnCalendarUserAddr   = xml.Name{Space: nsCalDAV, Local: "calendar-user-address-set"}        // RFC 6638 2.4.1
	pnSupportedCompSet   = xml.Name{Space: nsCalDAV, Local: "supported-calendar-component-set"} // RFC 4791 5.2.3
	pnSupportedCalData   = xml.Name{Space: nsCalDAV, Local: "supported-calendar-data"}          // RFC 4791 5.2.4
	pnCalMaxSize         = xml.Name{Space: nsCalDAV, Local: "max-resource-size"}                // RFC 4791 5.2.5
	pnCalendarData       = xml.Name{Space: nsCalDAV, Local: "calendar-data"}                    // RFC 4791 9.6
	pnAddressbookHomeSet = xml.Name{Space: nsCardDAV, Local: "addressbook-home-set"}            // RFC 6352 7.1.1
	pnSupportedAddrData  = xml.Name{Space: nsCardDAV, Local: "supported-address-data"}          // RFC 6352 6.2.2
	pnAddrMaxSize        = xml.Name{Space: nsCardDAV, Local: "max-resource-size"}               // RFC 6352 6.2.3
	pnAddressData        = xml.Name{Space: nsCardDAV, Local: "address-data"}                    // RFC 6352 10.4
	pnQuotaUsed          = xml.Name{Space: nsDAV, Local: "quota-used-bytes"}                    // RFC 4331 4
	pnQuotaAvailable     = xml.Name{Space: nsDAV, Local: "quota-available-bytes"}               // RFC 4331 3
)

// protectedProps cannot be set by PROPPATCH; their values are computed.
var protectedProps = map[xml.Name]bool{
	pnResourcetype: true, pnGetetag: true, pnGetcontenttype: true, pnGetcontentlength: true,
	pnGetlastmodified: true, pnCreationdate: true, pnCurrentUserPrinc: true, pnPrincipalURL: true,
	pnPrincipalCollSet: true, pnOwner: true, pnCurrentUserPrivSet: true, pnSupportedReportSet: true,
	pnSyncToken: true, pnGetctag: true, pnCalendarHomeSet: true, pnCalendarUserAddr: true,
	pnSupportedCompSet: true, pnSupportedCalData: true, pnCalMaxSize: true, pnAddressbookHomeSet: true,
	pnSupportedAddrData: true, pnAddrMaxSize: true, pnCalendarData: true, pnAddressData: true,
	pnQuotaUsed: true, pnQuotaAvailable: true, pnPushTransports: true, pnPushTopic: true, pnSupportedTrigger: true,
	{Space: nsDAV, Local: "lockdiscovery"}: true,
	{Space: nsDAV, Local: "supportedlock"}: true,
	{Space: nsDAV, Local: "add-member"}:    true,
	{Space: nsDAV, Local: "resource-id"}:   true,
}

// allpropNames are the live properties allprop returns (RFC 4918 9.1),
// besides every stored property.
var allpropNames = []xml.Name{
	pnResourcetype, pnDisplayname, pnCreationdate, pnGetcontentlength, pnGetcontenttype, pnGetetag, pnGetlastmodified,
}

// propnameCandidates are the live properties propname may list.
var propnameCandidates = []xml.Name{
	pnResourcetype, pnDisplayname, pnCreationdate, pnGetcontentlength, pnGetcontenttype, pnGetetag, pnGetlastmodified,
	pnCurrentUserPrinc, pnPrincipalURL, pnPrincipalCollSet, pnOwner, pnCurrentUserPrivSet, pnSupportedReportSet,
	pnSyncToken, pnGetctag, pnCalendarHomeSet, pnCalendarUserAddr, pnAddressbookHomeSet, pnSupportedCompSet,
	pnSupportedCalData, pnCalMaxSize, pnSupportedAddrData, pnAddrMaxSize, pnQuotaUsed, pnQuotaAvailable,
}

// defaultComponents applies when a calendar has no stored
// supported-calendar-component-set (DAVx5 reads absence as all three).
var defaultComponents = []string{"VEVENT", "VTODO", "VJOURNAL"}

// prop renders one property of a resource; ok is false when the resource
// has no such property (a 404 propstat).
func (q *request) prop(res *resource, name xml.Name) (string, bool) {
	if s, ok := q.liveProp(res, name); ok {
		return s, true
	}
	if !protectedProps[name] {
		if v, ok := res.deadProps()[clark(name)]; ok {
			return string(v), true
		}
	}
	return "", false
}

// liveProp renders a computed property.
func (q *request) liveProp(res *resource, name xml.Name) (string, bool) {
	if name.Space == nsPush {
		return q.pushProp(res, name)
	}
	p := res.path
	user := q.acct.Username
	switch name {
	case pnResourcetype:
		return elem(name, resourcetypeInner(res)), true
	case pnCurrentUserPrinc:
		return elem(name, hrefElem(principalHref(user))), true
	case pnCurrentUserPrivSet:
		return elem(name, privileges(p.kind)), true
	}
	switch p.kind {
	case pathRoot, pathDAVRoot, pathPrincipals, pathPrincipal:
		switch name {
		case pnPrincipalURL:
			return elem(name, hrefElem(principalHref(user))), true
		case pnCalendarHomeSet:
			return elem(name, hrefElem(homeHref(user, storage.HomeCalendars))), true
		case pnAddressbookHomeSet:
			return elem(name, hrefElem(homeHref(user, storage.HomeAddressBooks))), true
		case pnPrincipalCollSet:
			return elem(name, hrefElem(principalsPrefix)), true
		}
		if p.kind != pathPrincipal {
			return "", false
		}
		switch name {
		case pnDisplayname:
			if v, ok := res.props[clark(name)]; ok {
				return string(v), true // set by PROPPATCH
			}
			dn := q.acct.DisplayName
			if dn == "" {
				dn = user
			}
			return textElem(name, dn), true
		case pnCalendarUserAddr:
			return elem(name, hrefElem(q.mailto())+hrefElem(principalHref(user))), true
		case pnSupportedReportSet:
			return elem(name, ""), true
		}
	case pathHome:
		if v, ok := q.quotaProp(name); ok {
			return v, true
		}
		switch name {
		case pnOwner:
			return elem(name, hrefElem(principalHref(user))), true
		case pnSupportedReportSet:
			return elem(name, reportSet(storage.KindPlain)), true
		case pnSyncToken:
			kids, err := q.members(res)
			if err != nil {
				return "", false
			}
			return textElem(name, homeToken(kids)), true
		}
	case pathCollection:
		c := res.coll
		if v, ok := q.quotaProp(name); ok {
			return v, true
		}
		switch name {
		case pnOwner:
			return elem(name, hrefElem(principalHref(user))), true
		case pnSupportedReportSet:
			return elem(name, reportSet(c.Kind)), true
		case pnGetctag, pnSyncToken:
			return textElem(name, syncToken(c.Revision)), true
		case pnCreationdate:
			if c.Created.IsZero() {
				return "", false
			}
			return textElem(name, c.Created.UTC().Format(time.RFC3339)), true
		}
		switch c.Kind {
		case storage.KindCalendar:
			switch name {
			case pnSupportedCompSet:
				if v, ok := c.Props[clark(name)]; ok {
					return string(v), true
				}
				return componentSetElem(defaultComponents), true
			case pnSupportedCalData:
				return elem(name, `<C:calendar-data content-type="text/calendar" version="2.0"/>`), true
			case pnCalMaxSize:
				return textElem(name, strconv.FormatInt(q.h.maxResourceSize, 10)), true
			}
		case storage.KindAddressBook:
			switch name {
			case pnSupportedAddrData:
				// Both versions are served faithfully: cards are converted on request.
				return elem(name, vcard.SupportedAddressDataXML("CR")), true
			case pnAddrMaxSize:
				return textElem(name, strconv.FormatInt(q.h.maxResourceSize, 10)), true
			}
		}
	case pathObject:
		o := res.obj
		switch name {
		case pnGetetag:
			return textElem(name, quoteETag(o.ETag)), true
		case pnGetcontenttype:
			return textElem(name, o.ContentType), true
		case pnGetcontentlength:
			return textElem(name, strconv.FormatInt(o.Size, 10)), true
		case pnGetlastmodified:
			return textElem(name, o.Modified.UTC().Format(http.TimeFormat)), true
		case pnOwner:
			return elem(name, hrefElem(principalHref(user))), true
		case pnSupportedReportSet:
			return elem(name, objectReportSet(res.coll.Kind)), true
		}
	}
	return "", false
}

// resourcetypeInner renders the children of DAV:resourcetype; objects get
// an empty element (Q9: every response carries resourcetype).
func resourcetypeInner(res *resource) string {
	switch res.path.kind {
	case pathObject:
		return ""
	case pathPrincipal:
		return "<D:collection/><D:principal/>"
	case pathCollection:
		switch res.coll.Kind {
		case storage.KindCalendar:
			return "<D:collection/><C:calendar/>"
		case storage.KindAddressBook:
			return "<D:collection/><CR:addressbook/>"
		}
	}
	return "<D:collection/>"
}

// privileges renders the current-user-privilege-set (RFC 3744 5.4): full
// rights on the user's own data; read on principals and roots.
func privileges(k pathKind) string {
	privs := []string{"read", "read-current-user-privilege-set"}
	if k == pathHome || k == pathCollection || k == pathObject {
		privs = append(privs, "write", "write-properties", "write-content", "bind", "unbind", "all")
	}
	var b strings.Builder
	for _, p := range privs {
		b.WriteString("<D:privilege><D:" + p + "/></D:privilege>")
	}
	return b.String()
}

// reportSet renders the supported-report-set children (RFC 3253 3.1.5)
// of a collection of this kind. Homes and plain collections answer
// sync-collection alone (Q5: Apple looks for it on the home); the
// calendar and address-book reports run in a calendar or address book
// only (RFC 3253 3.1.5: advertise only what works; no client in
// clients.md sends them to a home).
func reportSet(kind storage.Kind) string {
	var reports []string
	switch kind {
	case storage.KindCalendar:
		reports = []string{"<D:sync-collection/>", "<C:calendar-multiget/>", "<C:calendar-query/>", "<C:free-busy-query/>"}
	case storage.KindAddressBook:
		reports = []string{"<D:sync-collection/>", "<CR:addressbook-multiget/>", "<CR:addressbook-query/>"}
	default:
		reports = []string{"<D:sync-collection/>"}
	}
	return supportedReports(reports)
}

// objectReportSet renders the supported-report-set children of an object
// in a collection of this kind: the queries and multigets, which answer
// for the object alone (RFC 4791 section 7.1, RFC 6352 section 8).
func objectReportSet(kind storage.Kind) string {
	var reports []string
	switch kind {
	case storage.KindCalendar:
		reports = []string{"<C:calendar-multiget/>", "<C:calendar-query/>"}
	case storage.KindAddressBook:
		reports = []string{"<CR:addressbook-multiget/>", "<CR:addressbook-query/>"}
	}
	return supportedReports(reports)
}

// supportedReports renders reports as supported-report elements.
func supportedReports(reports []string) string {
	var b strings.Builder
	for _, r := range reports {
		b.WriteString("<D:supported-report><D:report>" + r + "</D:report></D:supported-report>")
	}
	return b.String()
}

// componentSetElem renders a supported-calendar-component-set (RFC 4791
// 5.2.3) in the self-contained form stored in Props.
func componentSetElem(comps []string) string {
	var b strings.Builder
	b.WriteString(`<supported-calendar-component-set xmlns="` + nsCalDAV + `">`)
	for _, c := range comps {
		b.WriteString(`<comp name="` + escapeString(c) + `"/>`)
	}
	b.WriteString("</supported-calendar-component-set>")
	return b.String()
}

// supportedComponents returns the component names a calendar accepts.
func supportedComponents(c *storage.Collection) []string {
	v, ok := c.Props[clark(pnSupportedCompSet)]
	if !ok {
		return defaultComponents
	}
	n, err := parseXML(strings.NewReader(string(v)))
	if err != nil || n == nil {
		return defaultComponents
	}
	if n.child(nsCalDAV, "allcomp") != nil {
		return defaultComponents
	}
	var out []string
	for _, c := range n.children(nsCalDAV, "comp") {
		out = append(out, strings.ToUpper(c.attr("name")))
	}
	return out
}

// mailto returns the user's calendar address: the e-mail, else the
// username when it looks like one, else username@host.
func (q *request) mailto() string {
	if q.acct.Email != "" {
		return "mailto:" + q.acct.Email
	}
	if strings.Contains(q.acct.Username, "@") {
		return "mailto:" + q.acct.Username
	}
	host := q.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		host = "localhost"
	}
	return "mailto:" + q.acct.Username + "@" + host
}

// syncToken renders a collection revision as a sync token URI (Q22:
// Evolution ignores tokens without ":" or "/").
func syncToken(rev int64) string { return syncTokenPrefix + strconv.FormatInt(rev, 10) }

// parseSyncToken returns the revision in a token; "" is revision 0.
func parseSyncToken(tok string) (int64, bool) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return 0, true
	}
	s, ok := strings.CutPrefix(tok, syncTokenPrefix)
	if !ok || s == "" || len(s) > 18 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// homeTokenPrefix starts the sync tokens of homes.
const homeTokenPrefix = syncTokenPrefix + "home/"

// memberDigestLen is the length of a member's digest in a home token: 48
// bits of SHA-256 in unpadded base32. Two names of one home share a
// digest by chance in fewer than one in 10^8 homes of 1000 collections;
// the removal of one of the two would then go unnoticed by that token.
const memberDigestLen = 10

// memberDigest names a home's member collection in the home's sync token.
func memberDigest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:6]))
}

// homeToken renders the sync token of a home (RFC 6578 section 4) with
// these members: the newest revision among them, and the digest of each
// one's name, sorted, so that the token changes exactly when a member
// comes, goes or changes.
func homeToken(members []*resource) string {
	var rev int64
	ds := make([]string, 0, len(members))
	for _, m := range members {
		rev = max(rev, m.coll.Revision)
		ds = append(ds, memberDigest(m.coll.Name))
	}
	slices.Sort(ds)
	return homeTokenPrefix + strconv.FormatInt(rev, 10) + "/" + strings.Join(ds, "")
}

// parseHomeToken reads a home token: the revision and the member digests
// it records; "" is the initial sync, with no members known.
func parseHomeToken(tok string) (rev int64, members map[string]bool, ok bool) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return 0, nil, true
	}
	rest, ok := strings.CutPrefix(tok, homeTokenPrefix)
	if !ok {
		return 0, nil, false
	}
	num, ds, ok := strings.Cut(rest, "/")
	if !ok || len(ds)%memberDigestLen != 0 {
		return 0, nil, false
	}
	rev, ok = parseSyncToken(syncTokenPrefix + num)
	if !ok {
		return 0, nil, false
	}
	members = make(map[string]bool, len(ds)/memberDigestLen)
	for i := 0; i < len(ds); i += memberDigestLen {
		d := ds[i : i+memberDigestLen]
		if strings.Trim(d, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			return 0, nil, false
		}
		members[d] = true
	}
	return rev, members, true
}

// quoteETag renders a strong entity tag.
func quoteETag(etag string) string { return `"` + etag + `"` }

// propNames lists the property names a resource has, for propname and
// allprop: live ones first, then the stored ones.
func (q *request) propNames(res *resource, candidates []xml.Name) []xml.Name {
	var out []xml.Name
	seen := map[xml.Name]bool{}
	for _, n := range candidates {
		if _, ok := q.liveProp(res, n); ok {
			out = append(out, n)
			seen[n] = true
		}
	}
	dead := res.deadProps()
	keys := make([]string, 0, len(dead))
	for k := range dead {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := parseClark(k)
		if !seen[n] && !protectedProps[n] {
			out = append(out, n)
			seen[n] = true
		}
	}
	return out
}

// quotaProp renders the RFC 4331 properties of a collection or home: the
// whole account's usage, and what the quota leaves (only when a quota is
// configured; see Options.QuotaBytes). A storage failure leaves them out.
func (q *request) quotaProp(name xml.Name) (string, bool) {
	if name != pnQuotaUsed && (name != pnQuotaAvailable || q.h.quota == 0) {
		return "", false
	}
	used, err := q.usedBytes()
	if err != nil {
		return "", false
	}
	if name == pnQuotaUsed {
		return textElem(name, strconv.FormatInt(used, 10)), true
	}
	return textElem(name, strconv.FormatInt(max(q.h.quota-used, 0), 10)), true
}

// usedBytes returns the bytes the user's objects, names and properties
// take, read once per request.
func (q *request) usedBytes() (int64, error) {
	if q.usage == nil {
		n, err := q.space.Usage(q.ctx)
		if err != nil {
			return 0, err
		}
		q.usage = &n
	}
	return *q.usage, nil
}
