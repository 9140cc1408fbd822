package selfservice

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coffer-dav/coffer/storage"
)

// manifest is collections.json: everything needed to restore the
// collections exactly, beside the .ics, .vcf and plain files.
type manifest struct {
	Format       string               `json:"format"`  // formatName
	Version      int                  `json:"version"` // formatVersion
	AccountProps map[string]propsJSON `json:"account_props,omitempty"`
	Collections  []collectionManifest `json:"collections"`
}

// collectionManifest describes one collection and its objects, in order.
type collectionManifest struct {
	Home    string           `json:"home"`
	Name    string           `json:"name"`
	Kind    string           `json:"kind"`
	File    string           `json:"file,omitempty"` // the .ics (one VCALENDAR) or .vcf stream; empty for plain collections
	Props   propsJSON        `json:"props"`
	Objects []objectManifest `json:"objects"`
}

// objectManifest is one object: where its bytes are, and its dead properties.
type objectManifest struct {
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	File        string    `json:"file,omitempty"` // plain collections and calendars: the object's own file
	Offset      int64     `json:"offset"`         // address books (and calendars of version 1): where it starts in the stream
	Size        int64     `json:"size"`
	Props       propsJSON `json:"props,omitzero"`
}

// propsJSON holds properties as stored: text where it is UTF-8, base64 otherwise.
type propsJSON struct {
	Text   map[string]string `json:"text,omitempty"`
	Base64 map[string][]byte `json:"base64,omitempty"`
}

// accountRecord is account.json.
type accountRecord struct {
	Username    string    `json:"username"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Created     time.Time `json:"created"`
	Exported    time.Time `json:"exported"`
}

// The export format's name and version, and its fixed file names.
const (
	formatName        = "coffer-export"
	formatVersion     = 2 // 2: calendars' objects are files of their own
	manifestFile      = "collections.json"
	accountFile       = "account.json"
	notificationsFile = "notifications.json"
)

// encodeProps turns stored properties into their JSON form.
func encodeProps(p storage.Props) propsJSON {
	var out propsJSON
	for k, v := range p {
		if utf8.Valid(v) {
			if out.Text == nil {
				out.Text = map[string]string{}
			}
			out.Text[k] = string(v)
		} else {
			if out.Base64 == nil {
				out.Base64 = map[string][]byte{}
			}
			out.Base64[k] = v
		}
	}
	return out
}

// decode turns the JSON form back into stored properties.
func (p propsJSON) decode() storage.Props {
	out := storage.Props{}
	for k, v := range p.Text {
		out[k] = []byte(v)
	}
	for k, v := range p.Base64 {
		out[k] = v
	}
	return out
}

// fileNames hands out unique, portable file names inside the zip.
type fileNames struct {
	used map[string]bool // lower-cased, for case-insensitive file systems
}

// name returns a unique file name for base with ext, under dir.
func (f *fileNames) name(dir, base, ext string) string {
	if f.used == nil {
		f.used = map[string]bool{}
	}
	stem := safeName(base)
	for i := 1; ; i++ {
		n := stem
		if i > 1 {
			n = fmt.Sprintf("%s-%d", stem, i)
		}
		full := dir + n + ext
		if !f.used[strings.ToLower(full)] {
			f.used[strings.ToLower(full)] = true
			return full
		}
	}
}

// safeName keeps letters, digits and a few marks, and replaces the rest,
// so that every unzip tool on every system can write the file.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case b.Len() >= 100:
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '@', r == '+', r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "unnamed"
	}
	return b.String()
}
