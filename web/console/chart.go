package console

import (
	"fmt"
	"strings"

	"github.com/mfagate/mfagate"
)

// The progress chart: one horizontal stacked bar per role, drawn on the
// server as inline SVG (no script, and presentation attributes rather
// than style attributes, which the CSP forbids). It repeats the table's
// numbers; the table stays the reference. Colours come from a palette
// that stays distinct with the common colour-vision deficiencies, and are
// never the only cue: the "not set up" part is also hatched, every part
// wide enough carries its percentage, every part has a tooltip, the
// legend names each part in text, and <desc> says it all in words.

// segmentKind is one part of a bar, in drawing order.
type segmentKind struct {
	Key     string
	Label   string
	Fill    string // a colour, or a pattern reference
	Swatch  string // the legend's colour
	Hatched bool
}

var segmentKinds = []segmentKind{
	{Key: "both", Label: "Both methods", Fill: "#009e73", Swatch: "#009e73"},
	{Key: "email", Label: "Email codes only", Fill: "#56b4e9", Swatch: "#56b4e9"},
	{Key: "totp", Label: "Authenticator app only", Fill: "#e69f00", Swatch: "#e69f00"},
	{Key: "none", Label: "Not set up", Fill: "url(#hatch-none)", Swatch: "#f3f4f6", Hatched: true},
}

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartWidth   = 400
	chartLabelH  = 22
	chartBarH    = 30
	chartGap     = 14
	chartRowH    = chartLabelH + chartBarH + chartGap
	minLabelW    = 40 // narrower parts carry no percentage text
	chartPadding = 2
)

type barChart struct {
	Width, Height int
	Bars          []chartBar
	Desc          string
}

type chartBar struct {
	Label       string // "admin: 100 people"
	LabelY      int
	Y, H, Width int // the outline
	Segments    []chartSegment
	Empty       bool
}

type chartSegment struct {
	X, Y, W, H int
	Fill       string
	Title      string // tooltip: "admin, both methods: 12 of 100 (12%)"
	Text       string // the percentage, when it fits
	TextX      int
	TextY      int
	Hatched    bool
}

func newBarChart(rows []progressRow) barChart {
	c := barChart{Width: chartWidth, Height: max(len(rows), 1)*chartRowH + chartPadding}
	var desc []string
	inner := chartWidth - 2*chartPadding
	for i, r := range rows {
		y := i * chartRowH
		b := chartBar{
			Label: fmt.Sprintf("%s: %s", r.Role, mfagate.Plural(r.Total, "person", "people")), LabelY: y + chartLabelH - 6,
			Y: y + chartLabelH, H: chartBarH, Width: inner, Empty: r.Total == 0,
		}
		counts := []countCell{r.Both, r.Email, r.TOTP, r.None}
		var parts []string
		x, done := 0, 0
		for k, kind := range segmentKinds {
			n := counts[k].N
			parts = append(parts, fmt.Sprintf("%s %d (%s)", strings.ToLower(kind.Label), n, counts[k].Pct))
			if n == 0 || r.Total == 0 {
				continue
			}
			done += n
			// The end of each part is rounded from the running total, so
			// the parts always add up to the whole bar.
			end := done * inner / r.Total
			sg := chartSegment{X: chartPadding + x, Y: b.Y, W: end - x, H: chartBarH, Fill: kind.Fill, Hatched: kind.Hatched,
				Title: fmt.Sprintf("%s, %s: %d of %d (%s)", r.Role, strings.ToLower(kind.Label), n, r.Total, counts[k].Pct)}
			if sg.W >= minLabelW {
				sg.Text, sg.TextX, sg.TextY = counts[k].Pct, sg.X+sg.W/2, b.Y+chartBarH/2+5
			}
			b.Segments = append(b.Segments, sg)
			x = end
		}
		c.Bars = append(c.Bars, b)
		desc = append(desc, fmt.Sprintf("%s, %s: %s.", r.Role, mfagate.Plural(r.Total, "person", "people"), strings.Join(parts, ", ")))
	}
	if len(rows) == 0 {
		desc = append(desc, "No accounts yet.")
	}
	c.Desc = strings.Join(desc, " ")
	return c
}
