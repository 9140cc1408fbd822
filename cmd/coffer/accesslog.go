package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// accessLog writes one JSON line per request into hourly files
// access-YYYYMMDDHH.jsonl (UTC) in a folder, and removes files whose hour
// ended more than keep ago. It records the time, method, path, status,
// duration and user agent, and nothing else: no query string, no other
// header, no body, no username.
type accessLog struct {
	dir  string
	keep time.Duration
	now  func() time.Time
	log  *slog.Logger

	mu   sync.Mutex
	f    *os.File
	hour string // the YYYYMMDDHH of f
}

// accessEntry is one line of the access log.
type accessEntry struct {
	Time      string  `json:"time"` // when the request arrived, RFC 3339 in UTC
	Method    string  `json:"method"`
	Path      string  `json:"path"` // escaped, without the query
	Status    int     `json:"status"`
	Duration  float64 `json:"duration_ms"`
	UserAgent string  `json:"user_agent"`
}

// Access-log file names.
const (
	accessPrefix     = "access-"
	accessSuffix     = ".jsonl"
	accessHourLayout = "2006010215"
)

// newAccessLog opens the access log in dir, creating the folder.
func newAccessLog(dir string, keep time.Duration, log *slog.Logger) (*accessLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &accessLog{dir: dir, keep: keep, now: time.Now, log: log}, nil
}

// Wrap returns next with every request logged.
func (l *accessLog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := l.now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.Status()
		l.write(start, accessEntry{
			Method:    r.Method,
			Path:      r.URL.EscapedPath(),
			Status:    status,
			Duration:  float64(l.now().Sub(start).Microseconds()) / 1000,
			UserAgent: r.UserAgent(),
		})
	})
}

// write appends e to the file of the hour of start.
func (l *accessLog) write(start time.Time, e accessEntry) {
	start = start.UTC()
	e.Time = start.Format("2006-01-02T15:04:05.000Z07:00")
	line, err := json.Marshal(e)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if hour := start.Format(accessHourLayout); hour != l.hour || l.f == nil {
		if l.f != nil {
			l.f.Close()
		}
		l.f, err = os.OpenFile(filepath.Join(l.dir, accessPrefix+hour+accessSuffix), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			l.f, l.hour = nil, ""
			l.log.Warn("access log: cannot open the file", "err", err)
			return
		}
		l.hour = hour
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		l.log.Warn("access log: cannot write", "err", err)
	}
}

// Prune removes the files whose hour ended more than keep ago.
func (l *accessLog) Prune() {
	names, err := os.ReadDir(l.dir)
	if err != nil {
		l.log.Warn("access log: cannot list the folder", "err", err)
		return
	}
	cutoff := l.now().Add(-l.keep)
	for _, d := range names {
		hour, okPrefix := strings.CutPrefix(d.Name(), accessPrefix)
		hour, okSuffix := strings.CutSuffix(hour, accessSuffix)
		if !okPrefix || !okSuffix {
			continue
		}
		t, err := time.Parse(accessHourLayout, hour)
		if err != nil || !t.Add(time.Hour).Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, d.Name())); err != nil {
			l.log.Warn("access log: cannot remove an old file", "err", err)
		}
	}
}

// Run prunes now and then every interval until ctx ends.
func (l *accessLog) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		l.Prune()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close closes the current file; a later request opens it again.
func (l *accessLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f, l.hour = nil, ""
	return err
}
