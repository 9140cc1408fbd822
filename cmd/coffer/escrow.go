package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/coffer-dav/coffer/encryption"
)

const escrowUsage = `coffer escrow keygen PRIVATE-FILE PUBLIC-FILE

Writes an operator escrow key pair. Give the public key file to serve and
to every command that creates accounts (--escrow-public-key FILE, or
COFFER_ESCROW_PUBLIC_KEY): every user key then also gets a slot sealed to it.
Keep the private key file offline; "coffer user recover USERNAME
--escrow-key PRIVATE-FILE" restores a user's access with it.`

// escrowCmd runs the "coffer escrow" subcommands.
func escrowCmd(args []string) error {
	if len(args) == 0 || args[0] != "keygen" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Println(escrowUsage)
			return nil
		}
		fmt.Fprintln(os.Stderr, escrowUsage)
		return errors.New("escrow: want keygen")
	}
	if wantsHelp(args[1:]) {
		return showHelp(escrowUsage)
	}
	if len(args) != 3 {
		return errors.New("escrow keygen: want PRIVATE-FILE and PUBLIC-FILE\nrun \"coffer escrow help\" for more")
	}
	return escrowKeygen(args[1], args[2], os.Stdout)
}

// escrowKeygen writes a new escrow key pair: the private key with mode
// 0600, the public key with mode 0644. It never overwrites a file.
func escrowKeygen(privFile, pubFile string, out io.Writer) error {
	k, err := encryption.GenerateEscrowKey()
	if err != nil {
		return err
	}
	privPEM, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	if err := writeNewFile(privFile, privPEM, 0o600); err != nil {
		return err
	}
	if err := writeNewFile(pubFile, k.Public().MarshalPEM(), 0o644); err != nil {
		os.Remove(privFile)
		return err
	}
	fmt.Fprintf(out, "wrote the escrow private key to %s and the public key to %s\n", privFile, pubFile)
	fmt.Fprintf(out, "  fingerprint: %s\n", k.Public().Fingerprint())
	fmt.Fprintln(out, "Move the private key offline. Configure the public key with --escrow-public-key or COFFER_ESCROW_PUBLIC_KEY.")
	return nil
}

// writeNewFile creates path with mode perm and writes b to it, failing when path exists.
func writeNewFile(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// loadEscrowPublicKey reads the escrow public key file; an empty path means no escrow.
func loadEscrowPublicKey(path string) (*encryption.EscrowPublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("escrow public key: %w", err)
	}
	k, err := encryption.ParseEscrowPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("escrow public key %s: %w", path, err)
	}
	return k, nil
}

// loadEscrowPrivateKey reads the offline escrow private key file.
func loadEscrowPrivateKey(path string) (*encryption.EscrowPrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("escrow private key: %w", err)
	}
	k, err := encryption.ParseEscrowPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("escrow private key %s: %w", path, err)
	}
	return k, nil
}
