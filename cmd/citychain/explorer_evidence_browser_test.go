package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citychain/citychain/apps/poa"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
)

// TestExplorerEvidenceBrowser makes validator 3 of a 4-validator devnet
// sign two different prevotes for one height and round: a libp2p peer of
// the test holds node3's validator key (read from node3's home) and
// gossips them, as a validator whose key runs in two places would. The
// nodes catch it, a block carries the evidence, and poa removes node3
// from the set two blocks later while the other three go on. The block's
// page shows the evidence (the offender linked to its validator page, the
// offence, height and round, the two blocks) with its explanation, in
// English and in Chinese; node3's validator page shows the record and the
// removal; the Validators page lists the record, and the block list marks
// the block.
func TestExplorerEvidenceBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet and a browser")
	}
	findBrowser(t)
	d := startDevnet(t, 4)
	key, err := node.LoadValidatorKey(filepath.Join(d.net.Nodes[3].Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	offender := chain.AddressOf(key.PublicKey())
	transfer(t, d.nodes[0], 0, 1, true)

	twin := startAttacker(t, d.net.ChainID, d.net.Nodes[0].P2P)
	node0 := p2pID(t, d.net.Nodes[0].P2P)
	eventually(t, 20*time.Second, "the test's peer connected to node0", func() bool { return hasPeer(twin, node0) })

	// Two prevotes of node3 for the heights about to be decided, each pair
	// naming two made-up blocks, until a block carries the evidence.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var carried *node.BlockView
	scanned := d.height(0)
	for try := 0; carried == nil; try++ {
		if ctx.Err() != nil {
			t.Fatalf("no block up to height %d carries evidence against %s", scanned, offender)
		}
		h := d.height(0)
		for _, height := range []uint64{h + 1, h + 2} {
			for _, side := range []string{"a", "b"} {
				v := &chain.Vote{ChainID: d.net.ChainID, Type: chain.Prevote, Height: height,
					BlockHash: chain.Sum(fmt.Appendf(nil, "fork %d %d %s", try, height, side)), Validator: offender}
				v.Sign(key)
				if err := twin.PublishConsensus(ctx, chain.MustEncode(&chain.ConsensusMessage{Vote: v})); err != nil {
					t.Logf("publish: %v", err)
				}
			}
		}
		transfer(t, d.nodes[try%3], try%3, 1, true)
		for top := d.height(0); scanned < top && carried == nil; {
			scanned++
			b, err := d.nodes[0].Block(ctx, fmt.Sprint(scanned))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range b.Evidence {
				if ev.Offender == offender {
					carried = b
				}
			}
		}
	}
	// More pieces may follow in later blocks (the pairs of the last try);
	// this block may carry more than one, each a round of node3's.
	idx := 0
	for i, x := range carried.Evidence {
		if x.Offender == offender {
			idx = i
		}
	}
	ev := carried.Evidence[idx]
	h := carried.Height
	t.Logf("block %d carries evidence: %s by %s at height %d round %d", h, ev.Kind, ev.Offender, ev.Height, ev.Round)
	if ev.Kind != chain.EvidenceDuplicateVote || ev.VoteType != chain.Prevote || carried.EvidenceHash.IsZero() {
		t.Fatalf("the evidence shows as %+v, evidence_hash %s", ev, carried.EvidenceHash)
	}
	// Two blocks later the set no longer holds node3; the three others
	// decide on.
	for i := 0; d.height(0) < h+poa.ActivationDelay+1; i++ {
		if i > 30 {
			t.Fatalf("the chain did not pass height %d after the evidence", h+poa.ActivationDelay)
		}
		transfer(t, d.nodes[i%3], i%3, 1, true)
	}
	var vs node.ValidatorsView
	getJSONTest(t, d.net.Nodes[0].API+"/v1/validators", &vs)
	if len(vs.Validators) != 3 {
		t.Fatalf("%d validators after the removal, want 3", len(vs.Validators))
	}

	base := d.net.Nodes[0].API
	watch := &pageWatch{host: base[len("http://"):]}
	p := newBrowser(t, base, watch)
	p.do(20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/#/block/%d", base, h)))
	watch.selfTest(p)

	// The block: its evidence hash, what the evidence proves and the two
	// blocks it names, what poa did, and the explanation.
	p.waitFor("the evidence table", fmt.Sprintf(`document.querySelectorAll('#block-evidence tbody tr').length === %d`, len(carried.Evidence)), 15*time.Second)
	p.waitFor("the evidence hash in the header fields", fmt.Sprintf(`document.getElementById('evidence-hash')?.textContent === %q`, carried.EvidenceHash.String()), 5*time.Second)
	row := fmt.Sprintf(`document.querySelectorAll('#block-evidence tbody tr')[%d]`, idx)
	p.waitFor("the offender linked to its validator page", fmt.Sprintf(`!!%s.querySelector('a[href="#/validator/%s"]')`, row, offender), 5*time.Second)
	p.waitFor("the offence, height and round", fmt.Sprintf(`(t => t.includes('double vote (prevote)') && t.includes('%d / %d'))(%s.textContent)`, ev.Height, ev.Round, row), 5*time.Second)
	p.waitFor("the two blocks", fmt.Sprintf(`(c => c.length === 2 && c[0].title === %q && c[1].title === %q)([...%s.querySelectorAll('code[title]')])`,
		ev.BlockHashes[0].String(), ev.BlockHashes[1].String(), row), 5*time.Second)
	p.waitFor("the removal", fmt.Sprintf(`%s.textContent.includes('removed: not in the set from height %d')`, row, h+poa.ActivationDelay), 5*time.Second)
	p.waitFor("the explanation", `(t => t.includes('signed two statements') && t.includes('Double vote'))(document.getElementById('evidence').textContent)`, 5*time.Second)
	p.do(5*time.Second, chromedp.ScrollIntoView(chromedp.ID("evidence")))
	p.shot("block-evidence")

	// Its validator page, through the link.
	p.do(5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`%s.querySelector('a[href="#/validator/%s"]').click()`, row, offender)))
	p.waitFor("node3's validator page", fmt.Sprintf(`location.hash === '#/validator/%s' && document.querySelectorAll('#val-evidence tbody tr').length >= 1`, offender), 10*time.Second)
	p.waitFor("the record and the removal", fmt.Sprintf(`(t => t.includes('#%d') && t.includes('removed: not in the set from height %d'))(document.getElementById('val-evidence').textContent)`, h, h+poa.ActivationDelay), 5*time.Second)
	p.waitFor("node3 out of the set", `(document.getElementById('val-member')?.textContent || '').includes('not in the set')`, 5*time.Second)
	p.shot("validator-evidence")

	p.open("#/validators")
	p.waitFor("the record on the Validators page", fmt.Sprintf(`!!document.querySelector('#evidence-list a[href="#/validator/%s"]')`, offender), 15*time.Second)
	p.waitFor("three validators", `document.querySelectorAll('#val-keys tbody tr').length === 3`, 5*time.Second)
	p.open("#/blocks")
	p.waitFor("the block marked in the list", fmt.Sprintf(`(r => !!r && r.textContent.includes('evidence'))([...document.querySelectorAll('#blocks tbody tr')].find(r => r.querySelector('a[href="#/block/%d"]')))`, h), 15*time.Second)

	p.checkLayouts(fmt.Sprintf("#/block/%d", h), "#/validator/"+offender.String(), "#/validators")

	// In Chinese.
	p.open(fmt.Sprintf("#/block/%d", h))
	p.waitFor("the block page", `document.querySelectorAll('#block-evidence tbody tr').length >= 1`, 10*time.Second)
	p.click(5*time.Second, "lang")
	p.waitFor("the evidence in Chinese", `(t => t.includes('违规证据') && t.includes('重复投票（预投票）') && t.includes('已移除'))(document.getElementById('evidence')?.textContent || '')`, 10*time.Second)
	p.do(5*time.Second, chromedp.ScrollIntoView(chromedp.ID("evidence")))
	p.shot("block-evidence-zh")
	p.open("#/validator/" + offender.String())
	p.waitFor("the validator page in Chinese", `(t => t.includes('针对该验证者的证据') && t.includes('不在签署高度'))(document.getElementById('view').textContent)`, 10*time.Second)
	p.click(5*time.Second, "lang")
	p.waitFor("English again", `document.getElementById('view').textContent.includes('Evidence against this validator')`, 10*time.Second)
	watch.check(t)
}
