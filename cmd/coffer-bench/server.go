package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// serverStats are the server's memory and disk figures.
type serverStats struct {
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"` // the highest VmRSS sampled while the scenario was measured
	HWMMiB     float64 `json:"vm_hwm_mib,omitempty"`   // VmHWM: the peak over the server process's whole life
	DiskMiB    float64 `json:"disk_mib,omitempty"`     // the data folder's size, database and WAL included
}

// procMemory reads VmRSS and VmHWM (in KiB) from /proc/PID/status.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

// parseStatus extracts VmRSS and VmHWM (KiB) from a /proc status file.
func parseStatus(b []byte) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		f := bytes.Fields(v)
		if len(f) == 0 {
			continue
		}
		if *dst, err = strconv.ParseInt(string(f[0]), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("status line %s: %w", k, err)
		}
	}
	if rss == 0 && hwm == 0 {
		return 0, 0, fmt.Errorf("no VmRSS or VmHWM in the status file")
	}
	return rss, hwm, nil
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// sampler watches the server's RSS while a scenario is measured.
type sampler struct {
	pid    int
	data   string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	peak   int64 // KiB
	err    error
}

// startSampler samples the RSS of pid every 50 ms until stop; pid 0 samples nothing.
func startSampler(pid int, data string) *sampler {
	s := &sampler{pid: pid, data: data}
	if pid == 0 {
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// sample reads the RSS once.
func (s *sampler) sample() {
	rss, _, err := procMemory(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return
	}
	s.peak = max(s.peak, rss)
}

// stop ends the sampling and returns the figures (nil when there are none).
func (s *sampler) stop() (*serverStats, error) {
	var st serverStats
	var errs []error
	if s.pid != 0 {
		s.sample()
		s.cancel()
		s.wg.Wait()
		_, hwm, err := procMemory(s.pid)
		if err != nil {
			errs = append(errs, err)
		}
		s.mu.Lock()
		st.PeakRSSMiB, st.HWMMiB = mib(s.peak*1024), mib(hwm*1024)
		if s.err != nil {
			errs = append(errs, s.err)
		}
		s.mu.Unlock()
	}
	if s.data != "" {
		n, err := dirSize(s.data)
		if err != nil {
			errs = append(errs, err)
		}
		st.DiskMiB = mib(n)
	}
	if s.pid == 0 && s.data == "" {
		return nil, nil
	}
	if len(errs) > 0 {
		return &st, fmt.Errorf("server figures: %v", errs[0])
	}
	return &st, nil
}

// mib converts bytes to MiB, rounded to a tenth.
func mib(n int64) float64 { return float64(n*10/(1<<20)) / 10 }
