package selfservice

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/storage"
)

// export answers GET /account/export with a zip of everything. It
// authenticates with auth directly, so it also works in retention.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, who *auth.Identity) error {
	ctx := r.Context()
	acct, err := h.o.Store.AccountByUsername(ctx, who.Username)
	if err != nil {
		return err
	}
	var history any
	if h.o.History != nil {
		if history, err = h.o.History.History(ctx, who.AccountID); err != nil {
			return err
		}
	}
	now := h.o.Now().UTC()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ExportFilename(acct.Username, now)+`"`)
	w.WriteHeader(http.StatusOK)
	if err := Export(ctx, w, h.o.Store.Space(who.AccountID, who.Keys), acct, history, now); err != nil {
		// The status is sent already: cut the connection, so that the
		// client sees a broken download rather than a short zip.
		h.o.Logger.Error("export failed", "account", who.AccountID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// ExportFilename names an account's export for a download:
// coffer-<username>-<date>.zip, with only safe characters.
func ExportFilename(username string, now time.Time) string {
	return fmt.Sprintf("coffer-%s-%s.zip", safeName(username), now.UTC().Format("2006-01-02"))
}

// Export writes one account as a zip to w: each calendar and task list as
// one VCALENDAR (.ics) holding all its components and the time zones they
// use, with each object's original under files/; each address book as a
// .vcf stream of the stored cards verbatim; plain collections' files
// under files/; and
// collections.json, account.json and notifications.json.
// The history is written as notifications.json; nil writes an empty list.
func Export(ctx context.Context, w io.Writer, space storage.Space, acct *storage.Account, history any, now time.Time) error {
	zw := zip.NewWriter(w)
	man := manifest{Format: formatName, Version: formatVersion}
	names := &fileNames{}
	for _, scope := range []storage.Scope{storage.ScopePrincipal, storage.ScopeCalendars, storage.ScopeAddressBooks} {
		p, err := space.Props(ctx, scope)
		if err != nil {
			return err
		}
		if len(p) > 0 {
			if man.AccountProps == nil {
				man.AccountProps = map[string]propsJSON{}
			}
			man.AccountProps[string(scope)] = encodeProps(p)
		}
	}
	for _, home := range []storage.Home{storage.HomeCalendars, storage.HomeAddressBooks} {
		colls, err := space.Collections(ctx, home)
		if err != nil {
			return err
		}
		for _, c := range colls {
			cm, err := exportCollection(ctx, zw, space, c, names, len(man.Collections), now)
			if err != nil {
				return fmt.Errorf("export %s/%s: %w", c.Home, c.Name, err)
			}
			man.Collections = append(man.Collections, cm)
		}
	}
	if history == nil || isNilList(history) {
		history = []struct{}{}
	}
	rec := accountRecord{Username: acct.Username, Email: acct.Email, DisplayName: acct.DisplayName, Created: acct.Created, Exported: now}
	for _, f := range []struct {
		name string
		v    any
	}{{manifestFile, man}, {accountFile, rec}, {notificationsFile, history}} {
		if err := writeJSONEntry(zw, f.name, f.v, now); err != nil {
			return err
		}
	}
	return zw.Close()
}

// exportCollection writes one collection's objects and returns its manifest.
func exportCollection(ctx context.Context, zw *zip.Writer, space storage.Space, c storage.Collection, names *fileNames, index int, now time.Time) (collectionManifest, error) {
	cm := collectionManifest{Home: string(c.Home), Name: c.Name, Kind: string(c.Kind), Props: encodeProps(c.Props), Objects: []objectManifest{}}
	objs, err := space.Objects(ctx, c.ID)
	if err != nil {
		return cm, err
	}
	var (
		stream   io.Writer
		calendar = c.Kind == storage.KindCalendar
		zones    = map[string][]byte{} // calendars: the first VTIMEZONE of each TZID
		comps    [][]byte              // calendars: every other component, in order
	)
	switch c.Kind {
	case storage.KindCalendar, storage.KindAddressBook:
		ext := ".ics"
		if c.Kind == storage.KindAddressBook {
			ext = ".vcf"
		}
		cm.File = names.name("", c.Name, ext)
		if !calendar {
			if stream, err = zw.CreateHeader(&zip.FileHeader{Name: cm.File, Method: zip.Deflate, Modified: now}); err != nil {
				return cm, err
			}
		}
	}
	var offset int64
	dir := fmt.Sprintf("files/%d/", index)
	for _, listed := range objs {
		o, err := space.Object(ctx, c.ID, listed.Name, storage.ReadOptions{Body: true})
		if err != nil {
			return cm, err
		}
		om := objectManifest{Name: o.Name, ContentType: o.ContentType, Size: int64(len(o.Body))}
		if len(o.Props) > 0 {
			om.Props = encodeProps(o.Props)
		}
		if calendar {
			// One VCALENDAR for readers that want a single calendar, and
			// each object's original beside it for a byte-exact restore.
			// A stored object is well formed: PUT parsed it.
			_, parts, _ := calendarParts(o.Body)
			for _, p := range parts {
				switch {
				case p.name != "VTIMEZONE":
					comps = append(comps, p.body)
				case zones[p.key] == nil:
					zones[p.key] = p.body
				}
			}
		}
		if stream != nil {
			// Cards follow each other verbatim; a line break goes between
			// two only where one does not end with one, and the offsets say
			// exactly where each begins.
			om.Offset = offset
			if _, err := stream.Write(o.Body); err != nil {
				return cm, err
			}
			offset += om.Size
			if len(o.Body) > 0 && o.Body[len(o.Body)-1] != '\n' {
				if _, err := io.WriteString(stream, "\r\n"); err != nil {
					return cm, err
				}
				offset += 2
			}
		} else {
			om.File = names.name(dir, o.Name, "")
			f, err := zw.CreateHeader(&zip.FileHeader{Name: om.File, Method: zip.Deflate, Modified: o.Modified})
			if err != nil {
				return cm, err
			}
			if _, err := f.Write(o.Body); err != nil {
				return cm, err
			}
		}
		cm.Objects = append(cm.Objects, om)
	}
	if calendar {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: cm.File, Method: zip.Deflate, Modified: now})
		if err != nil {
			return cm, err
		}
		if _, err := f.Write(assembleCalendar([]byte(exportCalendarProps), zones, comps, "\r\n")); err != nil {
			return cm, err
		}
	}
	return cm, nil
}

// exportCalendarProps are the properties of an exported calendar (RFC
// 5545 sections 3.7.3 and 3.7.4).
const exportCalendarProps = "VERSION:2.0\r\nPRODID:-//Coffer//Export//EN\r\n"

// writeJSONEntry writes v as an indented JSON file in the zip.
func writeJSONEntry(zw *zip.Writer, name string, v any, now time.Time) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	return err
}

// isNilList reports whether v is a nil slice, which JSON would write as null.
func isNilList(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Slice && rv.IsNil()
}
