package web_test

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"strings"
	"testing"
)

// TestFavicon: the icon browsers ask for is there, cached for a day, a
// real ICO holding a 32-pixel PNG; the SVG icon the layout links is an
// image with no script, and both answers keep the security headers.
func TestFavicon(t *testing.T) {
	h := newHarness(t)
	c := h.client(t)
	ico := h.get(t, c, "/favicon.ico")
	if ico.StatusCode != 200 || ico.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("/favicon.ico: got %d %q, want 200 image/x-icon", ico.StatusCode, ico.Header.Get("Content-Type"))
	}
	if got := ico.Header.Get("Cache-Control"); got != "public, max-age=86400" {
		t.Errorf("/favicon.ico: Cache-Control %q, want a day", got)
	}
	body := []byte(ico.body)
	if len(body) < 22 || !bytes.Equal(body[:6], []byte{0, 0, 1, 0, 1, 0}) {
		t.Fatalf("/favicon.ico is not an ICO file with one image: % x", body[:min(len(body), 22)])
	}
	size, offset := binary.LittleEndian.Uint32(body[14:]), binary.LittleEndian.Uint32(body[18:])
	if int(offset)+int(size) != len(body) {
		t.Fatalf("/favicon.ico: image of %d bytes at %d in %d", size, offset, len(body))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(body[offset:]))
	if err != nil || cfg.Width != 32 || cfg.Height != 32 || body[6] != 32 || body[7] != 32 {
		t.Fatalf("/favicon.ico: image %dx%d (%v), directory says %dx%d; want 32x32", cfg.Width, cfg.Height, err, body[6], body[7])
	}

	svg := h.get(t, c, "/static/favicon.svg")
	if svg.StatusCode != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(svg.body, "<svg ") {
		t.Fatalf("/static/favicon.svg: got %d %q", svg.StatusCode, svg.Header.Get("Content-Type"))
	}
	if strings.Contains(strings.ToLower(svg.body), "script") || strings.Contains(svg.body, "href") {
		t.Error("the SVG icon has a script or a link in it")
	}
	for _, res := range []response{ico, svg} {
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "img-src 'self'") ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("an icon lacks the security headers: CSP %q", csp)
		}
	}

	page := h.get(t, c, "/login").body
	for _, link := range []string{`<link rel="icon" href="/favicon.ico" sizes="32x32">`, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`} {
		if !strings.Contains(page, link) {
			t.Errorf("the layout lacks %s", link)
		}
	}
}
