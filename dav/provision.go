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
	color       string   // calendars only
	order       string   // calendars only
}

// defaults are created by Provision: Apple Contacts cannot create address
// books (Q6) and Thunderbird creates nothing, so each account needs a
// calendar, a task list and an address book from the start.
var defaults = []defaultCollection{
	{storage.HomeCalendars, "calendar", storage.KindCalendar, "Calendar", []string{"VEVENT"}, "#2E7D32FF", "1"},
	{storage.HomeCalendars, "tasks", storage.KindCalendar, "Tasks", []string{"VTODO"}, "#1565C0FF", "2"},
	{storage.HomeAddressBooks, "contacts", storage.KindAddressBook, "Contacts", nil, "", ""},
}

// utcTimezone is the calendar-timezone of the default calendars (RFC 4791
// 5.2.2): floating and all-day values are read in UTC until a client sets
// its own zone, which DAVx5 and Apple do.
const utcTimezone = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Coffer//Coffer//EN\r\nBEGIN:VTIMEZONE\r\nTZID:UTC\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nTZNAME:UTC\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"

// element returns a stored property value: the whole element with its namespace.
func element(ns, local, text string) []byte {
	return []byte("<" + local + ` xmlns="` + ns + `">` + escapeString(text) + "</" + local + ">")
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
		// iOS and Evolution read these from every collection (clients.md 1.2).
		props := storage.Props{clark(pnDisplayname): element(nsDAV, "displayname", d.displayname)}
		if d.kind == storage.KindCalendar {
			props[clark(pnSupportedCompSet)] = []byte(componentSetElem(d.components))
			props["{"+nsApple+"}calendar-color"] = element(nsApple, "calendar-color", d.color)
			props["{"+nsApple+"}calendar-order"] = element(nsApple, "calendar-order", d.order)
			props["{"+nsCalDAV+"}calendar-description"] = element(nsCalDAV, "calendar-description", "")
			props["{"+nsCalDAV+"}calendar-timezone"] = element(nsCalDAV, "calendar-timezone", utcTimezone)
			props["{"+nsCalDAV+"}calendar-timezone-id"] = element(nsCalDAV, "calendar-timezone-id", "UTC")
		} else {
			props["{"+nsCardDAV+"}addressbook-description"] = element(nsCardDAV, "addressbook-description", "")
		}
		_, err = s.CreateCollection(ctx, storage.NewCollection{Home: d.home, Name: d.name, Kind: d.kind, Props: props})
		if err != nil && !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("dav: provision %s/%s: %w", d.home, d.name, err)
		}
	}
	return nil
}
