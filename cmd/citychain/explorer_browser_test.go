package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/node"
)

// The explorer tests drive a real headless Chromium against a real
// `citychain dev` node, the way a student opens the explorer: they read
// what the page shows, not what the API answers.

// findBrowser returns a Chromium or Chrome on PATH. Without one the test
// is skipped on a laptop, but fails in CI, where the browser is installed.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium, chromium-browser or google-chrome on PATH; CI must install Debian's chromium")
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH: install one to run the explorer browser tests")
	return ""
}

// screenshotDir is where the pages' screenshots go: $CITYCHAIN_SCREENSHOTS
// if set, else a temporary folder of the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CITYCHAIN_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pageWatch records what the page must never do: throw, log an error to
// the console, or send a request to a host other than the node.
type pageWatch struct {
	host string // host:port of the node
	// expected are parts of console errors a test provokes on purpose,
	// such as the 404 of a lookup that must answer "not found".
	expected []string

	mu       sync.Mutex
	errors   []string
	foreign  []string
	requests int
	// writes are the requests other than GET, which only the classroom
	// controls send: a file checked on the Verify page is never uploaded.
	writes []string
}

func (w *pageWatch) listen(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		w.errors = append(w.errors, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, a.Description+string(a.Value))
			}
			w.errors = append(w.errors, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		// Browser-side errors such as a Content-Security-Policy violation.
		if ev.Entry.Level == "error" {
			w.errors = append(w.errors, "log ("+string(ev.Entry.Source)+"): "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		w.requests++
		if ev.Request.Method != "GET" || ev.Request.HasPostData {
			w.writes = append(w.writes, ev.Request.Method+" "+ev.Request.URL)
		}
		u, err := url.Parse(ev.Request.URL)
		if err != nil {
			w.foreign = append(w.foreign, ev.Request.URL)
			return
		}
		switch u.Scheme {
		case "data", "blob", "about":
			return
		}
		if u.Host != w.host {
			w.foreign = append(w.foreign, ev.Request.URL)
		}
	}
}

// selfTest logs one console error in the page and waits until the
// listener saw it, then forgets it: proof that a silent console is silent
// and not deaf.
func (w *pageWatch) selfTest(p *browserPage) {
	p.t.Helper()
	const marker = "citychain-console-selftest"
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`console.error('`+marker+`')`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		found := false
		kept := w.errors[:0]
		for _, e := range w.errors {
			if strings.Contains(e, marker) {
				found = true
				continue
			}
			kept = append(kept, e)
		}
		w.errors = kept
		w.mu.Unlock()
		if found {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatal("the console listener did not see a console.error within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reset forgets the errors seen so far, after a check.
func (w *pageWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errors = nil
}

func (w *pageWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
errors:
	for _, e := range w.errors {
		for _, x := range w.expected {
			if strings.Contains(e, x) {
				continue errors
			}
		}
		t.Errorf("browser console: %s", e)
	}
	for _, u := range w.foreign {
		t.Errorf("request to a host other than the node: %s", u)
	}
	if w.requests == 0 {
		t.Errorf("saw no network request at all: the network listener is not working")
	}
}

// browserPage is one tab on the explorer with bounded waits.
type browserPage struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

// do runs steps with a time limit.
func (p *browserPage) do(limit time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// click clicks the element with the given id as a user would. The
// explorer redraws parts of a page as the chain moves (the network page's
// controls among them); a redraw between finding the element and clicking
// it leaves the click aimed at a node that is gone, which the browser
// refuses before any mouse event is sent, and the click is then tried
// again on the element now there, until limit.
func (p *browserPage) click(limit time.Duration, id string) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithDeadline(p.ctx, deadline)
		err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(id)))
		cancel()
		if err == nil {
			return
		}
		gone := strings.Contains(err.Error(), "Could not find node") || strings.Contains(err.Error(), "detached")
		if !gone || time.Now().After(deadline) {
			p.t.Fatalf("browser: clicking #%s: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls a JavaScript predicate until it is truthy, for at most limit.
func (p *browserPage) waitFor(what, predicate string, limit time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, limit+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		text, _ := p.eval(`document.getElementById('view').innerText.slice(0, 600)`)
		p.t.Fatalf("waiting for %s: %v\npage shows:\n%s", what, err, text)
	}
}

func (p *browserPage) eval(expr string) (string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
}

// open moves to a route of the explorer, as a click on a link does.
func (p *browserPage) open(route string) {
	p.t.Helper()
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.hash = %q", route)))
}

// overflowing lists the elements that stick out on the right of a
// viewport W CSS pixels wide, or "" when the page fits. W is given, not
// read from the page, because a phone's layout viewport widens to fit
// content that overflows.
const overflowing = `(W => document.documentElement.scrollWidth <= W + 1 ? '' :
  [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > W + 1)
    .slice(0, 8).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', '))`

// checkLayouts opens each route at a phone's width and at 200 % zoom of
// the projector, and checks that the page renders and nothing overflows
// sideways. It puts the projector's 1280x720 back at the end.
func (p *browserPage) checkLayouts(routes ...string) {
	p.t.Helper()
	views := []struct {
		name  string
		width int
		set   chromedp.Action[chromedp.Void]
	}{
		{"phone", 390, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)},
		{"zoom200", 640, chromedp.EmulateViewport(640, 360, chromedp.EmulateScale(2))},
	}
	for _, v := range views {
		p.do(5*time.Second, v.set)
		for _, r := range routes {
			p.open(r)
			p.waitFor(r+" at "+v.name+" size", `!!document.querySelector('#view h1, #view #height') && !document.querySelector('#view > p.error')`, 15*time.Second)
			if wide, _ := p.eval(fmt.Sprintf("%s(%d)", overflowing, v.width)); wide != "" {
				p.t.Errorf("%s at %s size overflows sideways: %s", r, v.name, wide)
			}
		}
	}
	p.do(5*time.Second, chromedp.EmulateViewport(1280, 720))
}

// shot writes a screenshot of the viewport.
func (p *browserPage) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	// Let the last render and the flash animation settle.
	_ = chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(p.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s", path)
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// a tab on the explorer at base, with watch listening to it.
func newBrowser(t *testing.T, base string, watch *pageWatch) *browserPage {
	t.Helper()
	exe := findBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the CI container runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(cancelCtx)

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Listen(ctx, watch.listen); err != nil {
		t.Fatalf("start browser %s: %v", exe, err)
	}
	if err := chromedp.Do(startCtx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return &browserPage{t: t, ctx: ctx, base: base, shots: screenshotDir(t)}
}

// refuseControl checks that a node started without a devnet supervisor
// refuses a control request, even one in the form its own page sends.
func refuseControl(t *testing.T, base string) {
	t.Helper()
	var st node.StatusView
	getJSONTest(t, base+"/v1/status", &st)
	if st.Devnet {
		t.Errorf("a dev node's status says devnet: true")
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/devnet/nodes/node0/stop", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(node.ControlHeader, "1")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e node.APIError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusNotFound || e.Error.Code != "not_devnet" {
		t.Errorf("stop on a dev node: %s %q, want 404 not_devnet", resp.Status, e.Error.Code)
	}
}

func getJSONTest(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// checkExplorerHeaders checks that GET / is HTML under a policy that lets
// the page reach only its own origin and run only its own inline code.
func checkExplorerHeaders(t *testing.T, base string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET / Content-Type = %q, want text/html", ct)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "script-src 'sha256-", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows unsafe code or another host", csp)
	}
}
