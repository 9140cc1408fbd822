package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

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
	t := selfservice.Target{AccountID: id.AccountID, Username: id.Username, Space: a.db.Space(id.AccountID, id.Keys),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	l.apply(&t.Limits)
	res, err := selfservice.Import(ctx, t, f, st.Size())
	if res != nil {
		fmt.Fprintf(out, "imported %d objects into %d collections of %s\n", res.Objects, res.Collections, username)
		for _, s := range res.Skipped {
			fmt.Fprintf(out, "  skipped %s\n", s)
		}
	}
	return err
}
