package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// folderLock is the exclusive lock serve holds on its data folder for its
// whole life, so that a second server, or a restore, cannot work on the
// same files beside it. The kernel drops it when the process ends, however
// it ends.
type folderLock struct{ f *os.File }

// lockFile is the lock's name inside the data folder.
const lockFile = "coffer.lock"

// errFolderBusy reports a data folder locked by another process.
var errFolderBusy = errors.New("the data folder is in use")

// lockFolder takes the data folder's lock, or says which process holds it.
func lockFolder(dir string) (*folderLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf("coffer serve (pid %d)", pid)
			}
			return nil, fmt.Errorf("%w: %s holds %s; stop it first", errFolderBusy, holder, absPath(path))
		}
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &folderLock{f: f}, nil
}

// release drops the lock.
func (l *folderLock) release() {
	if l != nil {
		l.f.Close()
	}
}
