package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// parseCPU returns the CPU time (user and system) of a /proc/PID/stat line.
// The command name, in parentheses, may hold spaces and parentheses: the
// fields are counted from the last ')'.
func parseCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in the stat line")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After the name: state (field 3) … utime (14), stime (15).
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// processCPU is the CPU time a process has used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPU(b)
}

// isBackendOf reports whether a process's command line is that of a
// PostgreSQL backend connected to database db: the server sets it to
// "postgres: USER DATABASE HOST ACTIVITY".
func isBackendOf(cmdline []byte, db string) bool {
	f := strings.Fields(strings.ReplaceAll(string(cmdline), "\x00", " "))
	return len(f) >= 3 && f[0] == "postgres:" && f[2] == db
}

// backendsCPU is the CPU time used so far by the PostgreSQL backends
// connected to db that run on this machine (a backend that ended is not
// counted: the instances keep theirs in their pools).
func backendsCPU(db string) (time.Duration, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !isBackendOf(cmd, db) {
			continue // gone, or not one of them
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if t, err := processCPU(pid); err == nil {
			total += t
		}
	}
	return total, nil
}

// serverCPU is the CPU time used so far by a deployment's servers: its
// instances, and for PostgreSQL the backends of its database.
func (d *deployment) serverCPU() (time.Duration, error) {
	var total time.Duration
	for _, ch := range d.servers {
		t, err := processCPU(ch.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		total += t
	}
	if d.dbName != "" {
		t, err := backendsCPU(d.dbName)
		if err != nil {
			return 0, err
		}
		total += t
	}
	return total, nil
}
