package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

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
	p.click(5*time.Second, "lang")
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
