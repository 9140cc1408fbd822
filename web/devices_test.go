package web

import (
	"testing"

	"github.com/coffer-dav/coffer/auth"
)

// TestProfileFilename: the service name becomes a file name that a quoted
// Content-Disposition parameter carries without escaping.
func TestProfileFilename(t *testing.T) {
	for _, tt := range []struct{ service, want string }{
		{"Coffer", "Coffer"},
		{"My DAV 2", "My DAV 2"},
		{`Tom & Jerry's "DAV"`, "Tom - Jerry-s -DAV"},
		{"Grüße", "Gr--e"}, // one hyphen per character
		{"a/b\\c\r\nd", "a-b-c--d"},
		{"...", "profile"},
		{"", "profile"},
	} {
		if got := profileFilename(tt.service); got != tt.want {
			t.Errorf("profileFilename(%q) = %q, want %q", tt.service, got, tt.want)
		}
	}
}

// TestAppSecretShaped: only what could be an app password (32 base32
// letters, in any case, with hyphens or spaces) goes on to the login check.
func TestAppSecretShaped(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"VIQNR-75CHG-OHDFX-PZZM3-XJZUB-4BCF6-T3", true},
		{"viqnr 75chg ohdfx pzzm3 xjzub 4bcf6 t3", true},
		{"VIQNR75CHGOHDFXPZZM3XJZUB4BCF6T3", true},
		{"VIQNR-75CHG-OHDFX-PZZM3-XJZUB-4BCF6-T", false},   // 31 letters
		{"VIQNR-75CHG-OHDFX-PZZM3-XJZUB-4BCF6-T31", false}, // 33, and a 1
		{"VIQNR-75CHG-OHDFX-PZZM3-XJZUB-4BCF6-T0", false},  // 0 is not base32
		{"correct horse battery", false},
		{"", false},
	} {
		if got := appSecretShaped(tt.s); got != tt.want {
			t.Errorf("appSecretShaped(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestAppPasswordMark: the mark changes when an app password is added or
// removed, not with the order, labels or dates of the list.
func TestAppPasswordMark(t *testing.T) {
	a := auth.AppPasswordInfo{ID: "aaaa", Label: "Phone"}
	b := auth.AppPasswordInfo{ID: "bbbb", Label: "Laptop"}
	c := auth.AppPasswordInfo{ID: "cccc", Label: "Tablet"}
	base := appPasswordMark([]auth.AppPasswordInfo{a, b})
	for _, tt := range []struct {
		name string
		list []auth.AppPasswordInfo
		same bool
	}{
		{"same list", []auth.AppPasswordInfo{a, b}, true},
		{"other order", []auth.AppPasswordInfo{b, a}, true},
		{"other label", []auth.AppPasswordInfo{{ID: "aaaa", Label: "x"}, b}, true},
		{"one added", []auth.AppPasswordInfo{a, b, c}, false},
		{"one removed", []auth.AppPasswordInfo{a}, false},
		{"one replaced", []auth.AppPasswordInfo{a, c}, false},
		{"none", nil, false},
	} {
		if got := appPasswordMark(tt.list) == base; got != tt.same {
			t.Errorf("%s: same mark %v, want %v", tt.name, got, tt.same)
		}
	}
}
