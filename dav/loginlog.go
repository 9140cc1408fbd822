package dav

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// loginLog writes refused and throttled logins at INFO, at most once per
// address a minute, so that an anonymous client cannot set the log's size.
type loginLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time // when each address was last logged
}

// Bounds of the login log.
const (
	loginLogEvery = time.Minute
	loginLogMax   = 10_000 // addresses remembered; past it, new ones go unlogged until the minute passes
)

// newLoginLog returns a loginLog writing to log.
func newLoginLog(log *slog.Logger) *loginLog {
	return &loginLog{log: log, last: map[string]time.Time{}}
}

// note logs msg for the client at remoteAddr unless that address was
// logged within the last minute. Only the address and attrs are logged:
// never the username or the password.
func (l *loginLog) note(remoteAddr, msg string, now time.Time, attrs ...any) {
	addr := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		addr = host
	}
	l.mu.Lock()
	if t, ok := l.last[addr]; ok && now.Sub(t) < loginLogEvery {
		l.mu.Unlock()
		return
	}
	if len(l.last) >= loginLogMax {
		for a, t := range l.last {
			if now.Sub(t) >= loginLogEvery {
				delete(l.last, a)
			}
		}
		if len(l.last) >= loginLogMax {
			l.mu.Unlock()
			return
		}
	}
	l.last[addr] = now
	l.mu.Unlock()
	l.log.Info(msg, append([]any{"addr", addr}, attrs...)...)
}
