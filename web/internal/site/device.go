package site

import (
	"strings"
	"time"

	"github.com/mfagate/mfagate"
)

// Devices and times as people say them: "Chrome on Linux" for a
// user-agent string, "5 minutes ago" for a time.

// browsers are recognised in this order: several browsers name others in
// their user-agent strings (Edge says Chrome and Safari, Chrome says
// Safari), so the most specific comes first.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
	{"Safari/", "Safari"},
	{"curl/", "curl"},
}

var systems = []struct{ token, name string }{
	{"iPhone", "an iPhone"}, {"iPad", "an iPad"}, {"Android", "Android"},
	{"CrOS", "ChromeOS"}, {"Windows", "Windows"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

// Device names the browser and system of a user-agent string, as in
// "Chrome on Linux", "Safari on an iPhone"; "Unknown browser" when it
// names neither.
func Device(ua string) string {
	browser, system := "", ""
	for _, b := range browsers {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return "Unknown browser"
}

// Ago says how long before now t was, roughly, as people say it: "just
// now", "5 minutes ago", "3 hours ago", "2 days ago".
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return mfagate.Plural(int(d/time.Minute), "minute", "minutes") + " ago"
	case d < 48*time.Hour:
		return mfagate.Plural(int(d/time.Hour), "hour", "hours") + " ago"
	}
	return mfagate.Plural(int(d/(24*time.Hour)), "day", "days") + " ago"
}
