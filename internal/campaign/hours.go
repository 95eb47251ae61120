package campaign

import (
	"slices"
	"sync"
	"time"
)

// zones caches loaded time zones: the dialer asks for every contact.
var zones sync.Map // name → *time.Location

func loadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// location is where calling hours are evaluated: the contact's zone, else
// the campaign's, else UTC. Unknown names fall through to the next.
func (c Campaign) location(zone string) *time.Location {
	for _, z := range []string{zone, c.CallingHours.TimeZone} {
		if z == "" || z == "Local" {
			continue
		}
		if l, err := loadZone(z); err == nil {
			return l
		}
	}
	return time.UTC
}

// span is a window in seconds of the local day, with its weekdays.
type span struct {
	days       [7]bool
	start, end int64
}

func (c Campaign) spans() []span {
	var out []span
	for _, w := range c.CallingHours.Windows {
		start, ok1 := minutes(w.Start)
		end, ok2 := minutes(w.End)
		if !ok1 || !ok2 || start >= end {
			continue // invalid windows never allow anything
		}
		sp := span{start: int64(start) * 60, end: int64(end) * 60}
		for i, d := range Days {
			sp.days[i] = slices.Contains(w.Days, d)
		}
		out = append(out, sp)
	}
	return out
}

// Allows reports whether a contact in zone (IANA; "" or unknown: the
// campaign's time zone, else UTC) may be called at t. No windows: any time.
// A window allows [start, end) of the local wall clock on its days.
func (c Campaign) Allows(t time.Time, zone string) bool {
	if len(c.CallingHours.Windows) == 0 {
		return true
	}
	lt := t.In(c.location(zone))
	sec := int64(lt.Hour()*3600 + lt.Minute()*60 + lt.Second())
	for _, sp := range c.spans() {
		if sp.days[lt.Weekday()] && sp.start <= sec && sec < sp.end {
			return true
		}
	}
	return false
}

// NextAllowed returns the first instant at or after t when Allows is true
// for a contact in zone: t itself when calls are allowed now, the zero time
// when never (windows that name no day). The dialer sets a timer with it.
func (c Campaign) NextAllowed(t time.Time, zone string) time.Time {
	if len(c.CallingHours.Windows) == 0 {
		return t
	}
	spans := c.spans()
	if len(spans) == 0 {
		return time.Time{}
	}
	loc := c.location(zone)
	// Walk the periods of constant UTC offset (split at DST changes) over
	// the next eight days: windows repeat weekly. Within a period local wall
	// seconds are UTC seconds plus the offset, so each window of each day
	// maps to one interval of instants.
	limit := t.Add(8 * 24 * time.Hour)
	from := t
	for from.Before(limit) {
		lt := from.In(loc)
		_, off := lt.Zone()
		_, zoneEnd := lt.ZoneBounds()
		end := limit
		if !zoneEnd.IsZero() && zoneEnd.Before(limit) {
			end = zoneEnd
		}
		wallFrom := from.Unix() + int64(off)
		wallTo := end.Unix() + int64(off)
		if end.Nanosecond() > 0 {
			wallTo++
		}
		var best int64 = -1
		for day := floorDiv(wallFrom, 86400) * 86400; day < wallTo; day += 86400 {
			wd := time.Unix(day, 0).UTC().Weekday()
			for _, sp := range spans {
				if !sp.days[wd] {
					continue
				}
				lo, hi := max(day+sp.start, wallFrom), min(day+sp.end, wallTo)
				if lo < hi && (best < 0 || lo < best) {
					best = lo
				}
			}
		}
		if best >= 0 {
			if best == wallFrom {
				return from // allowed right now (from may carry sub-seconds)
			}
			return time.Unix(best-int64(off), 0).In(t.Location())
		}
		if !end.After(from) {
			break
		}
		from = end
	}
	return time.Time{}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Retry says whether an attempt with this outcome is dialed again and after
// how long. An outcome without a rule is not retried.
func (c Campaign) Retry(outcome string) (bool, time.Duration) {
	for _, r := range c.RetryRules {
		if r.Outcome == outcome {
			if !r.Retry {
				return false, 0
			}
			return true, time.Duration(r.DelaySeconds) * time.Second
		}
	}
	return false, 0
}
