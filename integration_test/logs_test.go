package integration_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequestLogAndHangUps: --log-format json gives one JSON line per
// request at INFO with method, status and duration, and no path, body or
// property value (the access log is off); a client that hangs up in the
// middle of a request is logged as such, not as a 500, and is no 5xx in
// the metrics.
func TestRequestLogAndHangUps(t *testing.T) {
	t.Setenv("COFFER_OPERATOR_LISTEN", "127.0.0.1:0")
	t.Setenv("COFFER_OPERATOR_TOKEN", operatorToken)
	secrets.add(operatorToken)
	s := startServerWith(t, "", "--log-format", "json", "--log-level", "info")
	c := s.client(t, s.User, s.Password)
	cal := "/dav/calendars/" + s.User + "/calendar/"
	c.must(201, "PUT", cal+"logged.ics", event("logged-uid", "SECRET-SUMMARY-771"), "Content-Type", "text/calendar")
	c.must(207, "PROPPATCH", cal, `<propertyupdate xmlns="DAV:"><set><prop><displayname>SECRET-PROP-772</displayname></prop></set></propertyupdate>`)

	// A PUT whose client goes away after half its body.
	addr := strings.TrimPrefix(strings.TrimSuffix(s.URL, "/"), "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", s.URL+strings.TrimPrefix(cal, "/")+"gone.ics", nil)
	req.SetBasicAuth(s.User, s.Password)
	req.Header.Set("Content-Type", "text/calendar")
	var head strings.Builder
	req.Header.Write(&head)
	io.WriteString(conn, "PUT "+cal+"gone.ics HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 100000\r\n"+head.String()+"\r\nBEGIN:VCALENDAR\r\n")
	time.Sleep(200 * time.Millisecond)
	conn.Close()

	deadline := time.Now().Add(10 * time.Second)
	var lines []map[string]any
	for {
		lines = lines[:0]
		gone := false
		sc := bufio.NewScanner(strings.NewReader(s.output()))
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal([]byte(sc.Text()), &l) == nil {
				lines = append(lines, l)
				gone = gone || l["msg"] == "client hung up"
			}
		}
		if gone || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var requests, hungUp int
	for _, l := range lines {
		switch l["msg"] {
		case "request":
			requests++
			if l["level"] != "INFO" || l["method"] == nil || l["status"] == nil || l["duration_ms"] == nil {
				t.Errorf("request line %v lacks its fields", l)
			}
			if _, ok := l["path"]; ok {
				t.Errorf("request line %v has a path without the access log", l)
			}
		case "client hung up":
			hungUp++
		}
		if l["level"] == "ERROR" {
			t.Errorf("ERROR line: %v", l)
		}
	}
	out := s.output()
	for _, secret := range []string{"SECRET-SUMMARY-771", "SECRET-PROP-772", "logged.ics"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if requests < 2 || hungUp != 1 {
		t.Fatalf("%d request lines and %d hang-ups, want at least 2 and 1:\n%s", requests, hungUp, out)
	}

	m := operatorLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no operator address")
	}
	mreq, _ := http.NewRequest("GET", strings.TrimSuffix(m[1], "/")+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer "+operatorToken)
	resp, err := http.DefaultClient.Do(mreq)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `coffer_http_requests_total{code="client_gone",method="PUT"} 1`) || strings.Contains(string(metrics), `code="5xx"`) {
		t.Fatalf("metrics do not count the hang-up apart from failures:\n%s", grepLines(string(metrics), "coffer_http_requests_total"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
