package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/coffer-dav/coffer/storage"
)

// dbFile is the database's name inside the data folder.
const dbFile = "coffer.db"

// backup writes an online, consistent copy of the data folder to a new
// folder: the database (still encrypted) and, unless --no-secret, the
// server secret that restoring needs.
func backup(args []string) error {
	var c config
	fs := newFlags("backup", &c)
	noSecret := fs.Bool("no-secret", false, "leave the server secret out; keep it elsewhere, a restore needs it")
	pos, err := parse(fs, &c, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("backup: want exactly one DEST folder")
	}
	if c.usesPostgres() {
		return fmt.Errorf("backup: %w", errNotSQLite)
	}
	dest := pos[0]
	if err := requireDatabase(c.data); err != nil {
		return err
	}
	if err := os.Mkdir(dest, 0o700); err != nil {
		return fmt.Errorf("backup: %w (DEST must be a new folder)", err)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(c.data, dbFile), storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, filepath.Join(dest, dbFile)); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(dest, dbFile), 0o600); err != nil {
		return err
	}
	if !*noSecret {
		if err := copyFile(filepath.Join(c.data, secretFile), filepath.Join(dest, secretFile)); err != nil {
			return err
		}
	}
	if err := storage.Verify(ctx, filepath.Join(dest, dbFile)); err != nil {
		return err
	}
	fmt.Printf("backed up %s to %s\n", c.data, dest)
	return nil
}

// restore brings a backup folder back as the data folder. The server must
// not be running on that folder.
func restore(args []string) error {
	var c config
	fs := newFlags("restore", &c)
	force := fs.Bool("force", false, "replace an existing database in the data folder")
	pos, err := parse(fs, &c, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("restore: want exactly one SRC folder")
	}
	if c.usesPostgres() {
		return fmt.Errorf("restore: %w", errNotSQLite)
	}
	src := pos[0]
	ctx := context.Background()
	if err := storage.Verify(ctx, filepath.Join(src, dbFile)); err != nil {
		return err
	}
	secret := filepath.Join(src, secretFile)
	if _, err := os.Stat(secret); err != nil {
		secret = filepath.Join(c.data, secretFile)
		if _, err := os.Stat(secret); err != nil {
			return errors.New("restore: the backup holds no server secret and the data folder has none either")
		}
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return err
	}
	// A server running on the folder would keep its open file and write on:
	// what it acknowledged after the restore would be lost at its restart.
	lock, err := lockFolder(c.data)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer lock.release()
	target := filepath.Join(c.data, dbFile)
	if _, err := os.Stat(target); err == nil && !*force {
		return fmt.Errorf("restore: %s exists; use --force to replace it", target)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := copyFile(filepath.Join(src, dbFile), target); err != nil {
		return err
	}
	if secret != filepath.Join(c.data, secretFile) {
		os.Remove(filepath.Join(c.data, secretFile))
		if err := copyFile(secret, filepath.Join(c.data, secretFile)); err != nil {
			return err
		}
	}
	fmt.Printf("restored %s into %s\n", src, c.data)
	return nil
}

// copyFile copies src to a new file dst with mode 0600 and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
