// Package webtest helps tests read what package web serves to machines:
// the Prometheus text of /metrics, whether web serves it on its main
// listener or on server.metrics_addr. It is for tests only.
package webtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples reads a Prometheus text exposition into each sample's name and
// labels, as printed (`mfagate_ready`, `mfagate_signins_total{method="email",outcome="success"}`,
// histograms' _bucket, _sum and _count lines), and its value. The text
// must parse as Prometheus's own parser reads it: a malformed exposition
// fails the test, as a scraper would refuse it.
func Samples(tb testing.TB, body string) map[string]float64 {
	tb.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(strings.NewReader(body)); err != nil {
		tb.Fatalf("the metrics are not valid Prometheus text: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			tb.Fatalf("not a sample: %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			tb.Fatalf("not a sample: %q", line)
		}
		out[line[:i]] = v
	}
	return out
}
