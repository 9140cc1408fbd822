package dav

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// nsPush is the WebDAV-Push namespace (draft-bitfire-webdav-push-00,
// section 8).
const nsPush = "https://bitfire.at/webdav-push"

// WebDAV-Push properties (draft-bitfire-webdav-push-00 section 2.1).
var (
	pnPushTransports   = xml.Name{Space: nsPush, Local: "transports"}         // draft section 2.1 and 7
	pnPushTopic        = xml.Name{Space: nsPush, Local: "topic"}              // draft section 2.1
	pnSupportedTrigger = xml.Name{Space: nsPush, Local: "supported-triggers"} // draft section 2.1
)

// Conditions of a refused push-register (draft-bitfire-webdav-push-00
// section 3.1.3).
var (
	condInvalidSubscription = xml.Name{Space: nsPush, Local: "invalid-subscription"}
	condPushNotAvailable    = xml.Name{Space: nsPush, Local: "push-not-available"}
	condNoSupportedTrigger  = xml.Name{Space: nsPush, Local: "no-supported-trigger"}
)

// Sizes of the RFC 8291 keys a subscription carries.
const (
	p256PublicKeySize = 65 // an uncompressed P-256 point (RFC 8291 section 3.1)
	authSecretSize    = 16 // the authentication secret (RFC 8291 section 3.2)
	maxPushResource   = 2048
	maxPushBody       = 16 << 10 // a push-register body; DAVx5's is under 1 KiB
)

// pushRegister is a parsed push-register body (draft-bitfire-webdav-push-00
// section 3.1, with the Web Push subscription of section 7.1).
type pushRegister struct {
	resource   string     // web-push-subscription/push-resource, an absolute URL (section 7.1)
	publicKey  []byte     // subscription-public-key type="p256dh" (section 7.3), decoded
	authSecret []byte     // auth-secret (section 7.3), decoded
	hasTrigger bool       // a trigger element was sent
	content    bool       // trigger/content-update (section 3.1.1), any sync-level
	property   bool       // trigger/property-update (section 3.1.2), any depth
	expires    *time.Time // expires (section 3.1), nil when absent or unreadable
}

// pushPolicy is what a push-register body is checked against.
type pushPolicy struct {
	allowLoopback bool // http(s) push resources on 127.0.0.0/8 and ::1 (tests only)
}

// parsePushRegister reads a push-register body. Broken XML and another
// root are 400; an unusable subscription is 403 invalid-subscription. The
// triggers are returned as asked; the handler matches them against what
// the resource supports.
func parsePushRegister(n *node, pol pushPolicy) (*pushRegister, error) {
	if n == nil || !n.is(nsPush, "push-register") {
		return nil, errStatus(http.StatusBadRequest, "expected a push-register body")
	}
	subs := n.children(nsPush, "subscription")
	if len(subs) != 1 {
		return nil, errInvalidSubscription("push-register needs exactly one subscription")
	}
	webs := subs[0].children(nsPush, "web-push-subscription")
	if len(webs) != 1 || len(subs[0].Kids) != 1 {
		return nil, errInvalidSubscription("the subscription must be one web-push-subscription")
	}
	reg := &pushRegister{}
	var err error
	w := webs[0]
	if reg.resource, err = checkPushResource(onlyChild(w, "push-resource").text(), pol); err != nil {
		return nil, err
	}
	// dav4jvm names the key subscription-public-key; the draft's schema
	// once called it client-public-key. Both mean the same key.
	key := onlyChild(w, "subscription-public-key")
	if key == nil {
		key = onlyChild(w, "client-public-key")
	}
	if reg.publicKey, err = checkP256DH(key); err != nil {
		return nil, err
	}
	if reg.authSecret, err = decodeB64URL(onlyChild(w, "auth-secret").text(), authSecretSize); err != nil {
		return nil, errInvalidSubscription("auth-secret must be 16 bytes, base64url-encoded")
	}
	if ce := w.child(nsPush, "content-encoding"); ce != nil && strings.TrimSpace(ce.text()) != "aes128gcm" {
		return nil, errInvalidSubscription("only the aes128gcm content encoding is supported")
	}
	if t := n.child(nsPush, "trigger"); t != nil {
		// The draft (section 3.1) asks for relaxed processing: any depth
		// or sync-level is granted at the depth the resource supports.
		reg.hasTrigger = true
		reg.content = t.child(nsPush, "content-update") != nil
		reg.property = t.child(nsPush, "property-update") != nil
	}
	if e := n.child(nsPush, "expires"); e != nil {
		// An unreadable date is taken as none: the server decides anyway.
		if at, err := http.ParseTime(strings.TrimSpace(e.text())); err == nil {
			reg.expires = &at
		}
	}
	return reg, nil
}

// onlyChild returns the one child with a push-namespace name, or nil when
// there is none or more than one.
func onlyChild(n *node, local string) *node {
	kids := n.children(nsPush, local)
	if len(kids) != 1 {
		return nil
	}
	return kids[0]
}

// errInvalidSubscription is the 403 of draft section 3.1.3 for a
// subscription the server cannot use.
func errInvalidSubscription(msg string) *Error {
	return errCond(http.StatusForbidden, condInvalidSubscription, msg)
}

// checkPushResource accepts an absolute https URL on port 443 or 8443 (RFC
// 8030 section 8: push resources are https), or, with allowLoopback, an
// http or https URL on a loopback address. An IP literal of a private,
// loopback or link-local range is refused otherwise, so that the server
// cannot be aimed at its own network.
func checkPushResource(raw string, pol pushPolicy) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := errInvalidSubscription("push-resource must be an absolute https URL on port 443 or 8443")
	if raw == "" || len(raw) > maxPushResource {
		return "", bad
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Fragment != "" || u.Hostname() == "" {
		return "", bad
	}
	host, port := u.Hostname(), u.Port()
	addr, isIP := netip.ParseAddr(host)
	if pol.allowLoopback && isIP == nil && addr.Unmap().IsLoopback() && (u.Scheme == "http" || u.Scheme == "https") {
		return u.String(), nil
	}
	if u.Scheme != "https" || (port != "" && port != "443" && port != "8443") {
		return "", bad
	}
	if isIP == nil {
		a := addr.Unmap()
		if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
			return "", bad
		}
	} else if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return "", bad
	}
	return u.String(), nil
}

// checkP256DH decodes a subscription-public-key (draft section 7.3): type
// p256dh (a missing type is read as p256dh), an uncompressed point on
// P-256, base64url-encoded.
func checkP256DH(key *node) ([]byte, error) {
	bad := errInvalidSubscription("subscription-public-key must be a P-256 public key (type p256dh), base64url-encoded")
	if key == nil {
		return nil, bad
	}
	if t := key.attr("type"); t != "" && t != "p256dh" {
		return nil, bad
	}
	b, err := decodeB64URL(key.text(), p256PublicKeySize)
	if err != nil {
		return nil, bad
	}
	if _, err := ecdh.P256().NewPublicKey(b); err != nil {
		return nil, bad // not a point on the curve
	}
	return b, nil
}

// decodeB64URL decodes base64url with or without padding (RFC 4648
// section 5) and checks the length.
func decodeB64URL(s string, size int) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, errInvalidSubscription("wrong key size")
	}
	return b, nil
}
