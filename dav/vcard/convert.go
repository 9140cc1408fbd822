package vcard

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Conversion rules between vCard 3.0 (RFC 2426) and 4.0 (RFC 6350). Every
// property not named here, every X- property and every grouped line
// (item1.X-ABLabel) passes through unchanged.
//
//	3.0                                     4.0
//	VERSION:3.0                             VERSION:4.0
//	PHOTO;ENCODING=b;TYPE=JPEG:<b64>        PHOTO:data:image/jpeg;base64,<b64>   (also LOGO, SOUND, KEY)
//	PHOTO;VALUE=uri;TYPE=JPEG:<uri>         PHOTO;MEDIATYPE=image/jpeg:<uri>
//	TEL;type=WORK;type=pref                 TEL;TYPE=work;PREF=1                 (PREF other than 1 is kept as PREF)
//	X-ADDRESSBOOKSERVER-KIND:group          KIND:group                           (any KIND value)
//	X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:x   MEMBER:urn:uuid:x
//	BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15  BDAY:--0315                          (also ANNIVERSARY)
//	BDAY:1985-04-12 / ...T10:30:00Z         BDAY:19850412 / ...T103000Z          (also REV, DEATHDATE)
//	GEO:37.38;-122.08                       GEO:geo:37.38,-122.08
//	TZ:-05:00                               TZ;VALUE=utc-offset:-0500
//	TZ;VALUE=text:Europe/Berlin             TZ:Europe/Berlin
//	LABEL;TYPE=HOME:a\nb + ADR;TYPE=HOME    ADR;TYPE=home;LABEL="a^nb"           (paired by group, then by TYPE set)
//	AGENT;VALUE=uri:<uri>                   RELATED;TYPE=agent:<uri>
//	TEL:+1 555                              TEL;VALUE=uri:tel:+1 555             (4.0 to 3.0 only: tel: URI becomes text)
//	N missing                               (derived empty in 3.0: N:;;;;, or the group name for a group card)
//	FN missing                              (derived in both: from N, ORG or EMAIL)
//
// Legacy values are cleaned in both directions: quoted-printable values are
// decoded (ISO-8859-1 charsets are transcoded), CHARSET is dropped, and
// bare vCard 2.1 parameters (TEL;CELL) become TYPE values.
//
// Properties that exist in only one version and have no counterpart in the
// other pass through under their own names: CLASS, NAME, MAILER,
// SORT-STRING, inline AGENT and unpaired LABEL (3.0 only), GENDER, LANG,
// XML, ANNIVERSARY, CLIENTPIDMAP and non-agent RELATED (4.0 only). Readers
// ignore properties they do not know, and Apple, DAVx5 (ez-vcard) and
// Thunderbird keep them; renaming them to X- names would make the reverse
// conversion ambiguous, because a card may already hold that X- name.

// Convert returns a copy of c rewritten as vCard version to ("3.0" or
// "4.0"). A card without VERSION, or of version 2.1, is read as 3.0. The
// copy keeps the original bytes of every line no rule touched.
func Convert(c *Card, to string) (*Card, error) {
	to = strings.TrimSpace(to)
	if to != "3.0" && to != "4.0" {
		return nil, errorf(CondSupportedAddressData, "vCard version %q is not supported", to)
	}
	from := c.Version()
	switch from {
	case "", "2.1", "3.0", "4.0":
	default:
		return nil, errorf(CondValidAddressData, "unknown vCard version %q", from)
	}
	out := c.Clone()
	var err error
	switch {
	case from == to:
	case from == "4.0":
		err = eachCard(out, down)
	case to == "4.0":
		err = eachCard(out, up)
	default: // 2.1 or no VERSION to 3.0: normalize through 4.0
		if err = eachCard(out, up); err == nil {
			err = eachCard(out, down)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConvertBytes converts stored vCard bytes to version to. Bytes already of
// that version are returned unchanged.
func ConvertBytes(data []byte, to string) ([]byte, error) {
	c := Parse(data)
	if c.Version() == strings.TrimSpace(to) {
		return data, nil
	}
	n, err := Convert(c, to)
	if err != nil {
		return nil, err
	}
	return n.Bytes(), nil
}

// isBegin recognizes BEGIN:VCARD.
func isBegin(l *Line) bool {
	return l.Is("BEGIN") && strings.EqualFold(strings.TrimSpace(l.Value), "VCARD")
}

// isEnd recognizes END:VCARD.
func isEnd(l *Line) bool {
	return l.Is("END") && strings.EqualFold(strings.TrimSpace(l.Value), "VCARD")
}

// eachCard applies fn to every top-level BEGIN:VCARD ... END:VCARD run of
// lines; lines outside them stay as they are.
func eachCard(c *Card, fn func([]Line) []Line) error {
	var out []Line
	found := false
	for i := 0; i < len(c.Lines); {
		if !isBegin(&c.Lines[i]) {
			out = append(out, c.Lines[i])
			i++
			continue
		}
		depth, j := 0, i
		for ; j < len(c.Lines); j++ {
			if isBegin(&c.Lines[j]) {
				depth++
			} else if isEnd(&c.Lines[j]) {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if j == len(c.Lines) {
			j--
		}
		out = append(out, fn(c.Lines[i:j+1])...)
		found = true
		i = j + 1
	}
	if !found {
		return errorf(CondValidAddressData, "no BEGIN:VCARD")
	}
	c.Lines = out
	return nil
}

// walk calls fn on every line of one vCard that belongs to it directly
// (not BEGIN/END, not nested cards), and copies the others.
func walk(in []Line, fn func(l *Line, out []Line) []Line) []Line {
	out := make([]Line, 0, len(in)+3)
	depth := 0
	for i := range in {
		l := in[i]
		switch {
		case isBegin(&l):
			depth++
			out = append(out, l)
		case isEnd(&l):
			depth--
			out = append(out, l)
		case depth != 1 || !l.Valid():
			out = append(out, l)
		default:
			out = fn(&l, out)
		}
	}
	return out
}

// up converts one vCard from 3.0 (or 2.1) to 4.0.
func up(in []Line) []Line {
	out := walk(in, func(l *Line, out []Line) []Line {
		legacyDecode(l)
		name := strings.ToUpper(l.Name)
		switch name {
		case "VERSION":
			l.Value = "4.0"
		case "PHOTO", "LOGO", "SOUND", "KEY":
			mediaUp(l, name)
		case "X-ADDRESSBOOKSERVER-KIND":
			l.Name = "KIND"
		case "X-ADDRESSBOOKSERVER-MEMBER":
			l.Name = "MEMBER"
		case "BDAY", "ANNIVERSARY", "DEATHDATE", "REV":
			dateUp(l, name != "REV")
		case "GEO":
			geoUp(l)
		case "TZ":
			tzUp(l)
		case "AGENT":
			if strings.EqualFold(firstParam(l, "VALUE"), "uri") {
				l.Name = "RELATED"
				l.DelParam("VALUE")
				l.Params = append(l.Params, Param{Name: "TYPE", Value: "agent"})
			}
		}
		if !isXName(name) && !isMedia(name) {
			typesUp(l)
		}
		return append(out, *l)
	})
	out = attachLabels(out)
	out = dedupe(out, "KIND", "MEMBER")
	out = ensureVersion(out, "4.0")
	return ensureFN(out)
}

// down converts one vCard from 4.0 to 3.0.
func down(in []Line) []Line {
	out := walk(in, func(l *Line, out []Line) []Line {
		legacyDecode(l)
		name := strings.ToUpper(l.Name)
		switch name {
		case "VERSION":
			l.Value = "3.0"
		case "PHOTO", "LOGO", "SOUND", "KEY":
			mediaDown(l, name)
		case "KIND":
			l.Name = "X-ADDRESSBOOKSERVER-KIND"
		case "MEMBER":
			l.Name = "X-ADDRESSBOOKSERVER-MEMBER"
		case "BDAY", "ANNIVERSARY", "DEATHDATE", "REV":
			dateDown(l, name != "REV")
		case "GEO":
			geoDown(l)
		case "TZ":
			tzDown(l)
		case "TEL":
			if v := l.Value; hasPrefixFold(v, "tel:") {
				l.Value = v[len("tel:"):]
				l.DelParam("VALUE")
			}
		case "RELATED":
			if t := l.ParamValues("TYPE"); len(t) == 1 && strings.EqualFold(t[0], "agent") &&
				!strings.EqualFold(firstParam(l, "VALUE"), "text") {
				l.Name = "AGENT"
				l.DelParam("TYPE")
				l.DelParam("VALUE")
				l.Params = append(l.Params, Param{Name: "VALUE", Value: "uri"})
			}
		}
		if !isXName(name) && !isMedia(name) {
			typesDown(l)
		}
		out = append(out, *l)
		if name == "ADR" && l.HasParam("LABEL") {
			out = append(out, splitLabel(&out[len(out)-1]))
		}
		return out
	})
	out = dedupe(out, "X-ADDRESSBOOKSERVER-KIND", "X-ADDRESSBOOKSERVER-MEMBER")
	out = ensureVersion(out, "3.0")
	out = ensureFN(out)
	return ensureN(out)
}

// isXName reports whether a property name is an extension (x-name).
func isXName(upperName string) bool { return strings.HasPrefix(upperName, "X-") }

// isMedia reports whether the property's TYPE parameter names a media
// format in 3.0.
func isMedia(upperName string) bool {
	switch upperName {
	case "PHOTO", "LOGO", "SOUND", "KEY":
		return true
	}
	return false
}

// hasPrefixFold reports whether s begins with the ASCII prefix p, ignoring case.
func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// firstParam returns the first decoded value of parameter name, or "".
func firstParam(l *Line, name string) string {
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, name) {
			return unquote(p.Value)
		}
	}
	return ""
}

// ---- legacy values ----

// legacyDecode decodes quoted-printable values and drops CHARSET, which
// neither vCard 3.0 nor 4.0 defines.
func legacyDecode(l *Line) {
	charset := firstParam(l, "CHARSET")
	if l.isQuotedPrintable() {
		raw := decodeQP(l.Value)
		switch strings.ToUpper(charset) {
		case "ISO-8859-1", "LATIN1", "ISO8859-1", "WINDOWS-1252", "CP1252":
			raw = latin1ToUTF8(raw)
		}
		l.Value = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(raw)
		out := l.Params[:0]
		for _, p := range l.Params {
			if strings.EqualFold(p.Name, "ENCODING") || p.Name == "" && strings.EqualFold(p.Value, "QUOTED-PRINTABLE") {
				continue
			}
			out = append(out, p)
		}
		l.Params = out
	}
	if charset != "" {
		l.DelParam("CHARSET")
	}
	out := l.Params[:0]
	for _, p := range l.Params {
		if p.Name == "" && (strings.EqualFold(p.Value, "8BIT") || strings.EqualFold(p.Value, "7BIT")) ||
			strings.EqualFold(p.Name, "ENCODING") && (strings.EqualFold(p.Value, "8BIT") || strings.EqualFold(p.Value, "7BIT")) {
			continue
		}
		out = append(out, p)
	}
	l.Params = out
}

// decodeQP decodes a quoted-printable value; malformed escapes stay as written.
func decodeQP(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if lo, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | lo)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unhex decodes one hexadecimal digit.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// latin1ToUTF8 transcodes ISO-8859-1 bytes; text that is already valid
// UTF-8 is left alone.
func latin1ToUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// ---- TYPE and PREF ----

// knownTypes are the registered TYPE values of RFC 2426 and RFC 6350 (and
// Apple's), whose case is normalized: lower in 4.0, upper in 3.0.
var knownTypes = map[string]bool{
	"home": true, "work": true, "cell": true, "voice": true, "fax": true, "pager": true, "text": true,
	"video": true, "textphone": true, "internet": true, "x400": true, "pref": true, "msg": true,
	"bbs": true, "modem": true, "car": true, "isdn": true, "pcs": true, "dom": true, "intl": true,
	"postal": true, "parcel": true, "main": true, "iphone": true, "other": true,
	"contact": true, "acquaintance": true, "friend": true, "met": true, "co-worker": true,
	"colleague": true, "co-resident": true, "neighbor": true, "child": true, "parent": true,
	"sibling": true, "spouse": true, "kin": true, "muse": true, "crush": true, "date": true,
	"sweetheart": true, "me": true, "agent": true, "emergency": true,
}

// collectTypes removes the TYPE parameters (and bare 2.1 ones) from l and
// returns their values in order without duplicates, plus the index where
// the first one stood (-1 if none).
func collectTypes(l *Line) (types []string, pos int) {
	pos = -1
	seen := map[string]bool{}
	out := l.Params[:0:0]
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, "TYPE") || p.Name == "" && p.Value != "" && !isBareEncoding(p.Value) {
			if pos < 0 {
				pos = len(out)
			}
			for _, v := range p.Values() {
				for _, t := range strings.Split(v, ",") {
					t = strings.TrimSpace(t)
					if k := strings.ToLower(t); t != "" && !seen[k] {
						seen[k] = true
						types = append(types, t)
					}
				}
			}
			continue
		}
		out = append(out, p)
	}
	l.Params = out
	return types, pos
}

// insertParams inserts ps into l's parameters at index pos (append if < 0).
func insertParams(l *Line, pos int, ps ...Param) {
	if pos < 0 || pos > len(l.Params) {
		l.Params = append(l.Params, ps...)
		return
	}
	n := make([]Param, 0, len(l.Params)+len(ps))
	n = append(n, l.Params[:pos]...)
	n = append(n, ps...)
	l.Params = append(n, l.Params[pos:]...)
}

// typesUp rewrites TYPE parameters in the 4.0 form: one comma list, known
// values lower-cased, "pref" moved to PREF=1.
func typesUp(l *Line) {
	if !hasTypeParam(l) {
		return
	}
	types, pos := collectTypes(l)
	var keep []string
	pref := false
	for _, t := range types {
		if strings.EqualFold(t, "pref") {
			pref = true
			continue
		}
		if knownTypes[strings.ToLower(t)] {
			t = strings.ToLower(t)
		}
		keep = append(keep, t)
	}
	var ps []Param
	if len(keep) > 0 {
		ps = append(ps, NewParam("TYPE", keep...))
	}
	if pref && !l.HasParam("PREF") {
		ps = append(ps, Param{Name: "PREF", Value: "1"})
	}
	insertParams(l, pos, ps...)
}

// typesDown rewrites TYPE parameters in the 3.0 form used by Apple: one
// TYPE parameter per value, known values upper-cased, PREF=1 as TYPE=pref.
func typesDown(l *Line) {
	prefOne := strings.TrimSpace(firstParam(l, "PREF")) == "1"
	if !hasTypeParam(l) && !prefOne {
		return
	}
	types, pos := collectTypes(l)
	if prefOne {
		if pos < 0 {
			for i, p := range l.Params {
				if strings.EqualFold(p.Name, "PREF") {
					pos = i
					break
				}
			}
		}
		l.DelParam("PREF")
		types = append(types, "pref")
	}
	ps := make([]Param, 0, len(types))
	for _, t := range types {
		if strings.EqualFold(t, "pref") {
			t = "pref"
		} else if knownTypes[strings.ToLower(t)] {
			t = strings.ToUpper(t)
		}
		ps = append(ps, NewParam("TYPE", t))
	}
	if pos > len(l.Params) {
		pos = -1
	}
	insertParams(l, pos, ps...)
}

// hasTypeParam reports whether l has a TYPE parameter or a bare 2.1 one.
func hasTypeParam(l *Line) bool {
	for _, p := range l.Params {
		if strings.EqualFold(p.Name, "TYPE") || p.Name == "" && p.Value != "" && !isBareEncoding(p.Value) {
			return true
		}
	}
	return false
}

// ---- PHOTO, LOGO, SOUND, KEY ----

// mediaTypes maps 3.0 TYPE values of binary properties to media types.
var mediaTypes = map[string]string{
	"JPEG": "image/jpeg", "JPG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
	"BMP": "image/bmp", "TIFF": "image/tiff", "WEBP": "image/webp", "HEIC": "image/heic",
	"BASIC": "audio/basic", "WAVE": "audio/wav", "WAV": "audio/wav", "AIFF": "audio/aiff",
	"MP3": "audio/mpeg", "MPEG": "audio/mpeg", "OGG": "audio/ogg", "AAC": "audio/aac",
	"PGP": "application/pgp-keys", "X509": "application/pkix-cert",
}

// mediaTypeUp returns the media type for a 3.0 TYPE value of property name.
func mediaTypeUp(name, t, b64 string) string {
	t = strings.TrimSpace(t)
	if strings.Contains(t, "/") {
		return strings.ToLower(t)
	}
	if mt, ok := mediaTypes[strings.ToUpper(t)]; ok {
		return mt
	}
	if t == "" {
		if name == "PHOTO" || name == "LOGO" {
			if mt := sniffImage(b64); mt != "" {
				return mt
			}
		}
		return "application/octet-stream"
	}
	switch name {
	case "PHOTO", "LOGO":
		return "image/" + strings.ToLower(t)
	case "SOUND":
		return "audio/" + strings.ToLower(t)
	}
	return "application/" + strings.ToLower(t)
}

// typeDown returns the 3.0 TYPE value for a media type.
func typeDown(mt string) string {
	mt = strings.ToLower(strings.TrimSpace(mt))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	switch mt {
	case "":
		return ""
	case "audio/wav", "audio/x-wav", "audio/wave":
		return "WAVE"
	case "audio/mpeg", "audio/mp3":
		return "MP3"
	case "application/pkix-cert", "application/x-x509-user-cert", "application/x-x509-ca-cert":
		return "X509"
	case "application/pgp-keys":
		return "PGP"
	}
	sub := mt
	if i := strings.IndexByte(mt, '/'); i >= 0 {
		sub = mt[i+1:]
	}
	return strings.ToUpper(strings.TrimPrefix(sub, "x-"))
}

// sniffImage recognizes JPEG, PNG, GIF and WebP from the start of base64 data.
func sniffImage(b64 string) string {
	if len(b64) < 16 {
		return ""
	}
	head, err := base64.StdEncoding.DecodeString(b64[:16])
	if err != nil {
		return ""
	}
	h := string(head)
	switch {
	case strings.HasPrefix(h, "\xff\xd8\xff"):
		return "image/jpeg"
	case strings.HasPrefix(h, "\x89PNG"):
		return "image/png"
	case strings.HasPrefix(h, "GIF8"):
		return "image/gif"
	case strings.HasPrefix(h, "RIFF") && len(h) >= 12 && h[8:12] == "WEBP":
		return "image/webp"
	}
	return ""
}

// stripSpace removes ASCII white space (left by some encoders inside base64).
func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// isBinary reports whether a 3.0 media property carries inline base64.
func isBinary(l *Line) bool {
	for _, p := range l.Params {
		v := unquote(p.Value)
		if strings.EqualFold(p.Name, "ENCODING") && (strings.EqualFold(v, "b") || strings.EqualFold(v, "BASE64")) ||
			p.Name == "" && (strings.EqualFold(v, "b") || strings.EqualFold(v, "BASE64")) {
			return true
		}
	}
	return false
}

// looksLikeURI reports whether v starts with a URI scheme.
func looksLikeURI(v string) bool {
	i := strings.IndexByte(v, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := v[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// mediaUp turns inline base64 into a data: URI and TYPE into MEDIATYPE.
func mediaUp(l *Line, name string) {
	binary := isBinary(l)
	types, _ := collectTypes(l)
	t := ""
	if len(types) > 0 {
		t = types[0]
	}
	out := l.Params[:0]
	for _, p := range l.Params {
		if p.Name == "" || strings.EqualFold(p.Name, "ENCODING") ||
			binary && strings.EqualFold(p.Name, "VALUE") ||
			strings.EqualFold(p.Name, "VALUE") && strings.EqualFold(unquote(p.Value), "uri") {
			continue
		}
		out = append(out, p)
	}
	l.Params = out
	if binary {
		b64 := stripSpace(l.Value)
		l.Value = "data:" + mediaTypeUp(name, t, b64) + ";base64," + b64
		return
	}
	if name == "KEY" && !looksLikeURI(l.Value) && !l.HasParam("VALUE") {
		l.Params = append(l.Params, Param{Name: "VALUE", Value: "text"})
	}
	if t != "" {
		l.Params = append(l.Params, NewParam("MEDIATYPE", mediaTypeUp(name, t, "")))
	}
}

// mediaDown turns a data: URI into inline base64 with ENCODING=b and TYPE,
// and MEDIATYPE into TYPE. TYPE parameters of 4.0 (work, home) are dropped
// here, because 3.0 reads TYPE on these properties as the format.
func mediaDown(l *Line, name string) {
	if isBinary(l) { // already in the 3.0 form
		return
	}
	mt := firstParam(l, "MEDIATYPE")
	collectTypes(l)
	l.DelParam("MEDIATYPE")
	if hasPrefixFold(l.Value, "data:") {
		if dmt, payload, ok := parseDataURI(l.Value); ok {
			l.DelParam("VALUE")
			l.DelParam("ENCODING")
			ps := []Param{{Name: "ENCODING", Value: "b"}}
			if t := typeDown(dmt); t != "" {
				ps = append(ps, NewParam("TYPE", t))
			}
			insertParams(l, 0, ps...)
			l.Value = payload
			return
		}
	}
	if looksLikeURI(l.Value) {
		l.DelParam("VALUE")
		ps := []Param{{Name: "VALUE", Value: "uri"}}
		if t := typeDown(mt); t != "" {
			ps = append(ps, NewParam("TYPE", t))
		}
		insertParams(l, 0, ps...)
		return
	}
	if name == "KEY" && strings.EqualFold(firstParam(l, "VALUE"), "text") {
		l.DelParam("VALUE")
	}
	if t := typeDown(mt); t != "" {
		l.Params = append(l.Params, NewParam("TYPE", t))
	}
}

// parseDataURI splits an RFC 2397 data: URI into its media type and the
// payload as base64.
func parseDataURI(v string) (mediaType, b64 string, ok bool) {
	rest := v[len("data:"):]
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return "", "", false
	}
	meta, data := rest[:comma], rest[comma+1:]
	isB64 := false
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		isB64 = true
		meta = meta[:len(meta)-len(";base64")]
	}
	if i := strings.IndexByte(meta, ';'); i >= 0 {
		meta = meta[:i]
	}
	if isB64 {
		return meta, stripSpace(data), true
	}
	return meta, base64.StdEncoding.EncodeToString([]byte(percentDecode(data))), true
}

// percentDecode resolves %XX escapes; malformed ones stay as written.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if lo, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | lo)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---- dates ----

// appleNoYear is the placeholder year Apple writes with X-APPLE-OMIT-YEAR.
const appleNoYear = "1604"

// dateParts is a date or date-time split into digit strings.
type dateParts struct {
	y, m, d string // y is "" for a date without year
	t       string // HHMMSS, or ""
	z       string // "Z", "+HHMM", "-HHMM" or ""
}

// allDigits reports whether s is non-empty and made of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDate reads the date and date-time forms of both versions:
// YYYY-MM-DD, YYYYMMDD, --MM-DD, --MMDD, each optionally followed by
// THH:MM:SS or THHMMSS and Z or an offset. Other forms are not touched.
func parseDate(v string) (dateParts, bool) {
	var p dateParts
	v = strings.TrimSpace(v)
	date, tm, hasT := strings.Cut(v, "T")
	if !hasT {
		date, tm, hasT = strings.Cut(v, "t")
	}
	switch {
	case strings.HasPrefix(date, "--"):
		md := strings.ReplaceAll(date[2:], "-", "")
		if len(md) != 4 || !allDigits(md) {
			return p, false
		}
		p.m, p.d = md[:2], md[2:]
	case len(date) == 10 && date[4] == '-' && date[7] == '-':
		p.y, p.m, p.d = date[:4], date[5:7], date[8:]
	case len(date) == 8:
		p.y, p.m, p.d = date[:4], date[4:6], date[6:]
	default:
		return p, false
	}
	if p.y != "" && !allDigits(p.y) || !allDigits(p.m) || !allDigits(p.d) {
		return p, false
	}
	if !hasT {
		return p, true
	}
	zi := strings.IndexAny(tm, "Zz+-")
	zone := ""
	if zi >= 0 {
		tm, zone = tm[:zi], tm[zi:]
	}
	tm = strings.ReplaceAll(tm, ":", "")
	if len(tm) != 6 || !allDigits(tm) {
		return p, false
	}
	p.t = tm
	switch {
	case zone == "":
	case zone == "Z" || zone == "z":
		p.z = "Z"
	default:
		off := strings.ReplaceAll(zone[1:], ":", "")
		if len(off) == 2 {
			off += "00"
		}
		if len(off) != 4 || !allDigits(off) {
			return p, false
		}
		p.z = zone[:1] + off
	}
	return p, true
}

// dateUp writes a date in the 4.0 basic format; Apple's omitted year
// becomes --MMDD.
func dateUp(l *Line, omitYear bool) {
	if strings.EqualFold(firstParam(l, "VALUE"), "text") {
		return
	}
	p, ok := parseDate(l.Value)
	if !ok {
		return
	}
	if omitYear && p.y != "" && strings.TrimSpace(firstParam(l, "X-APPLE-OMIT-YEAR")) == p.y {
		p.y = ""
		l.DelParam("X-APPLE-OMIT-YEAR")
	}
	v := p.y + p.m + p.d
	if p.y == "" {
		v = "--" + p.m + p.d
	}
	if p.t != "" {
		v += "T" + p.t + p.z
	}
	l.Value = v
}

// dateDown writes a date in the 3.0 extended format; a date without year
// gets Apple's placeholder year and X-APPLE-OMIT-YEAR.
func dateDown(l *Line, omitYear bool) {
	if strings.EqualFold(firstParam(l, "VALUE"), "text") {
		return
	}
	p, ok := parseDate(l.Value)
	if !ok || p.y == "" && !omitYear {
		return
	}
	switch strings.ToLower(firstParam(l, "VALUE")) {
	case "date-and-or-time", "timestamp": // 4.0-only value types; 3.0 reads the default
		l.DelParam("VALUE")
	}
	if p.y == "" {
		p.y = appleNoYear
		if !l.HasParam("X-APPLE-OMIT-YEAR") {
			l.Params = append(l.Params, Param{Name: "X-APPLE-OMIT-YEAR", Value: appleNoYear})
		}
	}
	v := p.y + "-" + p.m + "-" + p.d
	if p.t != "" {
		v += "T" + p.t[:2] + ":" + p.t[2:4] + ":" + p.t[4:]
		if len(p.z) == 5 {
			v += p.z[:3] + ":" + p.z[3:]
		} else {
			v += p.z
		}
	}
	l.Value = v
}

// ---- GEO and TZ ----

// isFloat reports whether s is a decimal number.
func isFloat(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && !strings.ContainsAny(s, "xXpPeEiInN_")
}

// geoUp turns "lat;lon" into a geo: URI (RFC 5870).
func geoUp(l *Line) {
	v := strings.TrimSpace(l.Value)
	if hasPrefixFold(v, "geo:") {
		return
	}
	lat, lon, ok := strings.Cut(v, ";")
	if !ok {
		lat, lon, ok = strings.Cut(v, ",")
	}
	if ok && isFloat(lat) && isFloat(lon) {
		l.Value = "geo:" + strings.TrimSpace(lat) + "," + strings.TrimSpace(lon)
	}
}

// geoDown turns a geo: URI into "lat;lon"; altitude and URI parameters have
// no 3.0 form and are dropped.
func geoDown(l *Line) {
	v := strings.TrimSpace(l.Value)
	if !hasPrefixFold(v, "geo:") {
		return
	}
	coords, _, _ := strings.Cut(v[len("geo:"):], ";")
	parts := strings.Split(coords, ",")
	if len(parts) >= 2 && isFloat(parts[0]) && isFloat(parts[1]) {
		l.Value = strings.TrimSpace(parts[0]) + ";" + strings.TrimSpace(parts[1])
		l.DelParam("VALUE")
	}
}

// parseOffset reads a UTC offset as ±HH, ±HHMM or ±HH:MM.
func parseOffset(v string) (sign, hh, mm string, ok bool) {
	v = strings.TrimSpace(v)
	if len(v) < 3 || v[0] != '+' && v[0] != '-' {
		return "", "", "", false
	}
	d := strings.Replace(v[1:], ":", "", 1)
	if len(d) == 2 {
		d += "00"
	}
	if len(d) != 4 || !allDigits(d) {
		return "", "", "", false
	}
	return v[:1], d[:2], d[2:], true
}

// tzUp marks a UTC offset as VALUE=utc-offset, since 4.0 TZ defaults to
// text, and drops VALUE=text for the same reason.
func tzUp(l *Line) {
	val := firstParam(l, "VALUE")
	if strings.EqualFold(val, "text") {
		l.DelParam("VALUE") // the 4.0 default
		return
	}
	if val != "" && !strings.EqualFold(val, "utc-offset") {
		return
	}
	if s, hh, mm, ok := parseOffset(l.Value); ok {
		l.Value = s + hh + mm
		if val == "" {
			l.Params = append(l.Params, Param{Name: "VALUE", Value: "utc-offset"})
		}
	}
}

// tzDown writes a UTC offset as ±HH:MM (the 3.0 default) and marks any
// other value as text.
func tzDown(l *Line) {
	val := firstParam(l, "VALUE")
	if s, hh, mm, ok := parseOffset(l.Value); ok && (val == "" || strings.EqualFold(val, "utc-offset")) {
		l.Value = s + hh + ":" + mm
		l.DelParam("VALUE")
		return
	}
	if val == "" {
		l.Params = append(l.Params, Param{Name: "VALUE", Value: "text"})
	}
}

// ---- LABEL ----

// typeKey is the sorted set of TYPE values of l without "pref".
func typeKey(l *Line) string {
	var ts []string
	for _, v := range l.ParamValues("TYPE") {
		for _, t := range strings.Split(v, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" && t != "pref" {
				ts = append(ts, t)
			}
		}
	}
	sort.Strings(ts)
	return strings.Join(ts, ",")
}

// attachLabels moves each 3.0 LABEL into the LABEL parameter of its ADR
// (RFC 6350 section 6.3.1): the ADR of the same group, else the first ADR
// with the same TYPE set, else the only ADR when there is one LABEL.
// A LABEL without a partner stays as it is.
func attachLabels(lines []Line) []Line {
	var adrs, labels []int
	byGroup := map[string]int{}
	byTypes := map[string][]int{}
	depth := 0
	for i := range lines {
		l := &lines[i]
		switch {
		case isBegin(l):
			depth++
		case isEnd(l):
			depth--
		case depth != 1:
		case l.Is("ADR"):
			adrs = append(adrs, i)
			if l.Group != "" {
				if _, dup := byGroup[strings.ToLower(l.Group)]; !dup {
					byGroup[strings.ToLower(l.Group)] = i
				}
			}
			k := typeKey(l)
			byTypes[k] = append(byTypes[k], i)
		case l.Is("LABEL"):
			labels = append(labels, i)
		}
	}
	if len(labels) == 0 {
		return lines
	}
	drop := map[int]bool{}
	attach := func(adr, label int) bool {
		if lines[adr].HasParam("LABEL") {
			return false
		}
		// Quoted always, as 4.0 writers do; RFC 6868 carets carry line breaks.
		lines[adr].Params = append(lines[adr].Params, Param{Name: "LABEL", Value: `"` + encodeCaret(UnescapeText(lines[label].Value)) + `"`})
		drop[label] = true
		return true
	}
	for _, li := range labels {
		lab := &lines[li]
		if lab.Group != "" {
			if ai, ok := byGroup[strings.ToLower(lab.Group)]; ok && attach(ai, li) {
				continue
			}
		}
		k := typeKey(lab)
		done := false
		for len(byTypes[k]) > 0 && !done {
			ai := byTypes[k][0]
			byTypes[k] = byTypes[k][1:]
			done = attach(ai, li)
		}
		if !done && len(adrs) == 1 && len(labels) == 1 {
			attach(adrs[0], li)
		}
	}
	out := lines[:0]
	for i := range lines {
		if !drop[i] {
			out = append(out, lines[i])
		}
	}
	return out
}

// splitLabel removes the LABEL parameter from a 4.0 ADR and returns the
// 3.0 LABEL line for it, in the same group and with the same TYPEs.
func splitLabel(adr *Line) Line {
	var vals []string
	for _, p := range adr.Params {
		if strings.EqualFold(p.Name, "LABEL") {
			vals = append(vals, strings.Join(p.Values(), ","))
		}
	}
	adr.DelParam("LABEL")
	lab := Line{Group: adr.Group, Name: "LABEL", Value: EscapeText(strings.Join(vals, "\n"))}
	for _, p := range adr.Params {
		if strings.EqualFold(p.Name, "TYPE") {
			lab.Params = append(lab.Params, p)
		}
	}
	return lab
}

// ---- required properties ----

// dedupe drops the second and later kind lines of a card, and member
// lines whose value repeats an earlier one; mapping Apple's names onto the
// standard ones can produce both.
func dedupe(lines []Line, kind, member string) []Line {
	seenKind := false
	members := map[string]bool{}
	out := lines[:0]
	depth := 0
	for _, l := range lines {
		drop := false
		switch {
		case isBegin(&l):
			depth++
		case isEnd(&l):
			depth--
		case depth == 1 && l.Is(kind):
			drop, seenKind = seenKind, true
		case depth == 1 && l.Is(member):
			k := strings.TrimSpace(l.Value)
			drop, members[k] = members[k], true
		}
		if !drop {
			out = append(out, l)
		}
	}
	return out
}

// insertAfter inserts l after the first line named after within the
// card's own lines, or after BEGIN when there is none.
func insertAfter(lines []Line, after string, l Line) []Line {
	at := 1
	depth := 0
	for i := range lines {
		if isBegin(&lines[i]) {
			depth++
		} else if isEnd(&lines[i]) {
			depth--
		} else if depth == 1 && lines[i].Is(after) {
			at = i + 1
			break
		}
	}
	if at > len(lines) {
		at = len(lines)
	}
	out := make([]Line, 0, len(lines)+1)
	out = append(out, lines[:at]...)
	out = append(out, l)
	return append(out, lines[at:]...)
}

// own returns the first line of the card itself named name, or nil.
func own(lines []Line, name string) *Line {
	depth := 0
	for i := range lines {
		switch {
		case isBegin(&lines[i]):
			depth++
		case isEnd(&lines[i]):
			depth--
		case depth == 1 && lines[i].Is(name):
			return &lines[i]
		}
	}
	return nil
}

// ensureVersion adds VERSION after BEGIN when the card has none.
func ensureVersion(lines []Line, v string) []Line {
	if own(lines, "VERSION") != nil {
		return lines
	}
	return insertAfter(lines, "BEGIN", Line{Name: "VERSION", Value: v})
}

// ensureFN adds an FN (required in 3.0 and 4.0) derived from N, ORG or
// EMAIL when the card has none.
func ensureFN(lines []Line) []Line {
	if own(lines, "FN") != nil {
		return lines
	}
	fn := ""
	if n := own(lines, "N"); n != nil {
		comps := splitEscaped(n.Value, ';')
		var parts []string
		for _, i := range []int{3, 1, 2, 0, 4} {
			if i < len(comps) {
				for _, s := range splitEscaped(comps[i], ',') {
					if s = strings.TrimSpace(UnescapeText(s)); s != "" {
						parts = append(parts, s)
					}
				}
			}
		}
		fn = strings.Join(parts, " ")
	}
	if o := own(lines, "ORG"); fn == "" && o != nil {
		fn = strings.TrimSpace(UnescapeText(splitEscaped(o.Value, ';')[0]))
	}
	if e := own(lines, "EMAIL"); fn == "" && e != nil {
		fn = strings.TrimSpace(UnescapeText(e.Value))
	}
	return insertAfter(lines, "VERSION", Line{Name: "FN", Value: EscapeText(fn)})
}

// ensureN adds the N that 3.0 requires: empty, or for a group card the
// group's name as Apple writes it.
func ensureN(lines []Line) []Line {
	if own(lines, "N") != nil {
		return lines
	}
	v := ";;;;"
	if k := own(lines, "X-ADDRESSBOOKSERVER-KIND"); k != nil && strings.EqualFold(strings.TrimSpace(k.Value), "group") {
		if fn := own(lines, "FN"); fn != nil {
			v = EscapeText(UnescapeText(fn.Value)) + ";;;;"
		}
	}
	return insertAfter(lines, "FN", Line{Name: "N", Value: v})
}
