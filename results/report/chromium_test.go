package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests load the HTML report in real headless Chromium (Debian's
// `chromium` package; .ci/run installs it). SLOGATE_CHROMIUM names another
// binary; SLOGATE_REPORT_SCREENSHOTS names a directory to keep the
// screenshots in for a person to look at.

func chromiumBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SLOGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary found (install it: apt-get install -y chromium; .ci/run does); skipping the browser rendering test")
	return ""
}

// runChromium runs headless Chromium with its own throwaway profile (tests
// and people may run it side by side) and returns its standard output.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out.Bytes()
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChromiumRendersResultReport(t *testing.T) {
	bin := chromiumBinary(t)
	r := withSLO(syntheticRun(t, 10*time.Millisecond, 1, true))
	var buf bytes.Buffer
	if err := Write(&buf, "html", r); err != nil {
		t.Fatal(err)
	}
	page := writeTemp(t, "report.html", buf.Bytes())

	dom := string(runChromium(t, bin, "--dump-dom", "file://"+page))
	checkDOM(t, dom, []string{"latency-over-time", "throughput-over-time", "percentile-spectrum"},
		[]string{"Latency over time", "Throughput over time", "Latency percentile spectrum"})
	if !strings.Contains(dom, `id="verdict">FAIL (score 50.0)<`) {
		t.Error("the rendered page does not show the FAIL verdict")
	}

	shot := screenshot(t, bin, page, "result.png")
	// The charts really painted: the p50 line's blue, the success area's
	// green and the blocked area's amber are on the screen.
	for _, c := range []struct {
		name string
		rgb  color.RGBA
		min  int
	}{{"p50 line", colP50, 300}, {"success area", colSuccess, 20000}, {"blocked area", colBlocked, 500}, {"p99 line", colP99, 300}} {
		if n := countColor(shot, c.rgb); n < c.min {
			t.Errorf("%s colour %s: %d pixels on the screenshot, want >= %d", c.name, css(c.rgb), n, c.min)
		}
	}
}

func TestChromiumRendersComparisonReport(t *testing.T) {
	bin := chromiumBinary(t)
	base := withSLO(syntheticRun(t, 20*time.Millisecond, 1, false))
	cur := withSLO(syntheticRun(t, 10*time.Millisecond, 2, false))
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "html", syntheticComparison(base, cur), base, cur); err != nil {
		t.Fatal(err)
	}
	page := writeTemp(t, "compare.html", buf.Bytes())
	dom := string(runChromium(t, bin, "--dump-dom", "file://"+page))
	checkDOM(t, dom, []string{"compare-latency-over-time", "compare-percentile-spectrum", "compare-throughput"},
		[]string{"Latency over time: base vs new", "Latency percentile spectrum: base vs new", "Throughput over time: base vs new"})
	if n := strings.Count(dom, `class="bar better"`); n < 2 {
		t.Errorf("%d improvement bars for better rows, want 2", n)
	}
	shot := screenshot(t, bin, page, "compare.png")
	for _, c := range []struct {
		name string
		rgb  color.RGBA
	}{{"base", colBase}, {"new", colNew}} {
		if n := countColor(shot, c.rgb); n < 300 {
			t.Errorf("%s run's colour %s: %d pixels on the screenshot, want >= 300", c.name, css(c.rgb), n)
		}
	}
}

// checkDOM asserts on the DOM as Chromium parsed it: one figure per chart
// with an inline <svg> that holds drawn paths and text, each chart's title,
// no chart that failed, no external resource.
func checkDOM(t *testing.T, dom string, ids, titles []string) {
	t.Helper()
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("Chromium returned no document:\n%.500s", dom)
	}
	if strings.Contains(dom, `class="chart-error"`) {
		t.Error("a chart reports an error in the rendered page")
	}
	if n := strings.Count(dom, `<svg class="chart"`); n != len(ids) {
		t.Errorf("%d chart SVGs in the DOM, want %d", n, len(ids))
	}
	figure := regexp.MustCompile(`(?s)<figure id="([^"]+)">(.*?)</figure>`)
	found := map[string]string{}
	for _, m := range figure.FindAllStringSubmatch(dom, -1) {
		found[m[1]] = m[2]
	}
	for i, id := range ids {
		body, ok := found[id]
		if !ok {
			t.Errorf("no figure %q in the DOM", id)
			continue
		}
		if !strings.Contains(body, "<h3>"+titles[i]+"</h3>") {
			t.Errorf("figure %q lacks its title %q", id, titles[i])
		}
		if n := strings.Count(body, "<path"); n < 10 {
			t.Errorf("figure %q: %d <path> elements, the chart looks empty", id, n)
		}
		if n := strings.Count(body, "<text"); n < 8 {
			t.Errorf("figure %q: %d <text> elements (axis labels missing?)", id, n)
		}
	}
	assertSelfContained(t, dom, "http://127.0.0.1:8080")
}

func screenshot(t *testing.T, bin, page, name string) image.Image {
	t.Helper()
	dir := os.Getenv("SLOGATE_REPORT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	runChromium(t, bin, "--screenshot="+path, "--window-size=1200,2400", "file://"+page)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1200×2400", b.Size())
	}
	return img
}

// countColor counts pixels within a small distance of c (anti-aliasing and
// colour management shift exact values a little).
func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, want uint8) bool {
	d := int(v) - int(want)
	return d >= -12 && d <= 12
}
