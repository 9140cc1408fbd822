package selfservice

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// Target is the unlocked account an import writes into.
type Target struct {
	AccountID int64
	Username  string
	Space     storage.Space
	// Limits are the caps every write must meet, the operator's, as a
	// client's PUT, MKCOL and PROPPATCH meet them (quota, sizes, counts):
	// objects go through dav.StoreObject, collections and properties
	// carry them to the storage engine. Its Auth and Logger are not used.
	Limits dav.Options
	// Progress, when set, is called as the import goes with the number
	// of objects handled so far and the number in the file.
	Progress func(done, total int)
}

// ImportResult tells what an import did.
type ImportResult struct {
	Collections int            // collections created or restored
	Objects     int            // objects written
	Total       int            // objects in the file
	Written     map[string]int // objects written, by collection name
	Skipped     []string       // objects that were there already, each named
	Refused     []string       // objects the server refused, each with the reason
}

// writer stores the objects of one import into the target's account.
type writer struct {
	t      Target
	limits dav.WriteLimits
}

// Import limits.
const (
	maxImportFile   = 1 << 30  // one .ics or .vcf stream, or one zip entry
	maxManifestSize = 64 << 20 // collections.json
)

// compSetProp is the property that lists the components a calendar accepts.
const compSetProp = "{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set"

// ErrNotFresh reports an export restored over collections that hold objects.
var ErrNotFresh = errors.New("an export restores only into collections that are still empty; use a fresh account")

// Import restores data into an account, by what the data is: an export
// zip restores every collection with its properties and objects byte for
// byte; a single iCalendar or vCard stream goes into the default calendar
// (or task list, by component) or address book, one object per VCALENDAR
// or VCARD, each verbatim, except that a VCALENDAR holding several UIDs
// becomes an object per UID.
func Import(ctx context.Context, t Target, r io.ReaderAt, size int64) (*ImportResult, error) {
	head := make([]byte, 64)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = bytes.ToUpper(bytes.TrimLeft(bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf")), " \t\r\n"))
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return nil, fmt.Errorf("read the zip: %w", err)
		}
		return importArchive(ctx, t, zr)
	case bytes.HasPrefix(head, []byte("BEGIN:VCALENDAR")), bytes.HasPrefix(head, []byte("BEGIN:VCARD")):
		if size > maxImportFile {
			return nil, fmt.Errorf("the file has %d bytes; at most %d can be imported at once", size, maxImportFile)
		}
		data := make([]byte, size)
		if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return importStream(ctx, t, data)
	}
	return nil, errors.New("the file is neither an export zip nor an iCalendar (.ics) or vCard (.vcf) file")
}

// importStream imports a single .ics or .vcf stream into the default collections.
func importStream(ctx context.Context, t Target, data []byte) (*ImportResult, error) {
	kind, home, ext := "VCALENDAR", storage.HomeCalendars, ".ics"
	if bytes.HasPrefix(bytes.ToUpper(bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")), []byte("BEGIN:VCARD")) {
		kind, home, ext = "VCARD", storage.HomeAddressBooks, ".vcf"
	}
	chunks, err := splitObjects(data, kind)
	if err != nil {
		return nil, err
	}
	if kind == "VCALENDAR" {
		// Exports of whole calendars hold one VCALENDAR with every event.
		var objs []chunk
		for _, c := range chunks {
			objs = append(objs, splitCalendar(c)...)
		}
		chunks = objs
	}
	colls, err := t.Space.Collections(ctx, home)
	if err != nil {
		return nil, err
	}
	w := newWriter(t)
	res := &ImportResult{Total: len(chunks), Written: map[string]int{}}
	for i, c := range chunks {
		if t.Progress != nil {
			t.Progress(i, len(chunks))
		}
		what := fmt.Sprintf("object %d (line %d)", i+1, c.line)
		var target *storage.Collection
		if kind == "VCARD" {
			target = firstOfKind(colls, storage.KindAddressBook, "")
		} else {
			target = firstOfKind(colls, storage.KindCalendar, mainComponent(c.body))
		}
		if target == nil {
			res.Refused = append(res.Refused, what+": no "+map[string]string{"VCARD": "address book", "VCALENDAR": "calendar that accepts " + mainComponent(c.body)}[kind])
			continue
		}
		name, err := objectName(c.body, ext)
		if err != nil {
			return res, err
		}
		err = w.store(ctx, target, name, "", c.body)
		var de *dav.Error
		switch {
		case err == nil:
			res.Objects++
			res.Written[target.Name]++
		case errors.As(err, &de) && de.Status == http.StatusPreconditionFailed:
			res.Skipped = append(res.Skipped, what+": "+name+" exists already")
		case errors.As(err, &de) && de.Status != http.StatusInternalServerError:
			res.Refused = append(res.Refused, fmt.Sprintf("%s: refused (%d): %s", what, de.Status, de.Message))
		default:
			return res, err
		}
	}
	return res, nil
}

// importArchive restores an export zip.
func importArchive(ctx context.Context, t Target, zr *zip.Reader) (*ImportResult, error) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	raw, err := readEntry(files, manifestFile, maxManifestSize)
	if err != nil {
		return nil, err
	}
	var man manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestFile, err)
	}
	if man.Format != formatName || man.Version < 1 || man.Version > formatVersion {
		return nil, fmt.Errorf("%s: format %q version %d is not one this server reads (%s 1 to %d)", manifestFile, man.Format, man.Version, formatName, formatVersion)
	}
	if err := checkManifest(&man); err != nil {
		return nil, err
	}
	// Parents before the collections nested in them.
	order := slices.Clone(man.Collections)
	slices.SortStableFunc(order, func(a, b collectionManifest) int {
		return strings.Count(a.Name, "/") - strings.Count(b.Name, "/")
	})
	res := &ImportResult{Written: map[string]int{}}
	for _, cm := range order {
		res.Total += len(cm.Objects)
	}
	w := newWriter(t)
	for _, cm := range order {
		if err := restoreCollection(ctx, t, w, files, cm, res); err != nil {
			return res, fmt.Errorf("%s/%s: %w", cm.Home, cm.Name, err)
		}
	}
	for scope, p := range man.AccountProps {
		if err := t.Space.PatchProps(ctx, storage.Scope(scope), storage.PatchOptions{Set: p.decode(), Limits: w.limits.Storage()}); err != nil {
			return res, fmt.Errorf("account properties %s: %w", scope, limitErr(err))
		}
	}
	return res, nil
}

// checkManifest refuses a manifest whose names could not have come from an export.
func checkManifest(man *manifest) error {
	for _, c := range man.Collections {
		home, kind := storage.Home(c.Home), storage.Kind(c.Kind)
		if home != storage.HomeCalendars && home != storage.HomeAddressBooks {
			return fmt.Errorf("%s: unknown home %q", manifestFile, c.Home)
		}
		if kind != storage.KindCalendar && kind != storage.KindAddressBook && kind != storage.KindPlain {
			return fmt.Errorf("%s: unknown kind %q", manifestFile, c.Kind)
		}
		for _, seg := range strings.Split(c.Name, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return fmt.Errorf("%s: collection name %q is malformed", manifestFile, c.Name)
			}
		}
		if (kind == storage.KindPlain) != (c.File == "") {
			return fmt.Errorf("%s: collection %q: a stream file goes with calendars and address books only", manifestFile, c.Name)
		}
		for _, o := range c.Objects {
			if o.Name == "" || o.Name == "." || o.Name == ".." || strings.Contains(o.Name, "/") || o.Size < 0 || o.Offset < 0 {
				return fmt.Errorf("%s: object %q in %q is malformed", manifestFile, o.Name, c.Name)
			}
		}
	}
	return nil
}

// restoreCollection creates (or fills, when it is a fresh default) one
// collection with its properties, then writes its objects in order.
func restoreCollection(ctx context.Context, t Target, w *writer, files map[string]*zip.File, cm collectionManifest, res *ImportResult) error {
	home, kind, props := storage.Home(cm.Home), storage.Kind(cm.Kind), cm.Props.decode()
	coll, err := t.Space.Collection(ctx, home, cm.Name)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if coll, err = t.Space.CreateCollection(ctx, storage.NewCollection{Home: home, Name: cm.Name, Kind: kind, Props: props, Limits: w.limits.Storage()}); err != nil {
			return limitErr(err)
		}
	case err != nil:
		return err
	default:
		// A collection the new account started with, such as its default calendar.
		if coll.Kind != kind {
			return fmt.Errorf("it exists already as a %s collection", coll.Kind)
		}
		objs, err := t.Space.Objects(ctx, coll.ID)
		if err != nil {
			return err
		}
		if len(objs) > 0 {
			return ErrNotFresh
		}
		var remove []string
		for k := range coll.Props {
			if _, ok := props[k]; !ok {
				remove = append(remove, k)
			}
		}
		if err := t.Space.PatchCollection(ctx, coll.ID, storage.PatchOptions{Set: props, Remove: remove, Limits: w.limits.Storage()}); err != nil {
			return limitErr(err)
		}
	}
	res.Collections++
	var stream []byte
	if cm.File != "" && slices.ContainsFunc(cm.Objects, func(o objectManifest) bool { return o.File == "" }) {
		if stream, err = readEntry(files, cm.File, maxImportFile); err != nil {
			return err
		}
	}
	for _, om := range cm.Objects {
		var body []byte
		if om.File == "" {
			if stream == nil {
				return fmt.Errorf("object %q has no file", om.Name)
			}
			if om.Offset > int64(len(stream)) || om.Size > int64(len(stream))-om.Offset {
				return fmt.Errorf("object %q lies beyond the end of %s", om.Name, cm.File)
			}
			body = stream[om.Offset : om.Offset+om.Size]
		} else {
			if body, err = readEntry(files, om.File, maxImportFile); err != nil {
				return err
			}
			if int64(len(body)) != om.Size {
				return fmt.Errorf("%s has %d bytes, collections.json says %d", om.File, len(body), om.Size)
			}
		}
		if err := w.store(ctx, coll, om.Name, om.ContentType, body); err != nil {
			return fmt.Errorf("object %q: %w", om.Name, err)
		}
		if p := om.Props.decode(); len(p) > 0 {
			if err := t.Space.PatchObject(ctx, coll.ID, om.Name, storage.PatchOptions{Set: p, Limits: w.limits.Storage()}); err != nil {
				return fmt.Errorf("object %q: %w", om.Name, limitErr(err))
			}
		}
		res.Objects++
		res.Written[cm.Name]++
		if t.Progress != nil {
			t.Progress(res.Objects, res.Total)
		}
	}
	return nil
}

// newWriter returns a writer into the target's account, under its limits.
func newWriter(t Target) *writer {
	return &writer{t: t, limits: t.Limits.WriteLimits()}
}

// store validates and stores one new object in coll through the admission
// path of a client's PUT; a refusal is a *dav.Error.
func (w *writer) store(ctx context.Context, coll *storage.Collection, name, contentType string, body []byte) error {
	_, err := dav.StoreObject(ctx, w.t.Space, coll, dav.StoreOptions{User: w.t.Username, Name: name, ContentType: contentType, Body: body, IfNoneMatch: true, Limits: w.limits})
	return err
}

// limitErr turns a write the storage engine refused for a limit into the
// DAV answer a client would get; any other error stays as it is.
func limitErr(err error) error {
	if errors.Is(err, storage.ErrLimit) {
		return dav.StorageError(err)
	}
	return err
}

// readEntry reads one file of the zip, refusing more than limit bytes.
func readEntry(files map[string]*zip.File, name string, limit int64) ([]byte, error) {
	f := files[name]
	if f == nil || name == "" {
		return nil, fmt.Errorf("the zip has no file %q", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// firstOfKind returns the first collection (by creation) of kind that
// accepts component, or nil.
func firstOfKind(colls []storage.Collection, kind storage.Kind, component string) *storage.Collection {
	for i, c := range colls {
		if c.Kind != kind {
			continue
		}
		set, ok := c.Props[compSetProp]
		if component == "" || !ok || bytes.Contains(bytes.ToUpper(set), []byte(`"`+component+`"`)) {
			return &colls[i]
		}
	}
	return nil
}

// objectName names an imported object after its UID where the UID is a
// plain name, as clients do, and randomly otherwise.
func objectName(body []byte, ext string) (string, error) {
	uid := objectUID(body)
	if len(uid) > len("urn:uuid:") && strings.EqualFold(uid[:len("urn:uuid:")], "urn:uuid:") {
		uid = uid[len("urn:uuid:"):]
	}
	if safeUID.MatchString(uid) {
		return uid + ext, nil
	}
	b, err := encryption.RandomBytes(16)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b) + ext, nil
}
