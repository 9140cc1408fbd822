package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// litmusSummary is one suite's result line, as litmus prints it:
// "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%".
type litmusSummary struct {
	suite                 string
	run, passed, failed   int
	skipped, warningCount int
}

// litmusCounted are the suites that must pass in full. locks runs too but
// is only reported: there is no LOCK, and the DAV header claims no class 2.
const litmusCounted = "basic copymove props http"

var (
	litmusSummaryLine = regexp.MustCompile("<- summary for `([a-z]+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")
	litmusSkippedLine = regexp.MustCompile(`-> (\d+) tests? (?:was|were) skipped`)
	litmusWarnedLine  = regexp.MustCompile(`-> (\d+) warnings? (?:was|were) issued`)
)

// TestLitmus runs litmus, the independent WebDAV compliance suite, against
// a plain collection in a test user's calendar home. Litmus creates its
// own collection "litmus/" inside it, so nesting, COPY and MOVE of objects
// and collections, dead properties and HTTP details are all exercised.
// Every test of basic, copymove, props and http must pass (warnings are
// listed); locks is run and its summary logged.
func TestLitmus(t *testing.T) {
	litmus := requireTool(t, "litmus", nil)
	s := startServer(t, "")
	const user, password = "litmus", "litmus-password"
	addUser(t, s.data, user, password)
	c := s.client(t, user, password)
	base := "/dav/calendars/" + user + "/litmus/"
	c.must(201, "MKCOL", base, "")
	url := strings.TrimSuffix(s.URL, "/") + base

	out, err := runLitmus(t, litmus, url, user, password, litmusCounted)
	sums := parseLitmus(out)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "WARNING") {
			t.Logf("litmus warning: %s", strings.TrimSpace(l))
		}
	}
	for _, suite := range strings.Fields(litmusCounted) {
		sum, ok := sums[suite]
		switch {
		case !ok:
			t.Errorf("litmus printed no summary for %s (%v)", suite, err)
		case sum.failed != 0 || sum.skipped != 0 || sum.passed != sum.run:
			t.Errorf("litmus %s: %d run, %d passed, %d failed, %d skipped", suite, sum.run, sum.passed, sum.failed, sum.skipped)
		default:
			t.Logf("litmus %s: %d of %d passed, %d warnings", suite, sum.passed, sum.run, sum.warningCount)
		}
	}
	if t.Failed() {
		t.Logf("litmus output:\n%s", out)
	}

	// locks: reported, not counted.
	c.must(204, "DELETE", base+"litmus/", "")
	out, err = runLitmus(t, litmus, url, user, password, "locks")
	if sum, ok := parseLitmus(out)["locks"]; ok {
		t.Logf("litmus locks (not counted): %d run, %d passed, %d failed, %d skipped, %d warnings",
			sum.run, sum.passed, sum.failed, sum.skipped, sum.warningCount)
	} else {
		t.Logf("litmus locks printed no summary (%v):\n%s", err, out)
	}
}

// runLitmus runs the named litmus suites against url in a fresh working
// folder (litmus writes debug.log there) and returns what it printed.
func runLitmus(t *testing.T, litmus, url, user, password, suites string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, litmus, "-k", url, user, password)
	cmd.Dir = t.TempDir()
	cmd.Env = append(externalEnv(cmd.Dir), "TESTS="+suites)
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("litmus did not finish within 5 minutes: %w", err)
	}
	// Progress lines are redrawn with carriage returns; keep the last state.
	return strings.ReplaceAll(string(b), "\r", "\n"), err
}

// parseLitmus collects each suite's summary, with its skipped tests
// (reported before the summary line) and warnings (reported after it).
func parseLitmus(out string) map[string]litmusSummary {
	sums := map[string]litmusSummary{}
	skipped, last := 0, ""
	for _, l := range strings.Split(out, "\n") {
		if m := litmusSkippedLine.FindStringSubmatch(l); m != nil {
			skipped, _ = strconv.Atoi(m[1])
		}
		if m := litmusWarnedLine.FindStringSubmatch(l); m != nil && last != "" {
			s := sums[last]
			s.warningCount, _ = strconv.Atoi(m[1])
			sums[last] = s
		}
		m := litmusSummaryLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := litmusSummary{suite: m[1], skipped: skipped}
		s.run, _ = strconv.Atoi(m[2])
		s.passed, _ = strconv.Atoi(m[3])
		s.failed, _ = strconv.Atoi(m[4])
		sums[s.suite] = s
		skipped, last = 0, s.suite
	}
	return sums
}
