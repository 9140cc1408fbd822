package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/selfservice"
)

// importCmd runs "coffer import USER FILE": it unlocks the user's key with
// the password (or recovery code) from standard input and restores an
// export zip, or imports a single .ics or .vcf file, into the account.
func importCmd(args []string) error {
	var c config
	fs := newFlags("import", &c)
	limits := addLimitFlags(fs)
	fs.Bool("password-stdin", true, "read the user's password (or recovery code) from standard input (always on)")
	pos, err := parse(fs, &c, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New("import: want USER and FILE (.ics, .vcf or an export .zip)")
	}
	if err := limits.check(); err != nil {
		return err
	}
	return importFile(context.Background(), &c, limits, pos[0], pos[1], os.Stdin, os.Stdout)
}

// importFile does the work of importCmd, reading the password from in.
// Every object meets the same limits as a client's PUT to serve with the
// same flags or COFFER_* variables.
func importFile(ctx context.Context, c *config, l *limitFlags, username, file string, in io.Reader, out io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	lines, err := readLines(in, 1)
	if err != nil {
		return fmt.Errorf("%w: import reads the user's password (or recovery code) on the first line", err)
	}
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	id, err := a.auth.Unlock(ctx, username, lines[0])
	if err != nil {
		return fmt.Errorf("unlock %s: %w", username, err)
	}
	t := selfservice.Target{AccountID: id.AccountID, Username: id.Username, Space: a.db.Space(id.AccountID, id.Keys)}
	l.apply(&t.Limits)
	var last time.Time
	t.Progress = func(done, total int) {
		if now := time.Now(); now.Sub(last) >= progressEvery {
			if !last.IsZero() {
				fmt.Fprintf(out, "  %s of %s objects\n", count(done), count(total))
			}
			last = now
		}
	}
	changes := a.gatherChanges()
	res, err := selfservice.Import(ctx, t, f, st.Size())
	if res == nil {
		return err
	}
	if n, perr := a.queuePushes(ctx, t.Space, changes()); perr != nil {
		fmt.Fprintf(out, "  the devices' push messages were not queued (they see the changes at their next sync): %v\n", perr)
	} else if n > 0 {
		fmt.Fprintf(out, "  %d push messages queued for the running server to send\n", n)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(out, "  skipped %s\n", s)
	}
	for _, s := range res.Refused {
		fmt.Fprintf(out, "  refused %s\n", s)
	}
	summary := importSummary(username, res)
	switch {
	case err != nil:
		fmt.Fprintln(out, summary)
		return err
	case len(res.Refused) > 0:
		// The summary is the error, so that it comes last and the exit status says so.
		return errors.New(summary)
	}
	fmt.Fprintln(out, summary)
	return nil
}

// progressEvery is how often a long import says how far it is (a
// variable for the tests).
var progressEvery = 3 * time.Second

// importSummary tells in one line what an import did, with the objects
// written into each collection.
func importSummary(username string, res *selfservice.ImportResult) string {
	names := slices.Sorted(maps.Keys(res.Written))
	per := make([]string, len(names))
	for i, n := range names {
		per[i] = n + ": " + count(res.Written[n])
	}
	s := fmt.Sprintf("imported %s of %s objects for %s", count(res.Objects), count(res.Total), username)
	if len(per) > 0 {
		s += " (" + strings.Join(per, ", ") + ")"
	}
	if n := len(res.Skipped); n > 0 {
		s += fmt.Sprintf("; %s there already", count(n))
	}
	if n := len(res.Refused); n > 0 {
		s += fmt.Sprintf("; %s refused: %s", count(n), res.Refused[0])
		if n > 1 {
			s += " (and the others listed above)"
		}
	}
	return s
}

// count writes n with commas between thousands: 2,000.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
