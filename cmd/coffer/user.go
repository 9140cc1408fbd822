package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/coffer-dav/coffer/account"
	"github.com/coffer-dav/coffer/auth"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/storage"
)

// user runs the "coffer user" subcommands.
func user(args []string) error {
	if len(args) == 0 {
		return errors.New("user: want add, passwd, recover, list or delete\nrun \"coffer user help\" for more")
	}
	if wantsHelp(args) {
		return showHelp(userUsage)
	}
	ctx := context.Background()
	var c config
	fs := newFlags("user "+args[0], &c)
	switch args[0] {
	case "add":
		email := fs.String("email", "", "e-mail address")
		name := fs.String("display-name", "", "display name")
		stdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
		lf := addLifecycleFlags(fs)
		pos, err := parse(fs, &c, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errors.New("user add: want exactly one USERNAME")
		}
		return userAdd(ctx, &c, lf, newUser{username: pos[0], email: *email, displayName: *name}, *stdin)
	case "passwd":
		fs.Bool("password-stdin", true, "read the current and the new password from standard input (always on)")
		pos, err := parse(fs, &c, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errors.New("user passwd: want exactly one USERNAME")
		}
		return userPasswd(ctx, &c, pos[0], os.Stdin)
	case "recover":
		escrowKey := fs.String("escrow-key", "", "the offline escrow private key file, in place of the recovery code")
		pos, err := parse(fs, &c, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errors.New("user recover: want exactly one USERNAME")
		}
		return userRecover(ctx, &c, pos[0], *escrowKey, os.Stdin, os.Stdout)
	case "list":
		if _, err := parse(fs, &c, args[1:]); err != nil {
			return err
		}
		return userList(ctx, &c)
	case "delete":
		yes := fs.Bool("yes", false, "delete without asking, also on a terminal")
		pos, err := parse(fs, &c, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errors.New("user delete: want exactly one USERNAME")
		}
		if !*yes && isTerminal(os.Stdin) {
			if err := confirmDelete(os.Stdin, os.Stdout, pos[0]); err != nil {
				return err
			}
		}
		return userDelete(ctx, &c, pos[0])
	}
	return fmt.Errorf("user: unknown subcommand %q\nrun \"coffer user help\" for the subcommands", args[0])
}

// userUsage lists the user subcommands.
const userUsage = `coffer user: accounts without the lifecycle (see coffer account for it)

  coffer user add USERNAME [--email E] [--display-name N] [--password-stdin]
  coffer user passwd USERNAME --password-stdin
  coffer user recover USERNAME [--escrow-key FILE]
  coffer user list
  coffer user delete USERNAME [--yes]

Each also takes --data DIR and may run beside a running serve; "coffer user
SUBCOMMAND --help" lists its flags.`

// isTerminal reports whether f is a terminal, where a person can answer.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// confirmDelete asks for the username again before an account is deleted.
func confirmDelete(in io.Reader, out io.Writer, username string) error {
	fmt.Fprintf(out, "Delete %s and all of its data, for good? Type the username to confirm: ", username)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.TrimSpace(line) != username {
		return errors.New("user delete: not confirmed; nothing was deleted")
	}
	return nil
}

// userAdd creates a confirmed account: permanent when the lifecycle is off,
// starting its trial at once when it is on.
func userAdd(ctx context.Context, c *config, lf *lifecycleFlags, u newUser, fromStdin bool) error {
	generated := !fromStdin
	if fromStdin {
		lines, err := readLines(os.Stdin, 1)
		if err != nil {
			return err
		}
		u.password = lines[0]
	} else {
		p, err := auth.NewSecret(15)
		if err != nil {
			return err
		}
		u.password = p
	}
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.configureLifecycle(ctx, lf, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
		return err
	}
	u.start = account.StartDefault
	created, err := a.createUser(ctx, u)
	if err != nil {
		return err
	}
	fmt.Printf("created user %s\n", created.account.Username)
	if generated {
		fmt.Printf("  password:      %s\n", u.password)
	}
	fmt.Printf("  recovery code: %s\n", created.recoveryCode)
	fmt.Println("The recovery code is shown only this once. Without the password or this code, the user's data cannot be read by anyone.")
	return nil
}

// userPasswd rewraps a user's key under a new password. The data is sealed
// under the user's key, so the current password (or the recovery code) is
// needed: standard input holds it on the first line and the new one on the second.
func userPasswd(ctx context.Context, c *config, username string, in io.Reader) error {
	lines, err := readLines(in, 2)
	if err != nil {
		return fmt.Errorf("%w: passwd reads the current password or the recovery code on the first line, and the new password on the second", err)
	}
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	id, err := a.auth.Unlock(ctx, username, lines[0])
	if err != nil {
		return err
	}
	if err := a.auth.ChangePassword(ctx, id, lines[1]); err != nil {
		return err
	}
	fmt.Printf("changed the password of %s\n", username)
	return nil
}

// userRecover gives a user who forgot the password access again: with the
// recovery code (the first line of standard input) or with the operator's
// escrow private key, it sets the new password (the next line) and issues
// a new recovery code, which replaces the old one and is printed once.
func userRecover(ctx context.Context, c *config, username, escrowKeyFile string, in io.Reader, out io.Writer) error {
	var escrow *encryption.EscrowPrivateKey
	var lines []string
	var err error
	if escrowKeyFile != "" {
		if escrow, err = loadEscrowPrivateKey(escrowKeyFile); err != nil {
			return err
		}
		if lines, err = readLines(in, 1); err != nil {
			return fmt.Errorf("%w: recover --escrow-key reads the new password from standard input", err)
		}
	} else if lines, err = readLines(in, 2); err != nil {
		return fmt.Errorf("%w: recover reads the recovery code on the first line, and the new password on the second", err)
	}
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	var id *auth.Identity
	var code, how string
	if escrow != nil {
		id, code, err = a.auth.RecoverWithEscrow(ctx, username, escrow, lines[0])
		how = "with the operator's escrow key"
	} else {
		id, code, err = a.auth.Recover(ctx, username, lines[0], lines[1])
		how = "with the recovery code"
		if errors.Is(err, auth.ErrBadCredentials) {
			err = fmt.Errorf("no user %q, or a wrong recovery code", username)
		}
	}
	if err != nil {
		return err
	}
	if a.life != nil {
		if err := a.life.Record(ctx, id.AccountID, account.EventPasswordChanged, "The password was reset "+how+", and a new recovery code was issued."); err != nil {
			fmt.Fprintf(os.Stderr, "coffer: the password was reset, but recording the event failed: %v\n", err)
		}
	}
	fmt.Fprintf(out, "reset the password of %s %s\n", username, how)
	fmt.Fprintf(out, "  new recovery code: %s\n", code)
	fmt.Fprintln(out, "The new recovery code is shown only this once; the old one no longer works.")
	return nil
}

func userList(ctx context.Context, c *config) error {
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	accts, err := a.db.Accounts(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tEMAIL\tDISPLAY NAME\tCREATED")
	for _, a := range accts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.Username, a.Email, a.DisplayName, a.Created.Format("2006-01-02"))
	}
	return w.Flush()
}

func userDelete(ctx context.Context, c *config, username string) error {
	a, err := openApp(ctx, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.db.AccountByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user %q", username)
	}
	if err != nil {
		return err
	}
	if err := a.db.DeleteAccount(ctx, acct.ID); err != nil {
		return err
	}
	fmt.Printf("deleted user %s and all of its data\n", username)
	return nil
}

// readLines reads n non-empty lines from r.
func readLines(r io.Reader, n int) ([]string, error) {
	sc := bufio.NewScanner(r)
	var out []string
	for len(out) < n && sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, fmt.Errorf("standard input has %d of the %d lines needed", len(out), n)
	}
	return out, nil
}
