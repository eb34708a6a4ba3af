package cli_test

// Reading the dashboard and the alert files of examples/: their queries,
// their rules, and the metric names a PromQL expression reads.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// dashboardQueries reads a Grafana dashboard: each panel's queries and
// each template variable's, by where they are.
func dashboardQueries(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID, Title string
		Panels     []dashboardPanel
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query any
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: want a uid, a title and panels", path)
	}
	out := map[string]string{}
	var walk func(ps []dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", path, p.Title)
			}
			for _, q := range p.Targets {
				out[fmt.Sprintf("panel %q query %s", p.Title, q.RefID)] = q.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		out["variable "+v.Name] = q
	}
	return out
}

type dashboardPanel struct {
	Title, Type string
	Targets     []struct {
		RefID string `json:"refId"`
		Expr  string
	}
	Panels []dashboardPanel // a collapsed row's
}

// alertRule is one rule of a Prometheus rules file.
type alertRule struct {
	Alert, Expr, For    string
	Labels, Annotations map[string]string
}

func alertRules(t *testing.T, path string) []alertRule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// firingInTests lists the alerts a promtool test file expects to fire at
// least once.
func firingInTests(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]bool{}
	for _, tg := range f.Tests {
		for _, a := range tg.AlertRuleTest {
			out[a.Alertname] = out[a.Alertname] || len(a.ExpAlerts) > 0
		}
	}
	return out
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	labelValues  = regexp.MustCompile(`^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)`)
	promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
		"and", "or", "unless", "inf", "nan", "e"}
)

// metricNames returns the metric names a PromQL expression (or Grafana's
// label_values) reads: what is left of it once strings, label matchers,
// ranges, grouping clauses, function names, keywords and numbers are
// taken out.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	if strings.HasPrefix(expr, "label_values(") {
		m := labelValues.FindStringSubmatch(expr)
		if m == nil {
			t.Errorf("cannot read the metric of %q", expr)
			return nil
		}
		return []string{m[1]}
	}
	rest := promString.ReplaceAllString(expr, `""`)
	rest = promMatchers.ReplaceAllString(rest, " ")
	rest = promRange.ReplaceAllString(rest, " ")
	rest = promGrouping.ReplaceAllString(rest, " ")
	var names []string
	for _, m := range promIdent.FindAllStringIndex(rest, -1) {
		tok := rest[m[0]:m[1]]
		if strings.HasSuffix(tok, "(") || (m[0] > 0 && (rest[m[0]-1] >= '0' && rest[m[0]-1] <= '9' || rest[m[0]-1] == '.')) {
			continue // a function or aggregation, or the exponent of a number
		}
		tok = strings.TrimSpace(tok)
		if slices.Contains(promKeywords, strings.ToLower(tok)) {
			continue
		}
		names = append(names, tok)
	}
	if len(names) == 0 {
		t.Errorf("no metric found in %q", expr)
	}
	return names
}
