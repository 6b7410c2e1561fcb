package main

import (
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

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
	p.click(10*time.Second, "ctl-node3-stop")
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
	p.click(10*time.Second, "ctl-node3-start")
	p.waitFor("node3 up and linked again", `!!document.querySelector('#net-node3.s-running') && document.querySelectorAll('#net-graph line.link').length === 6`, 40*time.Second)

	// Pause and resume node1.
	p.waitFor("node1's pause button", `!!document.getElementById('ctl-node1-pause')`, 10*time.Second)
	p.click(10*time.Second, "ctl-node1-pause")
	p.waitFor("node1 drawn as paused", `!!document.querySelector('#net-node1.s-paused')`, 10*time.Second)
	p.shot("devnet-network-paused")
	p.click(10*time.Second, "ctl-node1-resume")
	p.waitFor("node1 running again", `!!document.querySelector('#net-node1.s-running, #net-node1.s-behind')`, 15*time.Second)

	// Cut node1 off: its links go, it falls behind while the others go on.
	p.waitFor("node1's cut button", `!!document.getElementById('ctl-node1-cut')`, 10*time.Second)
	p.click(10*time.Second, "ctl-node1-cut")
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
	p.click(10*time.Second, "ctl-node1-heal")
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
	p.click(10*time.Second, "ctl-node2-restart")
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
	p.click(5*time.Second, "lang")
	p.waitFor("the Chinese network page", `document.getElementById('nav').textContent.includes('网络') && (document.getElementById('ctl-node3-stop')?.textContent || '') === '停止' && (document.getElementById('ctl-msg')?.textContent || '').includes('完成')`, 10*time.Second)
	p.shot("devnet-network-zh")
	// The round log, which the node writes in English, reads in Chinese.
	p.open("#/")
	p.waitFor("the round log in Chinese", `(t => t.includes('超时') && !/timeout/i.test(t))(document.getElementById('rounds')?.textContent || '')`, 10*time.Second)
	p.shot("devnet-dashboard-zh")
	p.open("#/network")
	p.click(5*time.Second, "lang")
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
	p.click(10*time.Second, "ctl-node0-restart")
	// A quick restart may already be over when the page is first looked
	// at: "restarting" or "is back" both show the page followed it.
	p.waitFor("the page waiting for its node", `/restarting|node0 is back/.test(document.getElementById('ctl-msg')?.textContent || '')`, 30*time.Second)
	p.waitFor("its node back", `/node0 is back/.test(document.getElementById('ctl-msg')?.textContent || '') && !!document.getElementById('ctl-node0-stop')`, 60*time.Second)
	p.waitFor("node0's stop button", `!!document.getElementById('ctl-node0-stop')`, 10*time.Second)
	p.click(10*time.Second, "ctl-node0-stop")
	p.waitFor("the page saying its node is down", `/node0/.test(document.getElementById('ctl-msg')?.textContent || '') && !document.querySelector('#ctl-msg.error')`, 30*time.Second)
	p.waitFor("the last view kept, marked stale", `!!document.getElementById('net-stale') && document.querySelectorAll('#net-graph .net-node').length === 4 && !!document.querySelector('#net-node0.s-silent') && document.querySelectorAll('button.ctl:not([disabled])').length === 0`, 20*time.Second)
	p.waitFor("the page offline", `!document.getElementById('live').classList.contains('on')`, 20*time.Second)
	p.shot("devnet-network-self-stopped")
	watch.check(t)
}
