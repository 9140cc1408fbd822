// The DAVx5 login link and its QR code for the "Connect a device" page.

package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrQuietZone is the light border around the symbol, in modules; the QR
// code standard asks for four.
const qrQuietZone = 4

// DAVx5Link returns a link that opens DAVx5's login screen with "Login with
// URL and user name" filled in: base as the URL, username and password as
// the credentials. It returns "" for a nil base.
//
// The format is the one DAVx5 reads in LoginActivity.loginInfoFromIntent
// (bitfireAT/davx5-ose, app/src/main/kotlin/at/bitfire/davdroid/ui/setup/
// LoginActivity.kt). Its manifest (app/src/main/AndroidManifest.xml) has
// LoginActivity take VIEW intents of the schemes caldav, caldavs, carddav,
// carddavs and davx5; loginInfoFromIntent turns caldav and carddav into
// http, and caldavs, carddavs and davx5 into https, and keeps the host,
// port, path and query (earlier releases kept the host but dropped the
// port). It takes the user info decoded as one string and splits it at
// ':', the first part being the user name and the second the password. So:
//
//	https://dav.example.org/     → davx5://alice:PASSWORD@dav.example.org/
//	http://calendar.lan:8080/    → caldav://alice:PASSWORD@calendar.lan:8080/
//
// The user name and password are percent-encoded, every byte but ASCII
// letters, digits and "-._~", so that '@', '/', '?', '#' and '%' in them
// cannot change where the authority ends. Because DAVx5 splits the decoded
// user info at every ':', no encoding can carry a ':' in the password: a
// password with one is left out of the link (DAVx5 then asks for it), and a
// user name with one (which HTTP Basic cannot carry anyway) leaves out the
// credentials altogether. Coffer's app passwords are base32 groups and
// hyphens, so they always fit. A base of any scheme but http is given as
// davx5, which is https.
func DAVx5Link(base *url.URL, username, password string) string {
	if base == nil {
		return ""
	}
	scheme := "davx5"
	if strings.EqualFold(base.Scheme, "http") {
		scheme = "caldav"
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if username != "" && !strings.Contains(username, ":") {
		b.WriteString(qrEscape(username))
		if password != "" && !strings.Contains(password, ":") {
			b.WriteString(":" + qrEscape(password))
		}
		b.WriteByte('@')
	}
	b.WriteString(base.Host)
	path := base.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if base.RawQuery != "" {
		b.WriteString("?" + base.RawQuery)
	}
	return b.String()
}

// qrEscape percent-encodes every byte of s but the URI's unreserved ones
// (ASCII letters, digits, "-", ".", "_", "~").
func qrEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// QRCodeSVG returns an inline <svg> element showing content as a QR code
// with error correction level M and a quiet zone of four modules. The
// element has a viewBox in module units and no width or height, so the
// page's stylesheet sizes it; it is drawn with fill attributes only (no
// style attribute, no data: URI), which a "default-src 'self'" Content
// Security Policy allows. Empty content, or content past what a QR code of
// level M holds (2331 bytes), is an error.
func QRCodeSVG(content string) (svg string, err error) {
	defer func() {
		// The encoder panics on an internal inconsistency rather than return an error.
		if r := recover(); r != nil {
			svg, err = "", fmt.Errorf("web: QR code: %v", r)
		}
	}()
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("web: QR code: %w", err)
	}
	q.DisableBorder = true // the quiet zone is drawn here
	modules := q.Bitmap()  // modules[y][x], true for dark

	size := strconv.Itoa(len(modules) + 2*qrQuietZone)
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + size + ` ` + size +
		`" role="img" aria-label="QR code" shape-rendering="crispEdges">`)
	b.WriteString(`<rect width="` + size + `" height="` + size + `" fill="#fff"/>`)
	b.WriteString(`<path fill="#000" d="`)
	// One rectangle per horizontal run of dark modules.
	for y, row := range modules {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 0
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
