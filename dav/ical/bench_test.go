package ical

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// benchCorpus generates n events over 2020–2026, 15% of them recurring.
func benchCorpus(n int) [][]byte {
	r := rand.New(rand.NewSource(1))
	rules := []string{"RRULE:FREQ=DAILY;COUNT=30", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "RRULE:FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270101T000000Z", "RRULE:FREQ=YEARLY"}
	out := make([][]byte, n)
	for i := range out {
		start := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(r.Intn(6*365*24)) * time.Hour)
		props := []string{
			"BEGIN:VEVENT", fmt.Sprintf("UID:bench-%d", i), "DTSTAMP:20200101T000000Z",
			"DTSTART;TZID=Europe/Berlin:" + start.Format("20060102T150405"),
			"DTEND;TZID=Europe/Berlin:" + start.Add(time.Hour).Format("20060102T150405"),
			"SUMMARY:Event " + fmt.Sprint(i),
		}
		if r.Intn(100) < 15 {
			props = append(props, rules[r.Intn(len(rules))])
		}
		out[i] = []byte(calendar(append(props, "END:VEVENT")...))
	}
	return out
}

// BenchmarkQuery compares a time-range query over 10,000 objects with the
// Summary prefilter (MayOverlap, then Parse+Match on survivors) against
// Parse+Match on every object.
func BenchmarkQuery(b *testing.B) {
	corpus := benchCorpus(10000)
	sums := make([][]byte, len(corpus))
	for i, raw := range corpus {
		obj, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Summarize(obj, nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		sums[i], _ = s.MarshalBinary()
	}
	ranges := map[string]TimeRange{
		"month":     {Start: utc("20240301T000000Z"), End: utc("20240401T000000Z")},
		"startonly": {Start: utc("20250901T000000Z")},
	}
	for _, name := range []string{"month", "startonly"} {
		tr := ranges[name]
		f := &Filter{Comp: CompFilter{Name: "VCALENDAR", Comps: []CompFilter{{Name: "VEVENT", TimeRange: &tr}}}}
		b.Run(name+"/summary", func(b *testing.B) {
			for b.Loop() {
				n := 0
				for i, enc := range sums {
					var s Summary
					if err := s.UnmarshalBinary(enc); err != nil {
						b.Fatal(err)
					}
					if !s.MayOverlap(tr.Start, tr.End) {
						continue
					}
					obj, err := Parse(corpus[i])
					if err != nil {
						b.Fatal(err)
					}
					if ok, err := Match(obj, f, Options{}); err != nil {
						b.Fatal(err)
					} else if ok {
						n++
					}
				}
				_ = n
			}
		})
		b.Run(name+"/full", func(b *testing.B) {
			for b.Loop() {
				for _, raw := range corpus {
					obj, err := Parse(raw)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := Match(obj, f, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
