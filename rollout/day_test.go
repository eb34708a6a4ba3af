package rollout

import (
	"testing"
	"time"
	_ "time/tzdata" // every zone resolves, with or without the machine's zoneinfo
)

func TestStartOfDay(t *testing.T) {
	tests := []struct {
		name, zone, date, want string
	}{
		{"UTC", "UTC", "2027-07-13", "2027-07-13T00:00:00Z"},
		{"summer time", "Europe/Berlin", "2027-07-13", "2027-07-13T00:00:00+02:00"},
		{"clocks go forward at 02:00", "Europe/Berlin", "2027-03-28", "2027-03-28T00:00:00+01:00"},
		{"clocks go forward at midnight", "America/Santiago", "2027-09-05", "2027-09-05T01:00:00-03:00"},
		{"the day after", "America/Santiago", "2027-09-06", "2027-09-06T00:00:00-03:00"},
		{"clocks go back at midnight", "America/Santiago", "2027-04-04", "2027-04-04T00:00:00-04:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatalf("load %s: %v", tt.zone, err)
			}
			date, _ := time.Parse(time.DateOnly, tt.date)
			if got := StartOfDay(date, loc).Format(time.RFC3339); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
