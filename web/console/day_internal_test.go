package console

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDay(t *testing.T) {
	want := time.Date(2027, 7, 20, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2027-07-20", "20 July 2027", "20 july 2027", "20 JULY 2027", "20 Jul 2027", "  20   July   2027 "} {
		if got, err := parseDay(in); err != nil || !got.Equal(want) {
			t.Errorf("parseDay(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "20/07/2027", "2027-7-20", "31 June 2027", "July 20 2027", "20 Julyy 2027", "20 Jüly 2027", "2027-07-20x"} {
		if got, err := parseDay(in); err == nil {
			t.Errorf("parseDay(%q) = %v, want an error", in, got)
		}
	}
}

func TestNoSuchDayIsSaid(t *testing.T) {
	for _, in := range []string{"31 June 2027", "2027-02-29", "30 feb 2028"} {
		if _, err := parseDay(in); !errors.Is(err, errNoSuchDay) {
			t.Errorf("parseDay(%q) = %v, want errNoSuchDay", in, err)
		}
		if msg := dayMessage(errNoSuchDay, " "+in, "format"); !strings.Contains(msg, "There is no "+in+" in the calendar") {
			t.Errorf("the message for %q is %q", in, msg)
		}
	}
	for _, in := range []string{"20/07/2027", "July 20 2027", "2027-13-01"} {
		if _, err := parseDay(in); err == nil || errors.Is(err, errNoSuchDay) {
			t.Errorf("parseDay(%q) = %v, want a format error", in, err)
		}
	}
}
