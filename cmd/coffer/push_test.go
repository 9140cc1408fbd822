package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coffer-dav/coffer/dav"
	"github.com/coffer-dav/coffer/encryption"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/storage"
)

func TestPushFlagsEnabled(t *testing.T) {
	tests := []struct {
		mode, public string
		on, bad      bool
	}{
		{"auto", "https://dav.example.org/", true, false},
		{"auto", "http://dav.example.org/", false, false},
		{"auto", "", false, false},
		{"on", "", true, false},
		{"off", "https://dav.example.org/", false, false},
		{"yes", "", false, true},
	}
	for _, tc := range tests {
		mode := tc.mode
		on, err := (&pushFlags{mode: &mode}).enabled(tc.public)
		if on != tc.on || (err != nil) != tc.bad {
			t.Errorf("--push %s with %q: %v %v", tc.mode, tc.public, on, err)
		}
	}
}

func TestPushContact(t *testing.T) {
	tests := []struct{ public, clients, want string }{
		{"https://dav.example.org/", "https://dav.example.org/", "https://dav.example.org/"},
		{"", "http://127.0.0.1:8008/", "mailto:postmaster@127.0.0.1"},
		{"", "http://[::1]:8008/", "mailto:postmaster@::1"},
		{"http://dav.example.org/", "http://dav.example.org/", "mailto:postmaster@dav.example.org"},
	}
	for _, tc := range tests {
		if got := pushContact(tc.public, tc.clients); got != tc.want {
			t.Errorf("pushContact(%q, %q) = %q, want %q", tc.public, tc.clients, got, tc.want)
		}
	}
}

// TestLoadVAPIDKey: the first start writes vapid.key (0600) and stores its
// public key; later starts take it; an instance with another key, or
// without the file where the database has a key, refuses to start.
func TestLoadVAPIDKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, filepath.Join(dir, "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, err := loadVAPIDKey(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, vapidFile)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("vapid.key: %v %v", fi, err)
	}
	if v, ok, _ := db.Setting(ctx, vapidSettingKey); !ok || v != first.PublicKeyString() {
		t.Fatalf("stored %q %v", v, ok)
	}
	again, err := loadVAPIDKey(ctx, db, dir)
	if err != nil || again.PublicKeyString() != first.PublicKeyString() {
		t.Fatalf("restart: %v", err)
	}

	other := t.TempDir() // a second instance with a key of its own
	odb, err := storage.Open(ctx, filepath.Join(other, "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer odb.Close()
	if _, err := loadVAPIDKey(ctx, odb, other); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(other, vapidFile))
	tests := []struct {
		name  string
		setup func()
		want  string
	}{
		{"another key", func() { must(t, os.WriteFile(path, b, 0o600)) }, "is not this database's"},
		{"no file, a stored key", func() { must(t, os.Remove(path)) }, "copy vapid.key from the first instance"},
		{"readable by others", func() { must(t, os.WriteFile(path, b, 0o644)); must(t, os.Chmod(path, 0o644)) }, "chmod 600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			_, err := loadVAPIDKey(ctx, db, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// fakeSender takes every message.
type fakeSender struct{}

func (fakeSender) Send(context.Context, push.Subscription, push.Message) push.Result {
	return push.Result{Outcome: push.Delivered, Status: 201}
}

// TestPushMetrics: with push on, the operator's /metrics lists the push
// counters; nil metrics or no Notifier register nothing.
func TestPushMetrics(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "coffer.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rk, err := encryption.DeriveKeyring(make([]byte, encryption.KeySize), encryption.PushOutbox)
	if err != nil {
		t.Fatal(err)
	}
	n, err := dav.NewNotifier(dav.NotifyOptions{Sender: fakeSender{}, Expiry: db, Outbox: db, RetryKey: rk})
	if err != nil {
		t.Fatal(err)
	}
	var none *metrics
	none.pushStats(n) // no panic
	m := newMetrics(nil)
	m.pushStats(nil)
	if got, _ := testutil.GatherAndCount(m.reg, "coffer_push_sent_total"); got != 0 {
		t.Fatalf("push counters without push: %d", got)
	}
	m.pushStats(n)
	for _, name := range []string{"coffer_push_sent_total", "coffer_push_failed_total", "coffer_push_dropped_total", "coffer_push_queue_dropped_total"} {
		if got, err := testutil.GatherAndCount(m.reg, name); err != nil || got != 1 {
			t.Errorf("%s: %d series, %v", name, got, err)
		}
	}
}
