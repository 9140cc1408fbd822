package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
	"github.com/coffer-dav/coffer/storage/postgres"
)

// storageUsage is the help of "coffer storage".
const storageUsage = `Usage:
  coffer storage migrate --from DIR --to postgres://USER@HOST/DB [--check-user USERNAME]

migrate copies a SQLite data folder into an empty PostgreSQL database (coffer storage migrate --help).`

// migrateAbout is the help text of "coffer storage migrate" besides its flags.
var migrateAbout = `Copy the SQLite database of the data folder --from, key slots and all, into
the empty PostgreSQL database --to, and verify the copy.

All or nothing: the copy is ONE PostgreSQL transaction, which commits the whole
copy or leaves the target empty; after a failure, run it again. It refuses a
target that holds any data, and a folder whose server runs (stop it first).

It copies every account, key slot, app password, session, lifecycle record,
event, payment, voucher and setting, and every collection, object, body,
property and change log entry as stored: sealed values byte for byte, with
their ids and revisions, so that clients' sync tokens and ETags stay valid.
Not copied: ` + storage.NotExported + `.

Before the commit it counts and sums every table on both sides. With
--check-user it also reads that user's password (or recovery code) from
standard input and opens every collection, object, property and index entry
of the user in the copy; a record that does not open undoes the copy.

Afterwards serve the copy with the same folder, which holds the server secret:
  coffer serve --data DIR --database postgres://USER@HOST/DB
and give every further instance a copy of DIR/server.key.`

// storageCmd runs "coffer storage SUBCOMMAND".
func storageCmd(args []string) error {
	if len(args) == 0 || wantsHelp(args) {
		return showHelp(storageUsage)
	}
	switch args[0] {
	case "migrate":
		return storageMigrate(args[1:])
	}
	return fmt.Errorf("unknown storage command %q\nrun \"coffer storage help\" for the commands", args[0])
}

// migrateOptions are the flags of "coffer storage migrate".
type migrateOptions struct {
	from, to, checkUser string
	kdf                 encryption.KDFParams
}

// storageMigrate runs "coffer storage migrate".
func storageMigrate(args []string) error {
	var c config
	fs := flag.NewFlagSet("storage migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	var o migrateOptions
	fs.StringVar(&o.from, "from", "", "the SQLite data folder `DIR` to copy: its coffer.db, checked against its server.key")
	fs.StringVar(&o.to, "to", "", "the empty PostgreSQL database to copy into: a `DSN`, postgres://USER@HOST/DB or host=… dbname=…")
	fs.StringVar(&o.checkUser, "check-user", "", "before the commit, open every record of the user `USERNAME` in the copy, with the password (or recovery code) read from standard input")
	pos, err := parse(fs, &c, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("storage migrate: unexpected argument %q; it takes --from DIR and --to DSN", pos[0])
	}
	o.kdf = c.kdf
	return migrateStorage(context.Background(), o, os.Stdin, os.Stdout)
}

// migrateStorage does the work of storageMigrate, reading the
// --check-user credential from in and reporting to out.
func migrateStorage(ctx context.Context, o migrateOptions, in io.Reader, out io.Writer) error {
	switch {
	case o.from == "":
		return errors.New("storage migrate: --from DIR names the SQLite data folder to copy")
	case o.to == "":
		return errors.New("storage migrate: --to names the PostgreSQL database to copy into (postgres://USER@HOST/DB)")
	}
	if err := checkDatabase(o.to); err != nil {
		return fmt.Errorf("storage migrate: --to: %w", err)
	}
	var credential string
	if o.checkUser != "" {
		lines, err := readLines(in, 1)
		if err != nil {
			return fmt.Errorf("%w: --check-user reads the user's password (or recovery code) on the first line", err)
		}
		credential = lines[0]
	}
	if err := requireDatabase(o.from); err != nil {
		return err
	}
	// The folder's lock: a server running on it would go on writing what
	// the copy no longer sees, and a server started meanwhile too.
	lock, err := lockFolder(o.from)
	if err != nil {
		return fmt.Errorf("storage migrate: %w", err)
	}
	defer lock.release()
	secret, err := loadSecret(o.from)
	if err != nil {
		return err
	}
	src, err := storage.Open(ctx, filepath.Join(o.from, dbFile), storage.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	if err := checkSecret(ctx, src, secret, o.from); err != nil {
		return err
	}
	dst, err := postgres.Open(ctx, o.to, postgres.Options{})
	if err != nil {
		// The connection string may hold a password: it is not repeated.
		return fmt.Errorf("storage migrate: open the PostgreSQL database: %w", err)
	}
	defer dst.Close()
	export, err := src.Export(ctx)
	if err != nil {
		return err
	}
	defer export.Close()

	start := time.Now()
	var checked storage.SpaceCheck
	var checkTime time.Duration
	opts := postgres.ImportOptions{
		Progress: func(t postgres.TableCopy) { fmt.Fprintf(out, "  %-18s %s rows\n", t.Table, count(int(t.Rows))) },
	}
	if o.checkUser != "" {
		opts.Check = func(ctx context.Context, c *postgres.Copy) error {
			begin := time.Now()
			svc, err := auth.New(copyCredentials{c}, auth.Options{KDF: o.kdf, ServerSecret: secret})
			if err != nil {
				return err
			}
			id, err := svc.Unlock(ctx, o.checkUser, credential)
			if errors.Is(err, auth.ErrBadCredentials) || errors.Is(err, auth.ErrUnknownUser) {
				return fmt.Errorf("--check-user: no user %q in the copy, or a wrong password or recovery code", o.checkUser)
			}
			if err != nil {
				return fmt.Errorf("--check-user %s: %w", o.checkUser, err)
			}
			checked, err = storage.CheckSpace(ctx, c.Space(id.AccountID, id.Keys))
			if err != nil {
				return fmt.Errorf("--check-user %s: %w", o.checkUser, err)
			}
			checkTime = time.Since(begin)
			return nil
		}
	}
	fmt.Fprintf(out, "copying %s into PostgreSQL, in one transaction:\n", absPath(filepath.Join(o.from, dbFile)))
	res, err := dst.ImportFrom(ctx, export, opts)
	if err != nil {
		return fmt.Errorf("storage migrate: %w\nnothing was copied: the target database is as empty as before", err)
	}
	fmt.Fprintf(out, "copied %s rows of %d tables in %s; every table's rows counted and summed on both sides match\n",
		count(int(res.Rows())), len(res.Tables), time.Since(start).Round(time.Millisecond))
	if o.checkUser == "" {
		fmt.Fprintln(out, "no --check-user: no user's records were opened in the copy")
	}
	if o.checkUser != "" {
		fmt.Fprintf(out, "checked %s in the copy: %s collections, %s objects (%s bytes of bodies), %s change log entries open under the user's key (%s)\n",
			o.checkUser, count(checked.Collections), count(checked.Objects), count(int(checked.Bytes)), count(checked.Changes), checkTime.Round(time.Millisecond))
	}
	fmt.Fprintf(out, "serve it with: coffer serve --data %s --database <the --to connection string>\n", o.from)
	fmt.Fprintln(out, "every further instance needs a copy of server.key; the SQLite folder is left as it was")
	return nil
}

// copyCredentials is what auth needs, read from an import's copy before
// it commits; it writes nothing.
type copyCredentials struct{ c *postgres.Copy }

// Credentials returns the account's key slots in the copy.
func (s copyCredentials) Credentials(ctx context.Context, username string) (*auth.Credentials, error) {
	a, err := s.c.AccountByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, auth.ErrUnknownUser
	}
	if err != nil {
		return nil, err
	}
	cr := &auth.Credentials{AccountID: a.ID, Username: a.Username, Email: a.Email, DisplayName: a.DisplayName}
	if cr.PasswordSlot, err = s.c.Slot(ctx, a.ID, "password"); err != nil {
		return nil, err
	}
	if cr.RecoverySlot, err = s.c.Slot(ctx, a.ID, "recovery"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if cr.EscrowSlot, err = s.c.Slot(ctx, a.ID, "escrow"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return cr, nil
}

// SetPassword writes nothing: a login rewraps a password slot made with
// other Argon2 settings than its own, and the check leaves that to the
// user's next login on the server; the copy keeps the slot as it was.
func (copyCredentials) SetPassword(context.Context, int64, encryption.Slot) error { return nil }
