package integration_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
)

// The log-hygiene check: no server log (output or access log) of the whole
// integration run may hold a password, an Authorization header, an object body or a property
// value that a test sent.

// secretSet collects what must never appear in a log.
type secretSet struct {
	mu sync.Mutex
	m  map[string]bool
}

// serverLogs collects the servers started by the run.
type serverLogs struct {
	mu      sync.Mutex
	servers []*server
}

var (
	secrets = &secretSet{m: map[string]bool{}}
	logs    = &serverLogs{}

	// contentValue is the value of an iCalendar or vCard content line.
	contentValue = regexp.MustCompile(`(?m)^(?:SUMMARY|DESCRIPTION|LOCATION|FN|N|EMAIL|TEL|NOTE|ADR|ORG|PHOTO)[^:\r\n]*:([^\r\n]+)`)
	// xmlText is the text between two tags of an XML body.
	xmlText = regexp.MustCompile(`>([^<>]+)</`)
	// The server's own, public strings that may legitimately appear in both.
	allowedInLogs = map[string]bool{}
)

// add records one secret; values too short to be distinctive are skipped.
func (s *secretSet) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < 8 {
		return
	}
	s.mu.Lock()
	s.m[v] = true
	s.mu.Unlock()
}

// addBody records the distinctive values of a request body: the content
// lines of objects and the text of XML properties.
func (s *secretSet) addBody(body string) {
	for _, m := range contentValue.FindAllStringSubmatch(body, -1) {
		s.add(m[1])
	}
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		for _, m := range xmlText.FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(strings.TrimSpace(m[1]), "/") { // hrefs are paths, not values
				s.add(m[1])
			}
		}
	}
}

func (l *serverLogs) add(s *server) {
	l.mu.Lock()
	l.servers = append(l.servers, s)
	l.mu.Unlock()
}

// checkLogHygiene scans every server's output for every recorded secret and
// returns a non-zero exit code when one is found. The first-start banner,
// which prints the first account's password on purpose, is left out.
func checkLogHygiene() int {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	found := 0
	for _, s := range logs.servers {
		out := s.output()
		if i := strings.Index(out, "coffer: serving on"); i >= 0 && strings.Contains(out[:i], "shown only this once") {
			out = out[i:]
		}
		s.mu.Lock()
		out += s.access.String()
		s.mu.Unlock()
		for v := range secrets.m {
			if !allowedInLogs[v] && strings.Contains(out, v) {
				fmt.Fprintf(os.Stderr, "log hygiene: a server log holds a secret or value the tests sent: %.40q\n", v)
				found++
			}
		}
	}
	if found > 0 {
		return 1
	}
	fmt.Printf("log hygiene: %d server logs hold none of %d recorded secrets and values\n", len(logs.servers), len(secrets.m))
	return 0
}
