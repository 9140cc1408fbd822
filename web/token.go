package web

import (
	"encoding/base64"
	"strconv"
	"time"
)

// encodeToken writes random bytes as a cookie- and form-safe token.
func encodeToken(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// retryAfter writes a Retry-After value in whole seconds, at least one.
func retryAfter(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}
