package web

import (
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestDAVx5LinkQRCode draws each link's QR code from the SVG markup alone
// (qrRasterize parses the <svg> and fills its <rect> and <path> shapes; it
// never sees the encoder's module matrix), decodes the picture with the
// gozxing QR reader, and then reads the decoded link the way DAVx5's
// LoginActivity.loginInfoFromIntent does (qrDAVx5Parse). It fails, for
// example, when
//   - the SVG is not a QR code of the content (a shifted or dropped row,
//     wrong module coordinates, a light background path), or its error
//     correction level is not M;
//   - the quiet zone is missing or narrower than four modules, or the SVG
//     lacks its viewBox, role="img" or aria-label, or uses a style attribute
//     or a data: URI;
//   - the link's scheme is not one DAVx5's intent filter takes (https:// would
//     open a browser), or http is not kept as http (caldav://);
//   - a user name or password is not percent-encoded ('@', '/', '?', '#', '%'
//     would then move the host or cut the password; a second '@' misleads
//     older Android versions), or a password with ':' is put in the link,
//     where DAVx5 would cut it at the ':';
//   - the host, port, path or query of the base URL does not come back.
func TestDAVx5LinkQRCode(t *testing.T) {
	cases := []struct {
		name               string
		base               string
		username, password string
		wantScheme         string
		wantUser, wantPass string // as DAVx5 reads them back
	}{
		{"https, app password", "https://dav.example.org/", "alice", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345-67", "davx5", "alice", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345-67"},
		{"https, port, path", "https://dav.example.org:8443/coffer/", "alice", "secret", "davx5", "alice", "secret"},
		{"http keeps http", "http://calendar.lan:8080/", "carol", "pw", "caldav", "carol", "pw"},
		{"characters that need escaping", "https://dav.example.org/", "bob@example.net", "p@ss/w?rd#%25&+ =é€;,$!*'()[]", "davx5", "bob@example.net", "p@ss/w?rd#%25&+ =é€;,$!*'()[]"},
		{"colon in password is left out", "https://dav.example.org/", "dave", "a:b", "davx5", "dave", ""},
		{"colon in user name leaves out both", "https://dav.example.org/", "e:ve", "pw", "davx5", "", ""},
		{"no password", "https://dav.example.org/", "frank", "", "davx5", "frank", ""},
		{"query kept, fragment dropped", "https://dav.example.org/dav/?x=1#top", "gina", "pw", "davx5", "gina", "pw"},
		{"IPv6 literal", "https://[2001:db8::1]:8443/", "hal", "pw", "davx5", "hal", "pw"},
		{"long path, larger symbol", "https://dav.example.org/" + strings.Repeat("segment/", 30), "ivan", strings.Repeat("Z", 60), "davx5", "ivan", strings.Repeat("Z", 60)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, err := url.Parse(c.base)
			if err != nil {
				t.Fatal(err)
			}
			link := DAVx5Link(base, c.username, c.password)

			svg, err := QRCodeSVG(link)
			if err != nil {
				t.Fatal(err)
			}
			decoded, level := qrDecodeSVG(t, svg, nil)
			if decoded != link {
				t.Fatalf("QR code decodes to\n %q\nwant\n %q", decoded, link)
			}
			if level != "M" {
				t.Errorf("error correction level %q, want M", level)
			}

			got, err := qrDAVx5Parse(decoded)
			if err != nil {
				t.Fatalf("DAVx5 would not take %q: %v", decoded, err)
			}
			if got.scheme != c.wantScheme {
				t.Errorf("link scheme %q, want %q", got.scheme, c.wantScheme)
			}
			wantBase := *base
			wantBase.Fragment, wantBase.RawFragment = "", ""
			if wantBase.Path == "" {
				wantBase.Path = "/"
			}
			if got.base != wantBase.String() {
				t.Errorf("DAVx5 reads the URL as %q, want %q", got.base, wantBase.String())
			}
			if got.username != c.wantUser || got.password != c.wantPass {
				t.Errorf("DAVx5 reads user %q password %q, want %q %q", got.username, got.password, c.wantUser, c.wantPass)
			}
		})
	}
	if DAVx5Link(nil, "a", "b") != "" {
		t.Error("nil base gives a link")
	}
}

// TestQRCodeSVGContent checks QR codes of contents other than links
// (non-ASCII text, decoded as UTF-8, and markup characters), and that empty
// content and content past a QR code's capacity are errors.
func TestQRCodeSVGContent(t *testing.T) {
	utf8Hint := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_CHARACTER_SET: "UTF-8"}
	for _, content := range []string{"x", `<svg>&"'</svg>`, "Grüße, 日本語 😀", strings.Repeat("0123456789", 40)} {
		svg, err := QRCodeSVG(content)
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if got, _ := qrDecodeSVG(t, svg, utf8Hint); got != content {
			t.Errorf("QR code decodes to %q, want %q", got, content)
		}
	}
	for _, content := range []string{"", strings.Repeat("x", 3000)} {
		if _, err := QRCodeSVG(content); err == nil {
			t.Errorf("%d bytes of content gave no error", len(content))
		}
	}
}

// qrDecodeSVG checks the SVG's markup, draws it, checks the quiet zone and
// decodes the picture; it returns the text and the error correction level.
func qrDecodeSVG(t *testing.T, svg string, hints map[gozxing.DecodeHintType]interface{}) (text, level string) {
	t.Helper()
	const scale = 6 // pixels per SVG unit
	img, quiet, err := qrRasterize(svg, scale)
	if err != nil {
		t.Fatalf("SVG: %v\n%s", err, svg)
	}
	if quiet < 4 { // the QR code standard's quiet zone, in modules
		t.Errorf("quiet zone is %d modules, want at least 4", quiet)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("no QR code decoded from the SVG: %v", err)
	}
	level = fmt.Sprint(res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL])
	return res.GetText(), level
}

// qrRasterize parses an SVG made of <rect> and <path> shapes (paths of
// M/m, H/h, V/v, L/l and Z/z commands, filled even-odd) and paints it at
// scale pixels per unit on an image of its viewBox, unpainted area white.
// It checks the markup the page needs (viewBox, role="img", aria-label) and
// refuses what its CSP would block or this page does not expect (style
// attributes, data: URIs, other elements). It returns the picture and the
// width, in whole units, of the light margin around the dark shapes.
func qrRasterize(svg string, scale int) (*image.Gray, int, error) {
	if strings.Contains(svg, "data:") {
		return nil, 0, fmt.Errorf("has a data: URI")
	}
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	var img *image.Gray
	var w, h int
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			depth--
			continue
		case xml.CharData:
			if strings.TrimSpace(string(tok)) != "" {
				return nil, 0, fmt.Errorf("text %q", tok)
			}
			continue
		case xml.StartElement:
		default:
			return nil, 0, fmt.Errorf("unexpected %T", tok)
		}
		el := tok.(xml.StartElement)
		depth++
		attr := map[string]string{}
		for _, a := range el.Attr {
			if a.Name.Local == "style" {
				return nil, 0, fmt.Errorf("<%s> has a style attribute", el.Name.Local)
			}
			attr[a.Name.Local] = a.Value
		}
		if el.Name.Local == "svg" {
			if depth != 1 || el.Name.Space != "http://www.w3.org/2000/svg" {
				return nil, 0, fmt.Errorf("<svg> at depth %d in namespace %q", depth, el.Name.Space)
			}
			if attr["role"] != "img" || strings.TrimSpace(attr["aria-label"]) == "" {
				return nil, 0, fmt.Errorf("<svg> wants role=\"img\" and an aria-label, has %v", attr)
			}
			vb := strings.Fields(attr["viewBox"])
			if len(vb) != 4 || vb[0] != "0" || vb[1] != "0" {
				return nil, 0, fmt.Errorf("viewBox %q", attr["viewBox"])
			}
			if w, err = strconv.Atoi(vb[2]); err != nil {
				return nil, 0, err
			}
			if h, err = strconv.Atoi(vb[3]); err != nil {
				return nil, 0, err
			}
			img = image.NewGray(image.Rect(0, 0, w*scale, h*scale))
			for i := range img.Pix {
				img.Pix[i] = 0xff
			}
			continue
		}
		if img == nil || depth != 2 {
			return nil, 0, fmt.Errorf("<%s> outside the <svg>", el.Name.Local)
		}
		var shade uint8
		switch strings.ToLower(attr["fill"]) {
		case "#000", "#000000", "black":
			shade = 0
		case "#fff", "#ffffff", "white":
			shade = 0xff
		default:
			return nil, 0, fmt.Errorf("<%s> fill %q", el.Name.Local, attr["fill"])
		}
		var polys [][][2]float64
		switch el.Name.Local {
		case "rect":
			num := func(k string) float64 {
				f, _ := strconv.ParseFloat(attr[k], 64) // absent is 0
				return f
			}
			x, y, rw, rh := num("x"), num("y"), num("width"), num("height")
			polys = [][][2]float64{{{x, y}, {x + rw, y}, {x + rw, y + rh}, {x, y + rh}}}
		case "path":
			if polys, err = qrParsePath(attr["d"]); err != nil {
				return nil, 0, err
			}
		default:
			return nil, 0, fmt.Errorf("unexpected element <%s>", el.Name.Local)
		}
		// Even-odd: a pixel inside an odd number of the polygons is painted.
		inside := make([]bool, w*scale*h*scale)
		for _, p := range polys {
			x0, y0, x1, y1 := p[0][0], p[0][1], p[0][0], p[0][1]
			for _, q := range p {
				x0, y0, x1, y1 = min(x0, q[0]), min(y0, q[1]), max(x1, q[0]), max(y1, q[1])
			}
			for py := max(0, int(y0*float64(scale))); py < min(h*scale, int(y1*float64(scale))+1); py++ {
				for px := max(0, int(x0*float64(scale))); px < min(w*scale, int(x1*float64(scale))+1); px++ {
					if qrInside(p, (float64(px)+0.5)/float64(scale), (float64(py)+0.5)/float64(scale)) {
						inside[py*w*scale+px] = !inside[py*w*scale+px]
					}
				}
			}
		}
		for i, in := range inside {
			if in {
				img.SetGray(i%(w*scale), i/(w*scale), color.Gray{Y: shade})
			}
		}
	}
	if img == nil {
		return nil, 0, fmt.Errorf("no <svg>")
	}
	// The light margin: the distance from each edge to the nearest dark pixel.
	quiet := w * scale
	for py := 0; py < h*scale; py++ {
		for px := 0; px < w*scale; px++ {
			if img.GrayAt(px, py).Y < 0x80 {
				quiet = min(quiet, px, py, w*scale-1-px, h*scale-1-py)
			}
		}
	}
	return img, quiet / scale, nil
}

// qrParsePath reads an SVG path's data into closed polygons.
func qrParsePath(d string) ([][][2]float64, error) {
	var polys [][][2]float64
	var cur [][2]float64
	var x, y float64
	s := strings.TrimSpace(d)
	num := func() (float64, error) {
		s = strings.TrimLeft(s, " ,\t\n")
		i := 0
		for i < len(s) && (s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		f, err := strconv.ParseFloat(s[:i], 64)
		s = s[i:]
		return f, err
	}
	closePoly := func() {
		if len(cur) > 2 {
			polys = append(polys, cur)
		}
		cur = nil
	}
	for s = strings.TrimLeft(s, " ,\t\n"); s != ""; s = strings.TrimLeft(s, " ,\t\n") {
		cmd := s[0]
		s = s[1:]
		switch cmd {
		case 'M', 'm', 'L', 'l':
			a, err := num()
			if err != nil {
				return nil, fmt.Errorf("path %c: %v", cmd, err)
			}
			b, err := num()
			if err != nil {
				return nil, fmt.Errorf("path %c: %v", cmd, err)
			}
			if cmd == 'm' || cmd == 'l' {
				a, b = x+a, y+b
			}
			if cmd == 'M' || cmd == 'm' {
				closePoly()
			}
			x, y = a, b
		case 'H', 'h':
			a, err := num()
			if err != nil {
				return nil, fmt.Errorf("path %c: %v", cmd, err)
			}
			if cmd == 'h' {
				a += x
			}
			x = a
		case 'V', 'v':
			b, err := num()
			if err != nil {
				return nil, fmt.Errorf("path %c: %v", cmd, err)
			}
			if cmd == 'v' {
				b += y
			}
			y = b
		case 'Z', 'z':
			if len(cur) > 0 {
				x, y = cur[0][0], cur[0][1]
			}
			closePoly()
			continue
		default:
			return nil, fmt.Errorf("path command %q", cmd)
		}
		cur = append(cur, [2]float64{x, y})
	}
	closePoly()
	return polys, nil
}

// qrInside reports whether (x, y) is inside polygon p, by ray crossing.
func qrInside(p [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		xi, yi, xj, yj := p[i][0], p[i][1], p[j][0], p[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// qrLogin is what DAVx5 takes from a login link.
type qrLogin struct {
	scheme             string // the link's own scheme
	base               string // the URL DAVx5 logs in to
	username, password string
}

// qrUserInfoPattern is user info of percent-encoded user name and password.
var qrUserInfoPattern = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+(?::(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+)?$`)

// qrDAVx5Parse reads a link as DAVx5's LoginActivity.loginInfoFromIntent
// does: the scheme must be one its intent filter takes, caldav and carddav
// mean http and the others https; the host, port, path and query make the
// URL; the user info is percent-decoded as a whole and split at ':', the
// first part the user name and the second the password.
func qrDAVx5Parse(link string) (qrLogin, error) {
	u, err := url.Parse(link)
	if err != nil {
		return qrLogin{}, err
	}
	var l qrLogin
	l.scheme = u.Scheme
	real := map[string]string{"caldav": "http", "carddav": "http", "caldavs": "https", "carddavs": "https", "davx5": "https"}[strings.ToLower(u.Scheme)]
	if real == "" {
		return qrLogin{}, fmt.Errorf("scheme %q is not in DAVx5's intent filter", u.Scheme)
	}
	// The raw user info: after "//", up to the last '@' of the authority.
	rest := link[strings.Index(link, "//")+2:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		// Android's Uri took the user info up to the first '@' before it
		// took it up to the last (AOSP bug 68341964), so a link must hold
		// only one '@'; and it may hold one ':' as the separator.
		if !qrUserInfoPattern.MatchString(rest[:at]) {
			return qrLogin{}, fmt.Errorf("user info %q holds characters other than unreserved ones, %%XX and one ':'", rest[:at])
		}
		info, err := url.PathUnescape(rest[:at])
		if err != nil {
			return qrLogin{}, err
		}
		parts := strings.Split(info, ":")
		l.username = parts[0]
		if len(parts) > 1 {
			l.password = parts[1]
		}
	}
	l.base = (&url.URL{Scheme: real, Host: u.Host, Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String()
	return l, nil
}
