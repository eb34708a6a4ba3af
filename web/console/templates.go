package console

import "embed"

// Templates are the console's pages (templates/*.html) and the parts
// only they use (templates/_*.html). Package web hands them to site.New
// beside its own, whose layout they are drawn in. ("all:" keeps the
// parts: a plain directory embed leaves out names starting with "_".)
//
//go:embed all:templates
var Templates embed.FS
