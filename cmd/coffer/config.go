package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/coffer-dav/coffer/encryption"
)

// config holds the settings every subcommand shares.
type config struct {
	data string
	kdf  encryption.KDFParams
	// escrowPublicKey is the operator's escrow public key file; empty: no escrow.
	escrowPublicKey string
}

// newFlags returns a flag set with the shared settings registered on c.
func newFlags(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	fs.StringVar(&c.data, "data", "./coffer-data", "data folder: database and server secret")
	fs.StringVar(&c.escrowPublicKey, "escrow-public-key", "", "operator escrow public key file (coffer escrow keygen): every user key also gets a slot sealed to it")
	mem := uint(encryption.DefaultKDF.MemoryKiB)
	fs.Func("argon2-memory", fmt.Sprintf("Argon2id memory in KiB (default %d)", mem), func(s string) error {
		_, err := fmt.Sscan(s, &c.kdf.MemoryKiB)
		return err
	})
	fs.Func("argon2-time", fmt.Sprintf("Argon2id passes (default %d)", encryption.DefaultKDF.Time), func(s string) error {
		_, err := fmt.Sscan(s, &c.kdf.Time)
		return err
	})
	fs.Func("argon2-threads", fmt.Sprintf("Argon2id lanes (default %d)", encryption.DefaultKDF.Threads), func(s string) error {
		_, err := fmt.Sscan(s, &c.kdf.Threads)
		return err
	})
	return fs
}

// parse reads COFFER_* variables for every flag, then the command line, which wins.
func parse(fs *flag.FlagSet, c *config, args []string) ([]string, error) {
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
	return pos, nil
}
