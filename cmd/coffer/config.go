package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/coffer-dav/coffer/encryption"
)

// config holds the settings every subcommand shares.
type config struct {
	data string
	// database is a PostgreSQL connection string; empty: the SQLite file in data.
	database string
	kdf      encryption.KDFParams
	// escrowPublicKey is the operator's escrow public key file; empty: no escrow.
	escrowPublicKey string
}

// newFlags returns a flag set with the shared settings registered on c.
func newFlags(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	fs.StringVar(&c.data, "data", "./coffer-data", "data folder: database and server secret")
	fs.StringVar(&c.database, "database", "", "PostgreSQL connection string (postgres://USER@HOST/DB), with --data holding the server secret only; empty: the SQLite database in --data")
	fs.StringVar(&c.escrowPublicKey, "escrow-public-key", "", "operator escrow public key file (coffer escrow keygen): every user key also gets a slot sealed to it")
	fs.String("config", "", "TOML file of settings, one key per flag (coffer config example); flags and COFFER_* variables win over it")
	d := encryption.DefaultKDF
	for _, k := range []struct {
		name, usage string
		def         uint64
		into        func(uint64)
		bits        int
	}{
		{"argon2-memory", "Argon2id memory in KiB", uint64(d.MemoryKiB), func(v uint64) { c.kdf.MemoryKiB = uint32(v) }, 32},
		{"argon2-time", "Argon2id passes", uint64(d.Time), func(v uint64) { c.kdf.Time = uint32(v) }, 32},
		{"argon2-threads", "Argon2id lanes", uint64(d.Threads), func(v uint64) { c.kdf.Threads = uint8(v) }, 8},
	} {
		fs.Func(k.name, k.usage, func(s string) error {
			v, err := strconv.ParseUint(s, 10, k.bits)
			if err == nil {
				k.into(v)
			}
			return err
		})
		fs.Lookup(k.name).DefValue = strconv.FormatUint(k.def, 10)
	}
	return fs
}

// parse reads the config file (--config or COFFER_CONFIG), then COFFER_*
// variables for every flag, then the command line, which wins.
func parse(fs *flag.FlagSet, c *config, args []string) ([]string, error) {
	if path := configPath(args); path != "" {
		if err := applyConfigFile(fs, path); err != nil {
			return nil, err
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "COFFER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// Allow flags after positional arguments, as in "user add alice --email a@b".
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			printHelp(os.Stdout, fs)
			return nil, errHelpShown
		} else if err != nil {
			return nil, flagError(fs, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	d := encryption.DefaultKDF
	if c.kdf.MemoryKiB == 0 {
		c.kdf.MemoryKiB = d.MemoryKiB
	}
	if c.kdf.Time == 0 {
		c.kdf.Time = d.Time
	}
	if c.kdf.Threads == 0 {
		c.kdf.Threads = d.Threads
	}
	if err := c.kdf.Validate(); err != nil {
		return nil, err
	}
	if err := checkDatabase(c.database); err != nil {
		return nil, err
	}
	return pos, nil
}
