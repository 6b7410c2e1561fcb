package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestLabsPageBrowser opens the explorer's Labs page on a dev node: the
// seven labs with their steps, those that need a student's files marked
// as checked on the student's machine; a transfer from a key of a
// student's own turns lab 1's last step done with the next block, with
// no reload; and the page speaks Chinese after the language switch.
func TestLabsPageBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a browser")
	}
	findBrowser(t)
	port := freePort(t)
	startDev(t, t.TempDir(), port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cl := client.New(base)

	watch := &pageWatch{host: fmt.Sprintf("127.0.0.1:%d", port)}
	p := newBrowser(t, base, watch)
	p.do(20*time.Second, chromedp.Navigate(base+"/#/labs"))
	watch.selfTest(p)

	p.waitFor("seven labs", `document.querySelectorAll('#view section[id^="lab-"]').length === 7`, 15*time.Second)
	p.waitFor("the nav link to the page", `document.querySelector('#nav a[href="#/labs"]')?.getAttribute('aria-current') === 'page'`, 5*time.Second)
	step := func(lab, n int) string {
		return fmt.Sprintf(`document.querySelector('#lab-%d li.lab-step:nth-child(%d)')?.dataset.state`, lab, n)
	}
	p.waitFor("lab 1: no transfer of a student's own yet", step(1, 3)+` === 'todo'`, 5*time.Second)
	p.waitFor("lab 2: every step on the student's machine",
		`[...document.querySelectorAll('#lab-2 li.lab-step')].every(li => li.dataset.state === 'local') && document.getElementById('lab-2').textContent.includes('citychain lab check 2')`, 5*time.Second)
	p.waitFor("lab 3 on one validator", step(3, 1)+` === 'todo' && document.getElementById('lab-3').textContent.includes('1 validator(s)')`, 5*time.Second)
	p.shot("labs")

	// A student's own key: funded by dev0, then sending some back.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ownAddr := chain.AddressOf(own.PublicKey())
	send := func(key *crypto.PrivateKey, nonce uint64, to chain.Address, amount uint64) {
		p, _ := chain.EncodePayload(map[string]any{"to": to.String(), "amount": amount})
		tx := &chain.Tx{ChainID: st.ChainID, App: "bank", Action: "send", Payload: p, Nonce: nonce}
		tx.Sign(key)
		if ans, err := cl.Submit(ctx, tx, true); err != nil || ans.Receipt == nil || ans.Receipt.Status != chain.StatusOK {
			t.Fatalf("transfer: %+v %v", ans, err)
		}
	}
	dev0 := node.DevKey(0)
	a, err := cl.Account(ctx, chain.AddressOf(dev0.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	send(dev0, a.PendingNonce, ownAddr, 10)
	send(own, 0, chain.AddressOf(dev0.PublicKey()), 3)
	p.waitFor("lab 1's last step done on a new block", step(1, 3)+` === 'done'`, 20*time.Second)

	p.click(5*time.Second, "lang")
	p.waitFor("the page in Chinese", `document.querySelector('#view h1')?.textContent === '实验' && document.getElementById('lab-1').textContent.includes('实验 1 · 密钥、账户与转账') && document.getElementById('lab-2').textContent.includes('在你的电脑上检查')`, 10*time.Second)
	p.shot("labs-zh")
	p.checkLayouts("#/labs")
	watch.check(t)
}
