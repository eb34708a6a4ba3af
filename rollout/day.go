package rollout

import "time"

// StartOfDay is the first moment in loc of the calendar day that date
// falls on in its own location (UTC, for a date read with
// time.DateOnly). Phase starts, extensions and date filters are days read
// this way.
//
// That moment is midnight, except where the clocks jump forward at
// midnight, as Chile's, Cuba's and Paraguay's have: that day has no
// midnight, time.Date gives the hour before it, on the day before, and
// the day starts when the clocks jump.
func StartOfDay(date time.Time, loc *time.Location) time.Time {
	y, m, d := date.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if t.Day() != d {
		_, t = t.ZoneBounds()
	}
	return t
}

// EndOfDay is the last moment in loc, to the millisecond the database
// keeps, of the calendar day date falls on (read as StartOfDay reads it).
// An extension "until 20 July" is stored as this moment of 20 July, so
// that every place that shows it, reading the day of the moment stored,
// names 20 July, and Decide, which lets the person in before it, does so
// through the whole day but its last millisecond.
func EndOfDay(date time.Time, loc *time.Location) time.Time {
	y, m, d := date.Date()
	return StartOfDay(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), loc).Add(-time.Millisecond)
}
