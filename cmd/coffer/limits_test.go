package main

import (
	"os"
	"reflect"
	"runtime/debug"
	"testing"
	"time"

	"github.com/coffer-dav/coffer/dav"
)

// TestLimitFlags: sizes parse with their units, COFFER_* variables set the
// limits, the command line wins, and values that would switch a limit off
// by accident are refused.
func TestLimitFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    dav.Options
		header  time.Duration
		wantErr bool
	}{
		{"defaults", nil, nil, dav.Options{MaxResourceSize: 20 << 20, MaxBodySize: 25 << 20, MaxXMLDepth: 64, MaxXMLElements: 20000,
			MaxMultigetHrefs: 1000, MaxInstances: 10000, MaxObjects: 100000, MaxCollections: 1000, MaxPropertiesSize: 64 << 10}, 10 * time.Second, false},
		{"units and flags", nil, []string{"--max-resource-size", "10MB", "--max-body-size", "12MiB", "--quota", "1GiB", "--max-xml-depth", "8",
			"--max-xml-elements", "100", "--max-multiget", "50", "--max-instances", "500", "--max-objects-per-collection", "-1", "--max-collections", "7", "--max-properties-size", "8KiB", "--read-header-timeout", "2s"},
			dav.Options{MaxResourceSize: 10e6, MaxBodySize: 12 << 20, QuotaBytes: 1 << 30, MaxXMLDepth: 8, MaxXMLElements: 100,
				MaxMultigetHrefs: 50, MaxInstances: 500, MaxObjects: -1, MaxCollections: 7, MaxPropertiesSize: 8 << 10}, 2 * time.Second, false},
		{"environment, command line wins", map[string]string{"COFFER_QUOTA": "5000", "COFFER_MAX_MULTIGET": "9"}, []string{"--max-multiget", "10"},
			dav.Options{MaxResourceSize: 20 << 20, MaxBodySize: 25 << 20, QuotaBytes: 5000, MaxXMLDepth: 64, MaxXMLElements: 20000,
				MaxMultigetHrefs: 10, MaxInstances: 10000, MaxObjects: 100000, MaxCollections: 1000, MaxPropertiesSize: 64 << 10}, 10 * time.Second, false},
		{"bad unit", nil, []string{"--quota", "5 parsecs"}, dav.Options{}, 0, true},
		{"fraction", nil, []string{"--max-body-size", "1.5GiB"}, dav.Options{}, 0, true},
		{"negative size", nil, []string{"--quota", "-1"}, dav.Options{}, 0, true},
		{"zero body", nil, []string{"--max-body-size", "0"}, dav.Options{}, 0, true},
		{"zero properties size", nil, []string{"--max-properties-size", "0"}, dav.Options{}, 0, true},
		{"zero count", nil, []string{"--max-collections", "0"}, dav.Options{}, 0, true},
		{"zero depth", nil, []string{"--max-xml-depth", "0"}, dav.Options{}, 0, true},
		{"zero timeout", nil, []string{"--idle-timeout", "0s"}, dav.Options{}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var c config
			fs := newFlags("serve", &c)
			l := addLimitFlags(fs)
			_, err := parse(fs, &c, tc.args)
			if err == nil {
				err = l.check()
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			var got dav.Options
			l.apply(&got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("options %+v\nwant    %+v", got, tc.want)
			}
			if l.readHeaderTimeout != tc.header {
				t.Errorf("read-header-timeout %v, want %v", l.readHeaderTimeout, tc.header)
			}
		})
	}
}

// TestMemoryLimitSetsThePace: the default limit goes to the runtime with
// the collector's pace; GOGC, when set, keeps its own pace.
func TestMemoryLimitSetsThePace(t *testing.T) {
	for _, tt := range []struct {
		name, gogc string
		wantPct    int
	}{
		{"default pace", "", gcPercent},
		{"GOGC wins", "150", 150},
	} {
		t.Run(tt.name, func(t *testing.T) {
			oldLimit, oldPct := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
			t.Cleanup(func() { debug.SetMemoryLimit(oldLimit); debug.SetGCPercent(oldPct) })
			t.Setenv("GOMEMLIMIT", "")
			os.Unsetenv("GOMEMLIMIT")
			t.Setenv("GOGC", tt.gogc)
			if tt.gogc == "" {
				os.Unsetenv("GOGC")
			} else {
				debug.SetGCPercent(150) // as the runtime reads GOGC at start
			}
			var c config
			fs := newFlags("serve", &c)
			l := addLimitFlags(fs)
			if _, err := parse(fs, &c, nil); err != nil {
				t.Fatal(err)
			}
			l.applyMemoryLimit()
			if got := debug.SetMemoryLimit(-1); got != 100<<20 {
				t.Errorf("memory limit %d, want 100 MiB", got)
			}
			if got := debug.SetGCPercent(oldPct); got != tt.wantPct {
				t.Errorf("GC percent %d, want %d", got, tt.wantPct)
			}
		})
	}
}
