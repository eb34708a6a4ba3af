package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mfagate/mfagate/mail/mailtest"
)

const (
	// browserTimeout bounds one journey, from starting Chromium to the
	// last check. Most take a few seconds; those that wait for an
	// authenticator app's next code, or take screenshots of many pages,
	// take up to a minute alone, and longer with the other packages'
	// tests running beside them on two cores.
	browserTimeout = 3 * time.Minute
	// stepTimeout bounds one step of a journey, such as waiting for an
	// element, so that a missing element fails the test quickly.
	stepTimeout = 15 * time.Second
	// closeTimeout bounds how long closing the browser may take.
	closeTimeout = 10 * time.Second
	// artifactsEnv names the folder that keeps what failed journeys saw.
	artifactsEnv = "MFAGATE_E2E_ARTIFACTS"
)

// chromiumFlags are the only flags the journeys give Chromium, besides
// --user-data-dir (and the --remote-debugging-pipe that chromedp adds to
// talk to it). Together they keep the browser from reaching the network
// on its own: no QUIC, no background requests, no component updates, no
// sync.
var chromiumFlags = []string{
	"headless",
	"no-sandbox",
	"disable-gpu",
	"disable-quic",
	"no-first-run",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
}

// debianChromium is the binary behind Debian's /usr/bin/chromium, a shell
// script that adds flags of its own (--enable-remote-extensions,
// --load-extension=, --enable-gpu-rasterization…) and Google API keys to
// the environment. The journeys run the binary itself, so that Chromium
// gets only chromiumFlags.
const debianChromium = "/usr/lib/chromium/chromium"

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			return ""
		}
		exe = "/usr/bin/chromium"
	}
	if isScript(exe) {
		if fi, err := os.Stat(debianChromium); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return debianChromium
		}
	}
	return exe
}

// isScript reports whether the file at path starts with "#!".
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := io.ReadFull(f, head)
	return n == 2 && string(head) == "#!"
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of its first tab, with a deadline of browserTimeout. It
// skips the test when no Chromium is installed. When the test ends the
// browser is closed; if the test failed, a screenshot and the HTML of the
// page are kept first (see saveArtifacts).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := findChromium()
	if exe == "" {
		if os.Getenv("MFAGATE_E2E_REQUIRED") != "" {
			t.Fatal("no Chromium found, and MFAGATE_E2E_REQUIRED is set: the browser journeys must run")
		}
		t.Skip("no Chromium found: install Debian's chromium package to run the browser tests")
	}
	// The profile lives under t.TempDir, whose clean-up runs after the
	// browser's (clean-ups run last-registered first).
	profile := filepath.Join(t.TempDir(), "chromium-profile")

	var output, errs mailtest.LogBuffer
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, chromedp.UserDataDir(profile), chromedp.CombinedOutput(&output))

	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	logf := func(format string, args ...any) { errs.Printf(format, args...) }
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))

	t.Cleanup(func() {
		if t.Failed() {
			saveArtifacts(t, ctx)
		}
		cctx, ccancel := context.WithTimeout(ctx, closeTimeout)
		err := chromedp.Cancel(cctx)
		ccancel()
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
		removeProfile(t, profile)
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("closing Chromium: %v", err)
		}
		if t.Failed() {
			if s := quietOutput(output.String()); s != "" {
				t.Logf("Chromium output:\n%s", s)
			}
			if s := errs.String(); s != "" {
				t.Logf("chromedp messages:\n%s", s)
			}
		}
	})

	// The first Do starts the browser and ties it to ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return ctx
}

// removeProfile deletes the browser profile, trying again for a moment:
// a helper process of Chromium (such as its crash handler) can still write
// there just after the browser exits, and t.TempDir would then report a
// failed clean-up.
func removeProfile(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("remove the Chromium profile: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// saveArtifacts writes a full-page PNG and the HTML of the current page
// into MFAGATE_E2E_ARTIFACTS/TestName, or the test's artifact folder.
func saveArtifacts(t *testing.T, ctx context.Context) {
	t.Helper()
	dir := os.Getenv(artifactsEnv)
	if dir != "" {
		dir = filepath.Join(dir, safeName(t.Name()))
	} else {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("keep artifacts: %v", err)
		return
	}
	// The test may have failed because its deadline passed; give the
	// browser a moment of its own.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(actx, chromedp.Location()); err == nil {
		t.Logf("the browser was at %s", loc)
	}
	if png, err := chromedp.Run(actx, chromedp.FullScreenshot(100)); err != nil {
		t.Logf("take a screenshot: %v", err)
	} else if err := os.WriteFile(filepath.Join(dir, "page.png"), png, 0o644); err != nil {
		t.Logf("save the screenshot: %v", err)
	}
	if html, err := chromedp.Run(actx, chromedp.OuterHTML(chromedp.CSS("html"))); err != nil {
		t.Logf("read the page's HTML: %v", err)
	} else if err := os.WriteFile(filepath.Join(dir, "page.html"), []byte(html), 0o644); err != nil {
		t.Logf("save the page's HTML: %v", err)
	}
	if os.Getenv(artifactsEnv) == "" {
		t.Logf("saved a screenshot and the page's HTML in %s (set %s or run go test -artifacts to keep them)", dir, artifactsEnv)
	} else {
		t.Logf("kept a screenshot and the page's HTML in %s", dir)
	}
}

// quietOutput drops the lines Chromium prints in every container without
// a D-Bus, which would bury anything that matters.
func quietOutput(s string) string {
	var keep []string
	for line := range strings.Lines(s) {
		if !strings.Contains(line, "dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.TrimSpace(strings.Join(keep, ""))
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName turns a test name such as "TestX/sub case" into a folder name.
func safeName(name string) string {
	return unsafeChars.ReplaceAllString(name, "_")
}

// mustDo runs actions that return nothing, in order, within stepTimeout,
// or stops the test.
func mustDo(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("%s: %v", what, stepError(err))
	}
}

// mustRun runs one action within stepTimeout and returns its value, or
// stops the test.
func mustRun[T any](tb testing.TB, ctx context.Context, what string, action chromedp.Action[T]) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.Fatalf("%s: %v", what, stepError(err))
	}
	return v
}

// stepError says what a step's timeout most often means.
func stepError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("not done within %v; is the element missing? (%w)", stepTimeout, err)
	}
	return err
}
