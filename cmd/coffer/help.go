package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// command is what a command's help says besides its flags.
type command struct {
	args  string // the positional arguments, e.g. "USERNAME FILE"
	about string // what it does, one or two sentences
}

// errHelpShown reports that help was asked for and printed: the command
// ends with status 0.
var errHelpShown = errors.New("help shown")

// commands describes every command that takes flags, by the name its flag
// set carries.
var commands = map[string]command{
	"serve":            {"", "Serve CalDAV and CardDAV until SIGINT or SIGTERM. Creates the data folder on first start, with a first account."},
	"user add":         {"USERNAME", "Create a confirmed account. Prints a generated password unless --password-stdin; prints the recovery code once."},
	"user passwd":      {"USERNAME", "Change a password: reads the current one, then the new one, from standard input."},
	"user recover":     {"USERNAME", "Set a new password with the recovery code (or --escrow-key): reads the code and the new password from standard input."},
	"user list":        {"", "List the accounts."},
	"user delete":      {"USERNAME", "Delete an account and all its data, for good. Asks first on a terminal, unless --yes."},
	"account create":   {"USERNAME", "Create a pending account; its owner confirms the e-mail address."},
	"account confirm":  {"USERNAME TOKEN", "Confirm a pending account's e-mail address."},
	"account show":     {"USERNAME", "Show an account's state, dates and plan."},
	"account pay":      {"USERNAME", "Record a payment: --paid-through DATE or --days N."},
	"account vouchers": {"", "Create vouchers for a plan."},
	"account redeem":   {"USERNAME CODE", "Redeem a voucher for an account."},
	"account set":      {"USERNAME", "Change an account's display name or e-mail address."},
	"account delete":   {"USERNAME", "Delete an account and all its data, for good."},
	"account sweep":    {"", "Run the lifecycle's sweep once: reminders, retention, purges."},
	"import":           {"USERNAME FILE", "Import an .ics, a .vcf or an export .zip into an account; reads the user's password (or recovery code) from standard input. May run beside a running serve."},
	"backup":           {"DEST", "Write a consistent copy of the data folder into the new folder DEST. May run beside a running serve."},
	"restore":          {"SRC", "Bring a backup folder back as the data folder; refused while a server runs on it."},
	"storage migrate":  {"", migrateAbout},
}

// printHelp writes the help of the command whose flag set is fs: usage,
// what it does, then every flag as --name with its default.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	cmd := commands[fs.Name()]
	args := strings.TrimSpace(cmd.args + " [flags]")
	fmt.Fprintf(w, "Usage: coffer %s %s\n", fs.Name(), args)
	if cmd.about != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.about)
	}
	if strings.HasPrefix(fs.Name(), "user ") || strings.HasPrefix(fs.Name(), "account ") {
		fmt.Fprintln(w, "May run beside a running serve.")
	}
	fmt.Fprintf(w, "\nFlags (each also as COFFER_<FLAG> in the environment):\n")
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		switch f.Value.(type) {
		case *byteSize:
			kind = "SIZE"
		case interface{ IsBoolFlag() bool }:
			kind = ""
		}
		line := "  --" + f.Name
		if kind != "" {
			line += " " + strings.ToUpper(kind)
		}
		def := f.DefValue
		if g, ok := f.Value.(flag.Getter); ok {
			if d, ok := g.Get().(time.Duration); ok {
				def = humanDuration(d)
			}
		}
		if def != "" && def != "false" && def != "0" && def != "0s" {
			line += "  (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// flagError turns a flag parsing error into one line and a pointer to
// the command's help.
func flagError(fs *flag.FlagSet, err error) error {
	return fmt.Errorf("%s: %w\nrun \"coffer %s --help\" for its flags", fs.Name(), err, fs.Name())
}

// wantsHelp reports whether args ask for help instead of a subcommand.
func wantsHelp(args []string) bool {
	return len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help")
}

// showHelp prints text to standard output and ends the command with status 0.
func showHelp(text string) error {
	fmt.Fprintln(os.Stdout, text)
	return errHelpShown
}

// humanDuration is d for help texts, without trailing zero units: 2m, not 2m0s.
func humanDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
