package config_test

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate/config"
)

// TestParseStartAcrossDaylightSaving reads phase starts on the days
// clocks change, in zones north and south, where the change falls after
// midnight, at midnight (the day has no 00:00) and by half an hour: a
// date always means the first moment of that day in the rollout's zone.
// The zones come from time/tzdata, which config links in.
func TestParseStartAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		zone, date string
		want       string // the first moment of the day, in UTC
	}{
		{"Europe/London", "2027-03-28", "2027-03-28T00:00:00Z"},       // clocks go forward at 01:00
		{"Europe/London", "2027-10-31", "2027-10-30T23:00:00Z"},       // back at 02:00: midnight is still summer time
		{"Europe/London", "2027-07-13", "2027-07-12T23:00:00Z"},       // summer
		{"America/New_York", "2027-03-14", "2027-03-14T05:00:00Z"},    // forward at 02:00
		{"America/New_York", "2027-11-07", "2027-11-07T04:00:00Z"},    // back at 02:00
		{"Australia/Sydney", "2027-10-03", "2027-10-02T14:00:00Z"},    // southern spring, forward at 02:00
		{"Australia/Sydney", "2027-04-04", "2027-04-03T13:00:00Z"},    // southern autumn, back at 03:00
		{"Australia/Lord_Howe", "2027-10-03", "2027-10-02T13:30:00Z"}, // forward by half an hour at 02:00
		{"America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00Z"},   // forward at midnight: the day begins at 01:00
		{"Asia/Beirut", "2019-03-31", "2019-03-30T22:00:00Z"},         // forward at midnight
		{"Asia/Beirut", "2019-10-27", "2019-10-26T22:00:00Z"},         // back at midnight to 23:00: the last hour before the day comes twice
		{"Asia/Kolkata", "2027-03-28", "2027-03-27T18:30:00Z"},        // no daylight saving, half-hour offset
		{"UTC", "2027-03-28", "2027-03-28T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.date, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := config.ParseStart(tt.date, loc)
			if !ok {
				t.Fatalf("ParseStart(%q) refused it", tt.date)
			}
			if want, _ := time.Parse(time.RFC3339, tt.want); !got.Equal(want) {
				t.Errorf("ParseStart(%q) in %s = %s, want %s", tt.date, tt.zone, got.UTC().Format(time.RFC3339), tt.want)
			}
			// What "first moment" means, whatever the table says: the
			// instant is on that date there, and the one before is not.
			if d := got.In(loc).Format(time.DateOnly); d != tt.date {
				t.Errorf("the start falls on %s in %s, want %s", d, tt.zone, tt.date)
			}
			if d := got.Add(-time.Nanosecond).In(loc).Format(time.DateOnly); d == tt.date {
				t.Errorf("a moment before the start is still %s in %s: it is not the day's first", d, tt.zone)
			}
		})
	}

	// A time with its offset is taken as it is, whatever the zone.
	london, _ := time.LoadLocation("Europe/London")
	got, ok := config.ParseStart("2027-03-28T01:30:00+01:00", london)
	if want := time.Date(2027, 3, 28, 0, 30, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("an RFC 3339 time: got %v, %v; want %v", got, ok, want)
	}
	for _, bad := range []string{"2027-02-29", "2027-13-01", "28/03/2027", "2027-03-28T25:00:00Z", ""} {
		if _, ok := config.ParseStart(bad, london); ok {
			t.Errorf("ParseStart(%q) took it, want it refused", bad)
		}
	}
}
