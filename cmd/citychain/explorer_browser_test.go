package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
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

// TestExplorerBrowser opens the explorer of a dev node in Chromium and
// follows a student's path: the height rises on the dashboard, a transfer
// shows up on its page with status ok, its block shows the commit
// signature and the explain view, and the language switches to Chinese
// and stays so after a reload. Nothing may throw, log an error or reach
// for another host on the way.
func TestExplorerBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a browser")
	}
	findBrowser(t) // skip before building and starting anything
	port := freePort(t)
	startDev(t, t.TempDir(), port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cl := client.New(base)

	checkExplorerHeaders(t, base)

	watch := &pageWatch{host: fmt.Sprintf("127.0.0.1:%d", port)}
	p := newBrowser(t, base, watch)
	p.do(20*time.Second, chromedp.Navigate(base+"/#/"))
	watch.selfTest(p)

	// The dashboard follows the chain with no reload.
	p.waitFor("the dashboard height", `/^\d+$/.test(document.getElementById('height')?.textContent || '')`, 10*time.Second)
	first, _ := p.eval(`document.getElementById('height').textContent`)
	p.waitFor("the height to rise above "+first,
		fmt.Sprintf(`Number(document.getElementById('height')?.textContent) > %s`, first), 15*time.Second)
	p.waitFor("the validator set", `document.querySelectorAll('#validators tbody tr').length >= 1`, 10*time.Second)
	p.waitFor("the quorum bar", `!!document.getElementById('quorum')`, 10*time.Second)
	p.waitFor("block interval, tx rate and proposer", `/^\d+(\.\d+)? s$/.test(document.getElementById('interval')?.textContent || '') && /^\d+(\.\d+)?$/.test(document.getElementById('tps')?.textContent || '') && /^city1/.test(document.getElementById('proposer')?.textContent || '')`, 15*time.Second)
	p.shot("dashboard")

	// A transfer signed in Go appears on its page, committed and ok.
	hash := transfer(t, cl, 0, 7, true)
	p.open("#/tx/" + hash.String())
	p.waitFor("tx status ok", `document.querySelector('#tx-status .badge')?.dataset.status === 'ok'`, 15*time.Second)
	p.waitFor("the transfer event", `(document.getElementById('tx-events')?.textContent || '').includes('amount=7')`, 5*time.Second)
	p.shot("tx")

	// Its block lists it and shows the commit signature and the explanation.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tv, err := cl.Tx(ctx, hash.String())
	if err != nil {
		t.Fatal(err)
	}
	blk, err := cl.Block(ctx, fmt.Sprint(tv.Height))
	if err != nil {
		t.Fatal(err)
	}
	if blk.Commit == nil || len(blk.Commit.Signatures) == 0 {
		t.Fatalf("block %d has no commit signatures in the API", tv.Height)
	}
	sig := blk.Commit.Signatures[0]
	p.open(fmt.Sprintf("#/block/%d", tv.Height))
	p.waitFor("the commit signature",
		fmt.Sprintf(`(document.getElementById('commit-sigs')?.textContent || '').includes(%q)`, sig.Signature), 10*time.Second)
	p.waitFor("the tx in the block", fmt.Sprintf(`(document.getElementById('block-txs')?.textContent || '').includes(%q)`, hash.String()[:10]), 5*time.Second)
	p.waitFor("the hash link explained", `(document.getElementById('explain')?.textContent || '').includes('✓')`, 5*time.Second)
	p.waitFor("the signed tx JSON", `(document.getElementById('tx-json')?.textContent || '').includes('"action": "send"')`, 5*time.Second)
	// The exact bytes signed, and the tx hash recomputed by the page.
	p.waitFor("the signed bytes and the recomputed hash", `!!document.getElementById('vote-bytes') && !!document.getElementById('tx-sign-bytes') && document.getElementById('ex-tx-hash')?.className === 'ok'`, 5*time.Second)
	// The keys the transfer wrote: two balances and the sender's nonce.
	p.waitFor("the state changes of the block", `(t => t.includes('bank') && t.includes('bal/') && t.includes('nonce/'))(document.getElementById('state-changes')?.textContent || '')`, 5*time.Second)
	p.shot("block")
	p.do(5*time.Second, chromedp.ScrollIntoView(chromedp.ID("explain")))
	p.shot("block-explain")

	// The search box finds a block by height.
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById('q').value = '1'; document.getElementById('search').requestSubmit()`))
	p.waitFor("block 1 from the search box", `location.hash === '#/block/1' && (document.querySelector('h1')?.textContent || '').includes('#1')`, 10*time.Second)

	p.open("#/blocks")
	p.waitFor("the block list", `document.querySelectorAll('#blocks tbody tr').length >= 2`, 10*time.Second)
	p.shot("blocks")

	p.open("#/txs")
	p.waitFor("the transfer in the transaction list", fmt.Sprintf(`!!document.querySelector('#txs a[href="#/tx/%s"]')`, hash.String()), 10*time.Second)
	p.shot("txs")

	p.open("#/validators")
	p.waitFor("the validators page", `document.querySelectorAll('#validators tbody tr').length >= 1 && !!document.getElementById('last-commit')`, 10*time.Second)
	p.shot("validators")

	// A dev node has no devnet supervisor: the network view shows the
	// node alone and offers no controls, and the API refuses them.
	p.open("#/network")
	p.waitFor("the network view without a devnet", `!!document.getElementById('net-no-devnet') && document.querySelectorAll('#net-graph .net-node').length === 1`, 10*time.Second)
	if n, _ := p.eval(`String(document.querySelectorAll('button.ctl').length)`); n != "0" {
		t.Errorf("a dev node's network view offers %s control buttons, want none", n)
	}
	p.shot("network-dev")
	refuseControl(t, base)

	to := node.DevAccounts()[9].Address.String()
	p.open("#/account/" + to)
	p.waitFor("the account balance", `/^\d+$/.test(document.getElementById('balance')?.textContent || '')`, 10*time.Second)
	p.shot("account")

	p.checkLayouts("#/", "#/blocks", "#/txs", fmt.Sprintf("#/block/%d", tv.Height), "#/tx/"+hash.String(), "#/validators", "#/account/"+to, "#/network")

	// The language toggle switches the UI to Chinese, and a reload keeps it.
	p.open("#/")
	p.waitFor("the dashboard again", `!!document.getElementById('height')`, 10*time.Second)
	p.do(5*time.Second, chromedp.Click(chromedp.ID("lang")))
	p.waitFor("Chinese text", `document.getElementById('nav').textContent.includes('仪表盘') && document.documentElement.lang === 'zh-CN'`, 5*time.Second)
	p.waitFor("the Chinese dashboard", `document.getElementById('view').textContent.includes('区块高度')`, 5*time.Second)
	p.shot("dashboard-zh")
	p.do(20*time.Second, chromedp.Reload())
	p.waitFor("Chinese after reload", `document.getElementById('nav')?.textContent.includes('区块')`, 10*time.Second)

	// 200 % zoom on the projector: 1280x720 device pixels, 640x360 CSS
	// pixels. Nothing overflows sideways.
	p.do(5*time.Second, chromedp.EmulateViewport(640, 360, chromedp.EmulateScale(2)))
	p.waitFor("the 200 % zoom layout", `!!document.getElementById('height') && document.documentElement.scrollWidth <= window.innerWidth + 1`, 10*time.Second)
	p.shot("dashboard-zoom200")

	// A phone: nothing overflows sideways.
	p.do(5*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.waitFor("the phone layout", `!!document.getElementById('height') && document.documentElement.scrollWidth <= window.innerWidth + 1`, 10*time.Second)
	p.shot("dashboard-phone")

	watch.check(t)
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

// TestExplorerDevnetBrowser opens node0's explorer of a 4-validator
// devnet and drives the classroom controls from the page. The network
// view draws 4 nodes and 6 links; the quorum bar of the last decided
// block shows 4 of 4 precommits. Node3 is stopped with its Stop button:
// the graph marks it stopped, the bar drops to 3 of 4 while blocks go on,
// and the round node3 should have proposed times out, with the reason in
// the log. Started again from the page, node3 catches up; node1 is paused
// and resumed, then cut off and healed, and the graph follows each step.
func TestExplorerDevnetBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet and a browser")
	}
	findBrowser(t)
	d := startDevnet(t, 4)
	base := d.net.Nodes[0].API
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	watch := &pageWatch{host: u.Host}
	p := newBrowser(t, base, watch)
	p.do(20*time.Second, chromedp.Navigate(base+"/#/network"))

	// Every node and link, each node at a height.
	p.waitFor("four nodes and six links", `document.querySelectorAll('#net-graph .net-node').length === 4 && document.querySelectorAll('#net-graph line.link').length === 6`, 20*time.Second)
	p.waitFor("every node up", `document.querySelectorAll('#net-graph .net-node.s-running, #net-graph .net-node.s-behind').length === 4`, 10*time.Second)
	p.waitFor("node0 marked as this page's node", `!!document.querySelector('#net-node0.self')`, 5*time.Second)
	p.shot("devnet-network")

	p.open("#/")
	transfer(t, d.nodes[0], 0, 1, true)
	p.waitFor("four validators", `document.querySelectorAll('#validators tbody tr').length === 4`, 15*time.Second)
	p.waitFor("prevotes and precommits of the round",
		`document.querySelectorAll('#validators tbody .badge.ok, #validators tbody .badge.warn').length >= 6`, 20*time.Second)
	p.waitFor("the round's step marked", `document.querySelectorAll('#steps li.now').length === 1`, 10*time.Second)
	p.waitFor("the decided block's bar at 4 of 4", `(document.getElementById('quorum-last')?.textContent || '').includes('4 of 4')`, 20*time.Second)
	p.shot("devnet-dashboard")

	// Stop node3 from the page.
	before, _ := p.eval(`String(document.querySelectorAll('#rounds li').length)`)
	p.open("#/network")
	p.waitFor("node3's stop button", `!!document.getElementById('ctl-node3-stop')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node3-stop")))
	p.waitFor("the stop reported", `/done/.test(document.getElementById('ctl-msg')?.textContent || '')`, 15*time.Second)
	p.waitFor("node3 drawn as stopped", `!!document.querySelector('#net-node3.s-stopped') && document.querySelectorAll('#net-graph line.link').length === 3`, 10*time.Second)
	if err := syscall.Kill(d.net.Nodes[3].PID, 0); err == nil {
		t.Fatalf("node3 (pid %d) still runs after Stop was clicked", d.net.Nodes[3].PID)
	}
	p.shot("devnet-network-stopped")

	// The chain goes on with 3 of 4, and the bar shows the gap.
	p.open("#/")
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		n, _ := p.eval(`String(document.querySelectorAll('#rounds li').length)`)
		q, _ := p.eval(`document.getElementById('quorum-last')?.textContent || ''`)
		if n != "" && n != "0" && n != before && strings.Contains(q, "3 of 4") {
			break
		}
		if time.Now().After(deadline) {
			text, _ := p.eval(`document.getElementById('view').innerText.slice(0, 800)`)
			t.Fatalf("within 60 s of stopping node3, no round change or no 3 of 4 bar:\n%s", text)
		}
		transfer(t, d.nodes[i%3], i%3, 1, true)
	}
	p.waitFor("a reason in the round log", `/timeout/i.test(document.getElementById('rounds').textContent)`, 5*time.Second)
	p.shot("devnet-round-change")

	// Start it again from the page: it comes back and catches up.
	p.open("#/network")
	p.waitFor("node3's start button", `!!document.getElementById('ctl-node3-start')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node3-start")))
	p.waitFor("node3 up and linked again", `!!document.querySelector('#net-node3.s-running') && document.querySelectorAll('#net-graph line.link').length === 6`, 40*time.Second)

	// Pause and resume node1.
	p.waitFor("node1's pause button", `!!document.getElementById('ctl-node1-pause')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node1-pause")))
	p.waitFor("node1 drawn as paused", `!!document.querySelector('#net-node1.s-paused')`, 10*time.Second)
	p.shot("devnet-network-paused")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node1-resume")))
	p.waitFor("node1 running again", `!!document.querySelector('#net-node1.s-running, #net-node1.s-behind')`, 15*time.Second)

	// Cut node1 off: its links go, it falls behind while the others go on.
	p.waitFor("node1's cut button", `!!document.getElementById('ctl-node1-cut')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node1-cut")))
	p.waitFor("node1 cut off with no links", `!!document.querySelector('#net-node1.s-cut') && document.querySelectorAll('#net-graph line.link').length === 3`, 20*time.Second)
	cutAt := d.height(1)
	for i := 0; d.height(0) < cutAt+2; i++ {
		if i > 100 {
			t.Fatalf("the three connected nodes did not pass height %d while node1 was cut off", cutAt+2)
		}
		transfer(t, d.nodes[0], 0, 1, true)
	}
	if h := d.height(1); h > cutAt {
		t.Errorf("node1 went from height %d to %d while cut off", cutAt, h)
	}
	p.shot("devnet-network-cut")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node1-heal")))
	p.waitFor("node1 healed and linked", `!!document.querySelector('#net-node1.s-running') && document.querySelectorAll('#net-graph line.link').length === 6`, 40*time.Second)
	top := d.height(0)
	deadline = time.Now().Add(30 * time.Second)
	for d.height(1) < top {
		if time.Now().After(deadline) {
			t.Fatalf("node1 at %d did not catch up to %d within 30 s of healing", d.height(1), top)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Restart node2 from the page: a new process, back in the graph.
	old2 := state(d.ctlStatus(t), "node2").PID
	p.open("#/network")
	p.waitFor("node2's restart button", `!!document.getElementById('ctl-node2-restart')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node2-restart")))
	p.waitFor("the restart reported", `/node2/.test(document.getElementById('ctl-msg')?.textContent || '') && /restarted/.test(document.getElementById('ctl-msg')?.textContent || '')`, 30*time.Second)
	p.waitFor("node2 up and linked again", `!!document.querySelector('#net-node2.s-running') && document.querySelectorAll('#net-graph line.link').length === 6`, 40*time.Second)
	if pid := state(d.ctlStatus(t), "node2").PID; pid == old2 || pid == 0 {
		t.Errorf("node2 runs as pid %d after Restart, before it was %d", pid, old2)
	}
	// A node that answers but trails the head is drawn as behind.
	if look, _ := p.eval(`nodeLook({ state: 'running', reachable: true, height: 3 }, 9)`); look != "behind" {
		t.Errorf("a node 6 blocks behind looks %q, want behind", look)
	}

	p.checkLayouts("#/network", "#/")

	// The same page in Chinese.
	p.open("#/network")
	p.do(5*time.Second, chromedp.Click(chromedp.ID("lang")))
	p.waitFor("the Chinese network page", `document.getElementById('nav').textContent.includes('网络') && (document.getElementById('ctl-node3-stop')?.textContent || '') === '停止' && (document.getElementById('ctl-msg')?.textContent || '').includes('完成')`, 10*time.Second)
	p.shot("devnet-network-zh")
	// The round log, which the node writes in English, reads in Chinese.
	p.open("#/")
	p.waitFor("the round log in Chinese", `(t => t.includes('超时') && !/timeout/i.test(t))(document.getElementById('rounds')?.textContent || '')`, 10*time.Second)
	p.shot("devnet-dashboard-zh")
	p.open("#/network")
	p.do(5*time.Second, chromedp.Click(chromedp.ID("lang")))
	p.waitFor("English again", `(document.getElementById('ctl-node3-stop')?.textContent || '') === 'Stop'`, 10*time.Second)
	watch.check(t)
	watch.reset()

	// Stopping the node that serves the page takes the page's node away:
	// the page says so, keeps the last view and shows itself offline. Its
	// failed requests to node0 are expected from here on.
	watch.mu.Lock()
	watch.expected = append(watch.expected, base+"/v1/")
	watch.mu.Unlock()
	p.open("#/network")
	p.waitFor("node0's restart button", `!!document.getElementById('ctl-node0-restart')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node0-restart")))
	p.waitFor("the page waiting for its node", `/restarting/.test(document.getElementById('ctl-msg')?.textContent || '')`, 30*time.Second)
	p.waitFor("its node back", `/node0 is back/.test(document.getElementById('ctl-msg')?.textContent || '') && !!document.getElementById('ctl-node0-stop')`, 60*time.Second)
	p.waitFor("node0's stop button", `!!document.getElementById('ctl-node0-stop')`, 10*time.Second)
	p.do(10*time.Second, chromedp.Click(chromedp.ID("ctl-node0-stop")))
	p.waitFor("the page saying its node is down", `/node0/.test(document.getElementById('ctl-msg')?.textContent || '') && !document.querySelector('#ctl-msg.error')`, 30*time.Second)
	p.waitFor("the last view kept, marked stale", `!!document.getElementById('net-stale') && document.querySelectorAll('#net-graph .net-node').length === 4 && !!document.querySelector('#net-node0.s-silent') && document.querySelectorAll('button.ctl:not([disabled])').length === 0`, 20*time.Second)
	p.waitFor("the page offline", `!document.getElementById('live').classList.contains('on')`, 20*time.Second)
	p.shot("devnet-network-self-stopped")
	watch.check(t)
}

// TestExplorerModulesBrowser seeds a dev node with `citychain demo` and
// opens the explorer's module pages on what it made: the packet's
// provenance timeline and tree, the delivered order, the streetlight's
// state, the city's devices as dots on a plot, and the copyright check of
// the packaging design, hashed in the page from a chosen file.
func TestExplorerModulesBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a browser")
	}
	findBrowser(t)
	port := freePort(t)
	startDev(t, t.TempDir(), port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	out := run(t, "demo", "--node", base)

	find := func(what, pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in the demo output:\n%s", what, out)
		}
		return m[1]
	}
	epc := find("packet provenance link", `packet provenance\s+\S*/v1/apps/trace/epcs/(\S+)/provenance`)
	order := find("order link", `/v1/apps/commerce/order/(\d+)`)
	lamp := find("streetlight link", `/v1/apps/city/device/(SL-\d+)`)
	design := find("design registration link", `/v1/apps/copyright/verify/([0-9a-f]{64})`)

	watch := &pageWatch{host: fmt.Sprintf("127.0.0.1:%d", port)}
	p := newBrowser(t, base, watch)
	p.do(20*time.Second, chromedp.Navigate(base+"/#/"))
	watch.selfTest(p)
	p.waitFor("the dashboard", `!!document.getElementById('height')`, 10*time.Second)

	p.open("#/trace/" + epc)
	p.waitFor("the packet's events", `(t => t.includes('commissioning') && t.includes('packing'))(document.getElementById('trace-events')?.textContent || '')`, 15*time.Second)
	p.waitFor("the upstream tree", `document.querySelectorAll('#trace-up li a').length >= 1`, 5*time.Second)
	// The QR code is drawn by the node and holds this page's address.
	p.waitFor("the QR code image", `(i => !!i && i.complete && i.naturalWidth > 0)(document.getElementById('trace-qr'))`, 10*time.Second)
	p.waitFor("the QR code of this page", `decodeURIComponent(new URL(document.getElementById('trace-qr').src).searchParams.get('text')) === decodeURIComponent(location.href)`, 5*time.Second)
	p.shot("trace")

	p.open("#/order/" + order)
	p.waitFor("the delivered order", `(document.getElementById('order-status')?.textContent || '') === 'OrderDelivered'`, 10*time.Second)
	p.waitFor("the order history", `document.querySelectorAll('#order-history tbody tr').length >= 3`, 5*time.Second)
	p.shot("order")

	// Order tracking by account: the buyer sees it as bought, the seller
	// as sold.
	var ord struct {
		Order struct{ Buyer, Seller string } `json:"order"`
	}
	getJSONTest(t, base+"/v1/apps/commerce/order/"+order, &ord)
	p.open("#/orders/" + ord.Order.Buyer)
	p.waitFor("the buyer's order", fmt.Sprintf(`!!document.querySelector('#orders-bought a[href="#/order/%s"]')`, order), 10*time.Second)
	p.shot("orders-buyer")
	p.open("#/orders/" + ord.Order.Seller)
	p.waitFor("the seller's order", fmt.Sprintf(`!!document.querySelector('#orders-sold a[href="#/order/%s"]')`, order), 10*time.Second)

	p.open("#/device/" + lamp)
	p.waitFor("the streetlight state", `(document.getElementById('device-attrs')?.textContent || '').includes('illuminanceLevel')`, 10*time.Second)
	p.shot("device")

	p.open("#/city")
	p.waitFor("three device dots", `document.querySelectorAll('#city-map circle').length >= 3`, 10*time.Second)
	p.waitFor("the dots link to devices", fmt.Sprintf(`!!document.querySelector('#city-map a[href="#/device/%s"]')`, lamp), 5*time.Second)
	p.waitFor("the streetlight's dot drawn by its state", fmt.Sprintf(`/\b(lit|dim|dark)\b/.test(document.getElementById('dot-%s')?.getAttribute('class') || '')`, lamp), 5*time.Second)
	p.shot("city")

	// The map follows the chain: a second run of the story registers more
	// devices, and their dots appear without a reload.
	before, _ := p.eval(`String(document.querySelectorAll('#city-map circle').length)`)
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = 'kept'`))
	run(t, "demo", "--node", base)
	p.waitFor("the new devices on the map", fmt.Sprintf(`document.querySelectorAll('#city-map circle').length > %s && document.body.dataset.mark === 'kept'`, before), 20*time.Second)

	// The page hashes the design file itself; only the hash is asked for.
	file := (&demo{run_: strings.TrimPrefix(lamp, "SL-")}).designFile()
	if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != design {
		t.Fatalf("the rebuilt design file hashes to %x, the demo registered %s", sum, design)
	}
	p.open("#/verify")
	p.waitFor("the verify page", `!!document.getElementById('verify-file')`, 10*time.Second)
	// The file is dropped on the page, as a teacher would drag it there.
	lit, err := json.Marshal(string(file))
	if err != nil {
		t.Fatal(err)
	}
	p.do(10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([`+string(lit)+`], 'design.svg', { type: 'image/svg+xml' }));
		document.getElementById('verify-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
	})()`))
	p.waitFor("the registration", fmt.Sprintf(`(document.getElementById('verify-hash')?.textContent || '') === %q && (document.getElementById('verify-result')?.textContent || '').includes('CC-BY-NC-4.0')`, design), 10*time.Second)
	// The page checks the Merkle proof itself, up to the block header.
	p.waitFor("the certificate checked in the page", `document.querySelectorAll('#verify-cert li > .ok').length === 4 && !document.querySelector('#verify-cert .bad')`, 10*time.Second)
	p.shot("verify")
	// A record changed by one byte does not check.
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`checkProof({ ...V.proof, value: V.proof.value.slice(0, -2) + (V.proof.value.endsWith('00') ? '01' : '00') }).then(c => { document.body.dataset.tampered = String(c.ok) })`))
	p.waitFor("the tampered record refused", `document.body.dataset.tampered === 'false'`, 5*time.Second)
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`checkProof({ ...V.proof, proof: { ...V.proof.proof, siblings: V.proof.proof.siblings.map((h, i) => i === 0 ? (h[0] === 'f' ? '0' : 'f') + h.slice(1) : h) } }).then(c => { document.body.dataset.forged = String(c.ok) })`))
	p.waitFor("the forged sibling refused", `document.body.dataset.forged === 'false'`, 5*time.Second)
	// A valid proof of another file's record does not vouch for this one.
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`certificate(V.proof, 'ab'.repeat(32)).then(c => { document.body.dataset.otherfile = String(c.fileOK) })`))
	p.waitFor("a proof of another file's record refused", `document.body.dataset.otherfile === 'false'`, 5*time.Second)

	// A file nobody registered: the node answers 404, which the browser
	// logs; that one error is expected, any other is not.
	other := filepath.Join(t.TempDir(), "other.txt")
	unregistered := []byte("never registered " + design)
	if err := os.WriteFile(other, unregistered, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(unregistered)
	watch.mu.Lock()
	watch.expected = append(watch.expected, "404 (Not Found) "+base+"/v1/apps/copyright/verify/"+hex.EncodeToString(sum[:]))
	watch.mu.Unlock()
	p.do(10*time.Second, chromedp.SetUploadFiles(chromedp.ID("verify-file"), []string{other}))
	p.waitFor("not registered", `(document.getElementById('verify-result')?.textContent || '').includes('Not registered')`, 10*time.Second)
	// Neither file left the browser: the page only read with GET.
	watch.mu.Lock()
	writes := append([]string(nil), watch.writes...)
	watch.mu.Unlock()
	if len(writes) > 0 {
		t.Errorf("the modules pages sent requests other than GET: %v", writes)
	}

	// A mistyped address with a stray % says so instead of throwing.
	p.open("#/device/%zz")
	p.waitFor("the bad address explained", `/%/.test(document.querySelector('#view .error')?.textContent || '')`, 5*time.Second)

	p.checkLayouts("#/trace/"+epc, "#/order/"+order, "#/orders/"+ord.Order.Buyer, "#/device/"+lamp, "#/city", "#/verify")

	// In Chinese, on a phone, the trace page does not overflow sideways.
	p.do(5*time.Second, chromedp.Click(chromedp.ID("lang")))
	p.do(5*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.open("#/trace/" + epc)
	p.waitFor("the Chinese phone trace page", `document.getElementById('nav').textContent.includes('溯源') && !!document.getElementById('trace-events') && document.documentElement.scrollWidth <= window.innerWidth + 1`, 10*time.Second)
	p.shot("trace-zh-phone")

	watch.check(t)
}
