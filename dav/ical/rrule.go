package ical

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// freq is an RRULE FREQ value (RFC 5545 section 3.3.10).
type freq int

// byDay is one BYDAY element: an optional ordinal and a weekday.
type byDay struct {
	n  int
	wd time.Weekday
}

// rrule is a parsed recurrence rule (RFC 5545 section 3.3.10). UNTIL is kept
// raw because its meaning depends on the DTSTART it is anchored to.
type rrule struct {
	freq       freq
	interval   int
	count      int
	until      string
	byMonth    []int
	byWeekNo   []int
	byYearDay  []int
	byMonthDay []int
	byDay      []byDay
	byHour     []int
	byMinute   []int
	bySecond   []int
	bySetPos   []int
	wkst       time.Weekday
}

// ruleIter is the expansion state of one rule anchored at a DTSTART.
type ruleIter struct {
	r        *rrule
	freq     freq      // effective frequency (DAILY for sub-daily rules on DATE values)
	start    time.Time // DTSTART wall time
	months   []int
	mdays    []int
	days     []byDay
	times    []int // seconds of day, for FREQ=DAILY and coarser
	hours    []int
	minutes  []int
	seconds  []int
	hasNth   bool
	until    time.Time // wall-time bound, zero for none
	b        *budget
	produced int
}

// Frequencies, finest first.
const (
	freqSecondly freq = iota
	freqMinutely
	freqHourly
	freqDaily
	freqWeekly
	freqMonthly
	freqYearly
)

// Parser bounds for RRULE values.
const (
	maxRuleList     = 1000
	maxRuleInterval = 1000000
	maxYear         = 9999
)

var weekdayNames = map[string]time.Weekday{
	"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday,
}

var freqNames = map[string]freq{
	"SECONDLY": freqSecondly, "MINUTELY": freqMinutely, "HOURLY": freqHourly, "DAILY": freqDaily,
	"WEEKLY": freqWeekly, "MONTHLY": freqMonthly, "YEARLY": freqYearly,
}

// parseRRule parses an RRULE value such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.
func parseRRule(s string) (*rrule, error) {
	bad := func(what string) error { return dataErrorf("invalid RRULE: %s", what) }
	r := &rrule{interval: 1, wkst: time.Monday, freq: -1}
	seen := map[string]bool{}
	for _, part := range strings.Split(strings.TrimSpace(s), ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return nil, bad("malformed part")
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		v = strings.ToUpper(strings.TrimSpace(v))
		if seen[k] {
			return nil, bad("repeated " + k)
		}
		seen[k] = true
		var err error
		switch k {
		case "FREQ":
			f, ok := freqNames[v]
			if !ok {
				return nil, bad("unknown FREQ")
			}
			r.freq = f
		case "INTERVAL":
			r.interval, err = strconv.Atoi(v)
			if err != nil || r.interval < 1 || r.interval > maxRuleInterval {
				return nil, bad("INTERVAL out of range")
			}
		case "COUNT":
			r.count, err = strconv.Atoi(v)
			if err != nil || r.count < 1 {
				return nil, bad("COUNT out of range")
			}
		case "UNTIL":
			if _, _, _, ok := parseCivil(v); !ok {
				return nil, bad("UNTIL is not a date or date-time")
			}
			r.until = v
		case "WKST":
			wd, ok := weekdayNames[v]
			if !ok {
				return nil, bad("unknown WKST")
			}
			r.wkst = wd
		case "BYSECOND":
			r.bySecond, err = intList(v, 0, 60, false)
		case "BYMINUTE":
			r.byMinute, err = intList(v, 0, 59, false)
		case "BYHOUR":
			r.byHour, err = intList(v, 0, 23, false)
		case "BYMONTHDAY":
			r.byMonthDay, err = intList(v, 1, 31, true)
		case "BYYEARDAY":
			r.byYearDay, err = intList(v, 1, 366, true)
		case "BYWEEKNO":
			r.byWeekNo, err = intList(v, 1, 53, true)
		case "BYMONTH":
			r.byMonth, err = intList(v, 1, 12, false)
		case "BYSETPOS":
			r.bySetPos, err = intList(v, 1, 366, true)
		case "BYDAY":
			r.byDay, err = dayList(v)
		default:
			// Unknown and extension rule parts are ignored.
		}
		if err != nil {
			return nil, bad(k)
		}
	}
	if r.freq < 0 {
		return nil, bad("FREQ is required")
	}
	if r.count > 0 && r.until != "" {
		return nil, bad("COUNT and UNTIL together")
	}
	for i, s := range r.bySecond {
		if s == 60 {
			r.bySecond[i] = 59 // leap second: clamp
		}
	}
	r.bySecond = sortUniq(r.bySecond)
	return r, nil
}

// intList parses a comma list of integers within [lo,hi] (or its negation
// when signed is true).
func intList(v string, lo, hi int, signed bool) ([]int, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxRuleList {
		return nil, strconv.ErrRange
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimPrefix(p, "+"))
		if err != nil {
			return nil, err
		}
		a := n
		if signed && a < 0 {
			a = -a
		}
		if a < lo || a > hi {
			return nil, strconv.ErrRange
		}
		out = append(out, n)
	}
	return sortUniq(out), nil
}

// dayList parses a BYDAY list such as MO,-1FR,+2SU.
func dayList(v string) ([]byDay, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxRuleList {
		return nil, strconv.ErrRange
	}
	out := make([]byDay, 0, len(parts))
	for _, p := range parts {
		if len(p) < 2 {
			return nil, strconv.ErrSyntax
		}
		wd, ok := weekdayNames[p[len(p)-2:]]
		if !ok {
			return nil, strconv.ErrSyntax
		}
		n := 0
		if num := p[:len(p)-2]; num != "" {
			var err error
			n, err = strconv.Atoi(strings.TrimPrefix(num, "+"))
			if err != nil || n == 0 || n > 53 || n < -53 {
				return nil, strconv.ErrRange
			}
		}
		out = append(out, byDay{n: n, wd: wd})
	}
	return out, nil
}

// sortUniq sorts and deduplicates a list in place.
func sortUniq(l []int) []int {
	slices.Sort(l)
	return slices.Compact(l)
}

// iter prepares expansion of r for a DTSTART wall time. until is the UNTIL
// bound already converted to DTSTART's wall clock (zero for none).
func (r *rrule) iter(start time.Time, dateOnly bool, until time.Time, b *budget) *ruleIter {
	it := &ruleIter{r: r, freq: r.freq, start: start, until: until, b: b}
	if dateOnly && it.freq < freqDaily {
		it.freq = freqDaily
	}
	it.months, it.mdays, it.days = r.byMonth, r.byMonthDay, r.byDay
	if len(r.byWeekNo) == 0 && len(r.byYearDay) == 0 && len(r.byMonthDay) == 0 && len(r.byDay) == 0 {
		switch r.freq {
		case freqYearly:
			if len(it.months) == 0 {
				it.months = []int{int(start.Month())}
			}
			it.mdays = []int{start.Day()}
		case freqMonthly:
			it.mdays = []int{start.Day()}
		case freqWeekly:
			it.days = []byDay{{wd: start.Weekday()}}
		}
	}
	for _, d := range it.days {
		if d.n != 0 {
			it.hasNth = true
		}
	}
	pick := func(l []int, def int) []int {
		if len(l) == 0 || dateOnly {
			return []int{def}
		}
		return l
	}
	it.hours = pick(r.byHour, start.Hour())
	it.minutes = pick(r.byMinute, start.Minute())
	it.seconds = pick(r.bySecond, start.Second())
	for _, h := range it.hours {
		for _, m := range it.minutes {
			for _, s := range it.seconds {
				it.times = append(it.times, h*3600+m*60+s)
			}
		}
	}
	slices.Sort(it.times)
	return it
}

// each calls emit with the occurrences of the rule in ascending wall time,
// beginning no later than the first occurrence at or after from (zero: from
// DTSTART) and ending when emit returns false, the rule ends, an
// occurrence passes limit (zero: none) or the budget is exhausted
// (it.b.err is then set).
func (it *ruleIter) each(from, limit time.Time, emit func(time.Time) bool) {
	r := it.r
	f := it.freq
	done := false
	handle := func(c time.Time) bool {
		if c.Before(it.start) {
			return true
		}
		if !it.until.IsZero() && c.After(it.until) {
			done = true
			return false
		}
		if r.count > 0 {
			it.produced++
			if it.produced > r.count {
				done = true
				return false
			}
		}
		if !limit.IsZero() && c.After(limit) {
			done = true
			return false
		}
		if !from.IsZero() && c.Before(from) {
			// Skipped instances still count: COUNT rules are walked from DTSTART.
			if !it.b.instance() {
				done = true
				return false
			}
			return true
		}
		if !it.b.step(1) {
			done = true
			return false
		}
		if !emit(c) {
			done = true
			return false
		}
		return true
	}
	skip := r.count == 0 && !from.IsZero() && from.After(it.start)
	stop := it.until
	if !limit.IsZero() && (stop.IsZero() || limit.Before(stop)) {
		stop = limit
	}
	var days []time.Time
	if f >= freqDaily {
		it.periods(f, skip, from, stop, &days, handle, &done)
		return
	}
	it.subDaily(f, skip, from, stop, handle, &done)
}

// periods walks YEARLY, MONTHLY, WEEKLY and DAILY periods.
func (it *ruleIter) periods(f freq, skip bool, from, stop time.Time, days *[]time.Time, handle func(time.Time) bool, done *bool) {
	r := it.r
	y0, m0, _ := it.start.Date()
	d0 := truncDay(it.start)
	ws0 := d0.AddDate(0, 0, -((int(d0.Weekday()) - int(r.wkst) + 7) % 7))
	k := 0
	if skip {
		switch f {
		case freqYearly:
			k = (from.Year()-y0)/r.interval - 1
		case freqMonthly:
			k = ((from.Year()*12+int(from.Month()))-(y0*12+int(m0)))/r.interval - 1
		case freqWeekly:
			k = int(truncDay(from).Sub(ws0)/(24*time.Hour))/7/r.interval - 1
		case freqDaily:
			k = int(truncDay(from).Sub(d0)/(24*time.Hour))/r.interval - 1
		}
		k = max(k, 0)
	}
	for ; !*done; k++ {
		if !it.b.step(1) {
			return
		}
		*days = (*days)[:0]
		var a, z time.Time // scan range of the period
		year := 0
		switch f {
		case freqYearly:
			year = y0 + k*r.interval
			if year > maxYear {
				return
			}
			a = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
			z = a.AddDate(1, 0, 0)
			if len(r.byWeekNo) > 0 {
				a, z = week1Start(year, r.wkst), week1Start(year+1, r.wkst)
			}
		case freqMonthly:
			mi := y0*12 + int(m0) - 1 + k*r.interval
			year = mi / 12
			if year > maxYear {
				return
			}
			a = time.Date(year, time.Month(mi%12+1), 1, 0, 0, 0, 0, time.UTC)
			z = a.AddDate(0, 1, 0)
		case freqWeekly:
			a = addDays(ws0, k*r.interval*7)
			z = addDays(a, 7)
			year = a.Year()
		default:
			a = addDays(d0, k*r.interval)
			z = addDays(a, 1)
			year = a.Year()
		}
		if year > maxYear || (!stop.IsZero() && a.After(stop)) {
			return
		}
		if f == freqYearly && len(r.byWeekNo) == 0 && len(r.byYearDay) == 0 && len(it.months) > 0 {
			for _, m := range it.months {
				ma := time.Date(year, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
				if !it.scanDays(ma, ma.AddDate(0, 1, 0), year, days) {
					return
				}
			}
		} else if !it.scanDays(a, z, year, days) {
			return
		}
		it.emitPeriod(*days, it.times, handle)
	}
}

// subDaily walks HOURLY, MINUTELY and SECONDLY periods.
func (it *ruleIter) subDaily(f freq, skip bool, from, stop time.Time, handle func(time.Time) bool, done *bool) {
	r := it.r
	unit := int64(1)
	switch f {
	case freqHourly:
		unit = 3600
	case freqMinutely:
		unit = 60
	}
	step := unit * int64(r.interval)
	base := it.start.Unix()
	limitSec := time.Date(maxYear, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	k := int64(0)
	if skip {
		k = max((from.Unix()-base)/step-1, 0)
	}
	jump := func(next time.Time) int64 {
		return (next.Unix() - base + step - 1) / step
	}
	var day [1]time.Time
	var times []int
	for !*done {
		if !it.b.step(1) {
			return
		}
		ps := base + k*step
		if ps > limitSec {
			return
		}
		p := time.Unix(ps, 0).UTC()
		if !stop.IsZero() && p.After(stop) {
			return
		}
		d := truncDay(p)
		if !it.dayOK(d, d.Year()) {
			k = jump(addDays(d, 1))
			continue
		}
		h, mi, s := p.Clock()
		if len(r.byHour) > 0 && !slices.Contains(r.byHour, h) {
			k = max(k+1, jump(d.Add(time.Duration(h+1)*time.Hour)))
			continue
		}
		if f <= freqMinutely && len(r.byMinute) > 0 && !slices.Contains(r.byMinute, mi) {
			k = max(k+1, jump(d.Add(time.Duration(h*60+mi+1)*time.Minute)))
			continue
		}
		if f == freqSecondly && len(r.bySecond) > 0 && !slices.Contains(r.bySecond, s) {
			k++
			continue
		}
		times = times[:0]
		switch f {
		case freqHourly:
			for _, m := range it.minutes {
				for _, sec := range it.seconds {
					times = append(times, h*3600+m*60+sec)
				}
			}
		case freqMinutely:
			for _, sec := range it.seconds {
				times = append(times, h*3600+mi*60+sec)
			}
		default:
			times = append(times, h*3600+mi*60+s)
		}
		day[0] = d
		it.emitPeriod(day[:], times, handle)
		k++
	}
}

// emitPeriod hands the candidates of one period (days × times, ascending) to
// handle, applying BYSETPOS when present.
func (it *ruleIter) emitPeriod(days []time.Time, times []int, handle func(time.Time) bool) {
	n := len(days) * len(times)
	if n == 0 {
		return
	}
	at := func(i int) time.Time {
		return days[i/len(times)].Add(time.Duration(times[i%len(times)]) * time.Second)
	}
	if len(it.r.bySetPos) == 0 {
		if !it.b.step(n / 8) {
			return
		}
		for i := 0; i < n; i++ {
			if !handle(at(i)) {
				return
			}
		}
		return
	}
	var idx []int
	for _, p := range it.r.bySetPos {
		switch {
		case p > 0 && p <= n:
			idx = append(idx, p-1)
		case p < 0 && -p <= n:
			idx = append(idx, n+p)
		}
	}
	for _, i := range sortUniq(idx) {
		if !handle(at(i)) {
			return
		}
	}
}

// scanDays appends to days the days in [a,z) that pass the day filters;
// year is the period's year for week numbering. It returns false when the
// budget runs out.
func (it *ruleIter) scanDays(a, z time.Time, year int, days *[]time.Time) bool {
	n := int(z.Sub(a) / (24 * time.Hour))
	if !it.b.step(n) {
		return false
	}
	for d := a; d.Before(z); d = d.Add(24 * time.Hour) {
		if it.dayOK(d, year) {
			*days = append(*days, d)
		}
	}
	return true
}

// dayOK reports whether day d passes BYMONTH, BYWEEKNO, BYYEARDAY,
// BYMONTHDAY and BYDAY; year is the period year used for week numbers.
func (it *ruleIter) dayOK(d time.Time, year int) bool {
	r := it.r
	y, m, md := d.Date()
	if len(it.months) > 0 && !slices.Contains(it.months, int(m)) {
		return false
	}
	if len(r.byWeekNo) > 0 {
		wy := year
		if r.freq != freqYearly {
			wy = weekYear(d, r.wkst)
		}
		a, z := week1Start(wy, r.wkst), week1Start(wy+1, r.wkst)
		if d.Before(a) || !d.Before(z) {
			return false
		}
		idx := int(d.Sub(a)/(24*time.Hour))/7 + 1
		nw := int(z.Sub(a)/(24*time.Hour)) / 7
		if !slices.Contains(r.byWeekNo, idx) && !slices.Contains(r.byWeekNo, idx-nw-1) {
			return false
		}
	}
	diy := 365
	if daysIn(y, time.February) == 29 {
		diy = 366
	}
	yd := d.YearDay()
	if len(r.byYearDay) > 0 && !slices.Contains(r.byYearDay, yd) && !slices.Contains(r.byYearDay, yd-diy-1) {
		return false
	}
	dim := daysIn(y, m)
	if len(it.mdays) > 0 && !slices.Contains(it.mdays, md) && !slices.Contains(it.mdays, md-dim-1) {
		return false
	}
	if len(it.days) == 0 {
		return true
	}
	wd := d.Weekday()
	inMonth := r.freq == freqMonthly || (r.freq == freqYearly && len(r.byMonth) > 0)
	nthOK := (r.freq == freqMonthly || r.freq == freqYearly) && len(r.byWeekNo) == 0
	for _, bd := range it.days {
		if bd.wd != wd {
			continue
		}
		if bd.n == 0 || !nthOK {
			return true
		}
		var pos, neg int
		if inMonth {
			pos, neg = (md-1)/7+1, -((dim-md)/7 + 1)
		} else {
			pos, neg = (yd-1)/7+1, -((diy-yd)/7 + 1)
		}
		if bd.n == pos || bd.n == neg {
			return true
		}
	}
	return false
}

// week1Start returns the first day of week 1 of year y: the week starting on
// wkst that holds at least four days of y (RFC 5545 BYWEEKNO).
func week1Start(y int, wkst time.Weekday) time.Time {
	jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	off := (int(jan1.Weekday()) - int(wkst) + 7) % 7
	ws := addDays(jan1, -off)
	if 7-off < 4 {
		ws = addDays(ws, 7)
	}
	return ws
}

// weekYear returns the week-numbering year that day d belongs to.
func weekYear(d time.Time, wkst time.Weekday) int {
	y := d.Year()
	if !d.Before(week1Start(y+1, wkst)) {
		return y + 1
	}
	if d.Before(week1Start(y, wkst)) {
		return y - 1
	}
	return y
}

// truncDay returns midnight of t's civil day (t is a neutral UTC wall time).
func truncDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// addDays adds n civil days to a neutral UTC wall time.
func addDays(t time.Time, n int) time.Time {
	return time.Unix(t.Unix()+int64(n)*86400, 0).UTC()
}
