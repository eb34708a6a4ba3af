// Package e2e holds mfagate's browser journeys: each test starts the real
// program in-process (cli.Run "demo" on 127.0.0.1:0 with a fresh data
// folder), drives a real headless Chromium through a task with chromedp,
// and checks what a person sees: headings, messages, fields and cookies.
// The rollout journeys (phases_test.go) start the demo at a rehearsal
// clock (--clock DATE --rehearsal) and restart it on the same data folder
// at a later one, to see what a person meets on each date.
//
// The journeys need Chromium (Debian's chromium package). Without it they
// are skipped with a message saying so; the plain HTTP checks still run.
//
// The package has no code outside its tests. It must not reach into the
// program's internals: everything goes through the command line entry point,
// HTTP and the browser, as a person and an operator would.
//
// Set MFAGATE_E2E_ARTIFACTS to a folder to keep a screenshot and the HTML of
// the page of each failed journey there; otherwise they go to the test's
// artifact folder (kept with "go test -artifacts").
package e2e
