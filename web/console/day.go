package console

import (
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Days as support types them into the console's date fields.

// endOfDay reads a day (see parseDay) as the last second of that day in
// the rollout's zone.
func endOfDay(st *site.Site, in string) (time.Time, error) {
	if in == "" {
		return time.Time{}, mfagate.Errorf(mfagate.EINVALID, "Enter the last day of the extension")
	}
	d, err := parseDay(in)
	if err != nil {
		return time.Time{}, mfagate.Errorf(mfagate.EINVALID, "%s", dayMessage(err, in, "Enter the date as year-month-day, such as 2027-07-20, or as 20 July 2027"))
	}
	return rollout.EndOfDay(d, st.RolloutLoc()), nil
}

// dayMessage says what is wrong with a day parseDay refused: that the
// calendar has no such day, or else how to write one (format).
func dayMessage(err error, typed, format string) string {
	if errors.Is(err, errNoSuchDay) {
		return "There is no " + strings.Join(strings.Fields(typed), " ") + " in the calendar: check the day of the month"
	}
	return format
}

// dayLayouts are the ways a day may be typed: as a machine writes it, and
// as people do, with the month's name in full or short, in any case.
var dayLayouts = []string{time.DateOnly, "2 January 2006", "2 Jan 2006"}

// parseDay reads a day typed into a date field: "2027-07-20",
// "20 July 2027" or "20 jul 2027". The day is midnight UTC of that date.
func parseDay(in string) (time.Time, error) {
	in = strings.Join(strings.Fields(in), " ")
	if i := strings.IndexFunc(in, unicode.IsLetter); i >= 0 { // "july" → "July": time.Parse wants the case it prints
		j := i + 1
		for j < len(in) && unicode.IsLetter(rune(in[j])) {
			j++
		}
		in = in[:i] + strings.ToUpper(in[i:i+1]) + strings.ToLower(in[i+1:j]) + in[j:]
	}
	var err error
	for _, layout := range dayLayouts {
		var d time.Time
		if d, err = time.Parse(layout, in); err == nil {
			return d, nil
		}
		// Written right, but the month has no such day ("31 June 2027").
		if pe := (*time.ParseError)(nil); errors.As(err, &pe) && pe.Message == ": day out of range" {
			return time.Time{}, errNoSuchDay
		}
	}
	return time.Time{}, err
}

// errNoSuchDay is a day written as parseDay reads it that the calendar
// does not have, such as 31 June or 29 February of a common year.
var errNoSuchDay = errors.New("no such day in the calendar")
