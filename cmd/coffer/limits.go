package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/dav"
)

// limitFlags are serve's caps on requests, users and connections.
type limitFlags struct {
	maxResource, maxBody, quota, memory, maxProps      byteSize
	xmlDepth, xmlElements, multiget, instances         int
	objects, collections                               int64
	readHeaderTimeout, readTimeout, writeTimeout, idle time.Duration
}

// byteSize is a flag value in bytes: a plain number, or one with KB, MB, GB
// (powers of 1000) or KiB, MiB, GiB (powers of 1024).
type byteSize int64

// addLimitFlags registers the limit flags on fs with their defaults.
func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	l := &limitFlags{maxResource: 20 << 20, maxBody: 25 << 20}
	fs.Var(&l.maxResource, "max-resource-size", "largest calendar object, contact or file (e.g. 20MiB)")
	fs.Var(&l.maxBody, "max-body-size", "largest request body of any kind; at least --max-resource-size")
	fs.Var(&l.quota, "quota", "storage quota of each user (e.g. 1GiB), bodies, names and properties alike; 0: none")
	l.maxProps = 64 << 10
	fs.Var(&l.maxProps, "max-properties-size", "largest total of the stored properties of one resource (e.g. 64KiB)")
	l.memory = 100 << 20
	fs.Var(&l.memory, "memory-limit", "soft limit on the server's memory: beyond it the Go runtime collects and returns memory sooner (GOMEMLIMIT wins when set); 0: none")
	fs.IntVar(&l.xmlDepth, "max-xml-depth", 64, "deepest nesting of an XML request body")
	fs.IntVar(&l.xmlElements, "max-xml-elements", 20000, "most elements in an XML request body")
	fs.IntVar(&l.multiget, "max-multiget", 1000, "most resources one multiget REPORT may ask for")
	fs.IntVar(&l.instances, "max-instances", 10000, "most recurrence instances examined per object and query")
	fs.Int64Var(&l.objects, "max-objects-per-collection", 100000, "most objects in one collection; -1: no limit")
	fs.Int64Var(&l.collections, "max-collections", 1000, "most collections of one user; -1: no limit")
	fs.DurationVar(&l.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send a request's headers")
	fs.DurationVar(&l.readTimeout, "read-timeout", 5*time.Minute, "time a client has to send a whole request (large photos on slow links)")
	fs.DurationVar(&l.writeTimeout, "write-timeout", 5*time.Minute, "time to send a whole answer")
	fs.DurationVar(&l.idle, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
	return l
}

// gcPercent paces the collector below the memory limit: the heap may grow
// to five times what is live before a collection, since the limit, not
// this, bounds it. Requests then pay for fewer collections.
const gcPercent = 400

// applyMemoryLimit sets the runtime's soft memory limit. Each login that
// misses the cache runs Argon2 over 64 MiB; without a limit the runtime keeps
// that heap long after the login, and a server that had a burst of logins
// stays large. Under a limit the collector runs at gcPercent unless GOGC
// says otherwise.
func (l *limitFlags) applyMemoryLimit() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set || l.memory == 0 {
		return
	}
	debug.SetMemoryLimit(int64(l.memory))
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

// check refuses values that would switch a limit off by accident.
func (l *limitFlags) check() error {
	switch {
	case l.maxResource <= 0 || l.maxBody <= 0 || l.maxProps <= 0:
		return fmt.Errorf("--max-resource-size, --max-body-size and --max-properties-size must be positive")
	case l.quota < 0 || l.memory < 0:
		return fmt.Errorf("--quota and --memory-limit must not be negative")
	case l.xmlDepth <= 0 || l.xmlElements <= 0 || l.multiget <= 0 || l.instances <= 0:
		return fmt.Errorf("--max-xml-depth, --max-xml-elements, --max-multiget and --max-instances must be positive")
	case l.objects == 0 || l.collections == 0:
		return fmt.Errorf("--max-objects-per-collection and --max-collections must be positive, or -1 for no limit")
	case l.readHeaderTimeout <= 0 || l.readTimeout <= 0 || l.writeTimeout <= 0 || l.idle <= 0:
		return fmt.Errorf("the timeouts must be positive")
	}
	return nil
}

// apply copies the DAV limits into o.
func (l *limitFlags) apply(o *dav.Options) {
	o.MaxResourceSize, o.MaxBodySize, o.QuotaBytes = int64(l.maxResource), int64(l.maxBody), int64(l.quota)
	o.MaxXMLDepth, o.MaxXMLElements = l.xmlDepth, l.xmlElements
	o.MaxMultigetHrefs, o.MaxInstances = l.multiget, l.instances
	o.MaxObjects, o.MaxCollections = l.objects, l.collections
	o.MaxPropertiesSize = int64(l.maxProps)
}

// timeouts sets the connection timeouts of srv: a slow client cannot hold
// a connection open forever.
func (l *limitFlags) timeouts(srv *http.Server) {
	srv.ReadHeaderTimeout, srv.ReadTimeout = l.readHeaderTimeout, l.readTimeout
	srv.WriteTimeout, srv.IdleTimeout = l.writeTimeout, l.idle
}

// String shows the size in the largest binary unit that holds it whole:
// 25MiB, not 26214400.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set parses a size such as 25MiB, 10MB or 1048576.
func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	mult, ok := map[string]int64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("want a size such as 25MiB, 10MB or 1048576")
	}
	*b = byteSize(n * mult)
	return nil
}
