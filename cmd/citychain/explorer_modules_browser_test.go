package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

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
	// A part ".." would walk the fetched API path to another route
	// (/v1/devnet here): the address is refused, and nothing is fetched.
	p.open("#/apps/city/..%2F..%2Fdevnet")
	p.waitFor("the dot part refused", `/"\.\."/.test(document.querySelector('#view .error')?.textContent || '')`, 5*time.Second)

	p.checkLayouts("#/trace/"+epc, "#/order/"+order, "#/orders/"+ord.Order.Buyer, "#/device/"+lamp, "#/city", "#/verify")

	// In Chinese, on a phone, the trace page does not overflow sideways.
	p.click(5*time.Second, "lang")
	p.do(5*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	p.open("#/trace/" + epc)
	p.waitFor("the Chinese phone trace page", `document.getElementById('nav').textContent.includes('溯源') && !!document.getElementById('trace-events') && document.documentElement.scrollWidth <= window.innerWidth + 1`, 10*time.Second)
	p.shot("trace-zh-phone")

	watch.check(t)
}
