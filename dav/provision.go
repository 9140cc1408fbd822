package dav

import (
	"context"
	"errors"
	"fmt"

	"github.com/coffer-dav/coffer/storage"
)

// defaultCollection is one collection every account starts with.
type defaultCollection struct {
	home        storage.Home
	name        string
	kind        storage.Kind
	displayname string
	components  []string // calendars only
}

// defaults are created by Provision: Apple Contacts cannot create address
// books (Q6) and Thunderbird creates nothing, so each account needs a
// calendar, a task list and an address book from the start.
var defaults = []defaultCollection{
	{storage.HomeCalendars, "calendar", storage.KindCalendar, "Calendar", []string{"VEVENT"}},
	{storage.HomeCalendars, "tasks", storage.KindCalendar, "Tasks", []string{"VTODO"}},
	{storage.HomeAddressBooks, "contacts", storage.KindAddressBook, "Contacts", nil},
}

// Provision creates an account's default collections; those that exist
// already are left alone.
func Provision(ctx context.Context, s storage.Space) error {
	for _, d := range defaults {
		_, err := s.Collection(ctx, d.home, d.name)
		if err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("dav: provision %s/%s: %w", d.home, d.name, err)
		}
		props := storage.Props{
			clark(pnDisplayname): []byte(`<displayname xmlns="DAV:">` + escapeString(d.displayname) + `</displayname>`),
		}
		if d.components != nil {
			props[clark(pnSupportedCompSet)] = []byte(componentSetElem(d.components))
		}
		_, err = s.CreateCollection(ctx, storage.NewCollection{Home: d.home, Name: d.name, Kind: d.kind, Props: props})
		if err != nil && !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("dav: provision %s/%s: %w", d.home, d.name, err)
		}
	}
	return nil
}
