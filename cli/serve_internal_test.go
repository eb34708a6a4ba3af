package cli

import (
	"errors"
	"testing"
	"time"
)

// FuzzParseTime: the command line's dates and times (--clock, --at,
// --until) are refused as a usage error or read as a time from 1970 on
// that prints and reads back as itself, a date as that day's first
// moment in the rollout's zone.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2027-07-13", "2027-07-13T09:00:00+01:00", "2027-07-13T09:00:00Z", "2027-07-13T09:00:00.5Z",
		"2027-02-30", "2027-7-13", "13/07/2027", "2027-07-13 09:00", "2027-07-13T9:00:00Z", "",
		"0001-01-01", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59",
	} {
		for zone := range uint8(3) {
			f.Add(s, zone)
		}
	}
	var zones []*time.Location
	for _, name := range []string{"UTC", "Europe/Berlin", "America/Santiago"} {
		if loc, err := time.LoadLocation(name); err == nil {
			zones = append(zones, loc)
		}
	}
	f.Fuzz(func(t *testing.T, s string, zone uint8) {
		loc := zones[int(zone)%len(zones)]
		got, err := parseTime(s, loc)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseTime(%q) = %v (%T), want a usage error", s, err, err)
			}
			return
		}
		back, err := time.Parse(time.RFC3339Nano, got.Format(time.RFC3339Nano))
		if got.IsZero() || got.UTC().Year() < 1970 || err != nil || !back.Equal(got) {
			t.Fatalf("parseTime(%q) = %v, want a time from 1970 on that reads back as itself (%v)", s, got, err)
		}
		if len(s) == len(time.DateOnly) {
			if day := got.In(loc); day.Format(time.DateOnly) != s || day.Add(-time.Nanosecond).Format(time.DateOnly) == s {
				t.Fatalf("parseTime(%q) in %v = %v, want the first moment of that day", s, loc, day)
			}
		}
	})
}
