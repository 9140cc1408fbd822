package account

import (
	"testing"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

func TestCompute(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	s := DefaultSettings()
	off := s
	off.Off = true
	base := storage.LifecycleRecord{Registered: day(0), Confirmed: day(0), TrialEnd: day(30)}
	with := func(f func(r *storage.LifecycleRecord)) storage.LifecycleRecord {
		r := base
		f(&r)
		return r
	}
	tests := []struct {
		name     string
		r        storage.LifecycleRecord
		now      time.Time
		s        Settings
		want     State
		expires  time.Time
		deleteAt time.Time
	}{
		{"trial", base, day(10), s, StateTrial, day(30), time.Time{}},
		{"trial's last second", base, day(30).Add(-time.Second), s, StateTrial, day(30), time.Time{}},
		{"trial ended", base, day(30), s, StateRetention, day(30), day(210)},
		{"retention's last second", base, day(210).Add(-time.Second), s, StateRetention, day(30), day(210)},
		{"paid during trial", with(func(r *storage.LifecycleRecord) { r.PaidThrough = day(60) }), day(10), s, StateActive, day(60), time.Time{}},
		{"paid, then expired", with(func(r *storage.LifecycleRecord) { r.PaidThrough = day(60) }), day(61), s, StateRetention, day(60), day(240)},
		{"short payment inside the trial", with(func(r *storage.LifecycleRecord) { r.PaidThrough = day(5) }), day(10), s, StateTrial, day(30), time.Time{}},
		{"renewed in retention", with(func(r *storage.LifecycleRecord) { r.PaidThrough = day(100) }), day(70), s, StateActive, day(100), time.Time{}},
		{"pending", with(func(r *storage.LifecycleRecord) { r.Confirmed = time.Time{}; r.TrialEnd = time.Time{} }), day(3), s, StatePending, time.Time{}, day(7)},
		{"pending, lifecycle off", with(func(r *storage.LifecycleRecord) { r.Confirmed = time.Time{}; r.TrialEnd = time.Time{} }), day(30), off, StatePending, time.Time{}, time.Time{}},
		{"permanent", with(func(r *storage.LifecycleRecord) { r.Permanent = true; r.TrialEnd = time.Time{} }), day(5000), s, StateActive, time.Time{}, time.Time{}},
		{"lifecycle off", base, day(5000), off, StateActive, time.Time{}, time.Time{}},
		{"no trial, never paid", with(func(r *storage.LifecycleRecord) { r.TrialEnd = time.Time{} }), day(1), s, StateRetention, day(0), day(180)},
		{"purge decided", with(func(r *storage.LifecycleRecord) { r.Purging = day(40) }), day(40), s, StatePurged, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Compute(tt.r, tt.now, tt.s)
			if st.State != tt.want || !st.Expires.Equal(tt.expires) || !st.DeleteAt.Equal(tt.deleteAt) {
				t.Fatalf("got %s expires %v delete %v; want %s expires %v delete %v", st.State, st.Expires, st.DeleteAt, tt.want, tt.expires, tt.deleteAt)
			}
		})
	}
}

func TestReminderDue(t *testing.T) {
	deadline := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	offs := []time.Duration{Day, 7 * Day}
	tests := []struct {
		now  time.Time
		due  time.Time
		want bool
	}{
		{deadline.Add(-8 * Day), time.Time{}, false},
		{deadline.Add(-7 * Day), deadline.Add(-7 * Day), true},
		{deadline.Add(-2 * Day), deadline.Add(-7 * Day), true},
		{deadline.Add(-Day), deadline.Add(-Day), true},
		{deadline.Add(-time.Second), deadline.Add(-Day), true},
		{deadline, time.Time{}, false},
	}
	for _, tt := range tests {
		due, ok := reminderDue(deadline, tt.now, offs)
		if ok != tt.want || !due.Equal(tt.due) {
			t.Errorf("at %v: %v %v, want %v %v", tt.now, due, ok, tt.due, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * Day, "0d": 0, "36h": 36 * time.Hour, "2s": 2 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1d", "x", "1.5d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}
