package account

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dav/coffer/storage"
)

// Settings are the lifecycle's policy.
type Settings struct {
	Off       bool            `json:"off"`       // self-hosting: accounts never expire and nothing is purged
	Trial     time.Duration   `json:"trial"`     // length of the free trial
	Retention time.Duration   `json:"retention"` // how long an ended account's data is kept
	Pending   time.Duration   `json:"pending"`   // how long an unconfirmed account is kept
	Reminders []time.Duration `json:"reminders"` // reminder offsets before expiry and before deletion
}

// Day is 24 hours, the unit of the settings.
const Day = 24 * time.Hour

// settingsKey names the stored settings in the database.
const settingsKey = "lifecycle"

// DefaultSettings returns the policy of a lifecycle that is on: a 30-day
// trial, 180 days of retention, unconfirmed accounts removed after 7 days,
// reminders 7 days and 1 day ahead.
func DefaultSettings() Settings {
	return Settings{Trial: 30 * Day, Retention: 180 * Day, Pending: 7 * Day, Reminders: []time.Duration{7 * Day, Day}}
}

// LoadSettings reads the settings stored in the database; configured is
// false when none were ever stored. Until then the lifecycle is off: nothing
// expires or is deleted unless an operator asked for it.
func LoadSettings(ctx context.Context, db storage.Settings) (s Settings, configured bool, err error) {
	s = DefaultSettings()
	v, ok, err := db.Setting(ctx, settingsKey)
	if err != nil || !ok {
		s.Off = true
		return s, false, err
	}
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return DefaultSettings(), false, fmt.Errorf("stored lifecycle settings: %w", err)
	}
	return s, true, nil
}

// SaveSettings stores the settings, so that serve and the CLI agree.
func SaveSettings(ctx context.Context, db storage.Settings, s Settings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return db.PutSetting(ctx, settingsKey, string(b))
}

// ParseDuration reads "30d", "12h" or any Go duration.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q: want a number of days such as 30d, or a duration such as 36h", s)
		}
		return time.Duration(d) * Day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a number of days such as 30d, or a duration such as 36h", s)
	}
	return d, nil
}

// ParseOffsets reads a comma-separated list of durations, e.g. "7d,1d".
func ParseOffsets(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		d, err := ParseDuration(f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
