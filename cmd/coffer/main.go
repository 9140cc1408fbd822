// Command coffer is the Coffer CalDAV/CardDAV server and its administration tool.
package main

import (
	"errors"
	"fmt"
	"os"
)

const usage = `coffer: an encrypted CalDAV/CardDAV server

Usage:
  coffer serve [--data DIR] [--listen ADDR] [--tls-cert FILE --tls-key FILE]
  coffer user add USERNAME [--email E] [--display-name N] [--password-stdin] [--data DIR]
  coffer user passwd USERNAME --password-stdin [--data DIR]
  coffer user recover USERNAME [--escrow-key FILE] [--data DIR]   (reads the recovery code and a new password)
  coffer user list [--data DIR]
  coffer user delete USERNAME [--data DIR]
  coffer account create|confirm|show|pay|vouchers|redeem|set|delete|sweep ...  (coffer account help)
  coffer import USERNAME FILE.ics|FILE.vcf|EXPORT.zip --password-stdin [--data DIR] [serve's limit flags]
  coffer backup DEST [--no-secret] [--data DIR]
  coffer restore SRC [--force] [--data DIR]
  coffer storage migrate --from DIR --to postgres://USER@HOST/DB [--check-user USERNAME]
  coffer escrow keygen PRIVATE-FILE PUBLIC-FILE
  coffer config example     (a commented config file with every setting; use it with --config FILE)
  coffer version

Only serve and restore create a data folder; the other commands refuse a folder
without a database. serve holds the folder's lock while it runs: a second serve,
or a restore, on the same folder is refused. user, account, import and backup
may run beside a running serve.

With --database postgres://USER@HOST/DB (COFFER_DATABASE) every command uses
that PostgreSQL database, and --data holds only server.key, which every
instance of one service shares; backup and restore are pg_dump's job there.

Commands that create accounts or log users in take --escrow-public-key FILE:
every user key then also gets a slot sealed to the operator's offline key.

Every flag can also be set from the environment as COFFER_<FLAG>, e.g. COFFER_DATA.
`

func main() {
	if err := run(os.Args[1:]); err != nil && !errors.Is(err, errHelpShown) {
		fmt.Fprintln(os.Stderr, "coffer:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "user":
		return user(args[1:])
	case "account":
		return accountCmd(args[1:])
	case "import":
		return importCmd(args[1:])
	case "backup":
		return backup(args[1:])
	case "restore":
		return restore(args[1:])
	case "storage":
		return storageCmd(args[1:])
	case "escrow":
		return escrowCmd(args[1:])
	case "config":
		return configCmd(args[1:])
	case "version", "--version":
		fmt.Println(version())
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\nrun \"coffer help\" for the commands", args[0])
}
