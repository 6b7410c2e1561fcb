package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node/client"
)

// The nodes of a run: reaching them, reading the state the setup needs,
// and committing the setup on every one of them before the clock starts.

// benchTarget is one node the load goes to.
type benchTarget struct {
	url string
	cl  *client.Client
}

// connectTargets asks every node for its status and returns the targets,
// the chain id they share and the first node's validator count.
func connectTargets(ctx context.Context, urls []string) ([]benchTarget, string, int, error) {
	var targets []benchTarget
	chainID, validators := "", 0
	for i, u := range urls {
		cl := client.New(u)
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := cl.Status(c)
		cancel()
		if err != nil {
			return nil, "", 0, fmt.Errorf("node %s does not answer: %w", u, err)
		}
		if i == 0 {
			chainID, validators = st.ChainID, len(st.Validators)
		} else if st.ChainID != chainID {
			return nil, "", 0, fmt.Errorf("node %s is on chain %q, node %s on %q: give nodes of one chain", u, st.ChainID, urls[0], chainID)
		}
		targets = append(targets, benchTarget{url: u, cl: cl})
	}
	return targets, chainID, validators, nil
}

// nodeState is benchState read from a node's API.
type nodeState struct{ cl *client.Client }

func (n nodeState) Balance(ctx context.Context, a chain.Address) (uint64, error) {
	acct, err := n.cl.Account(ctx, a)
	if err != nil {
		return 0, err
	}
	return acct.Balance, nil
}

func (n nodeState) Nonce(ctx context.Context, a chain.Address) (uint64, error) {
	acct, err := n.cl.Account(ctx, a)
	if err != nil {
		return 0, err
	}
	return acct.PendingNonce, nil
}

func (n nodeState) IsParticipant(ctx context.Context, a chain.Address) (bool, error) {
	var p trace.ParticipantAnswer
	err := n.cl.Get(ctx, "/v1/apps/trace/participants/"+a.String(), &p)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (n nodeState) Device(ctx context.Context, id string) (string, uint64, bool, error) {
	var d city.DeviceView
	err := n.cl.Get(ctx, "/v1/apps/city/device/"+id, &d)
	if isNotFound(err) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return d.PubKey, d.State.LastSeq, true, nil
}

func isNotFound(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Status == 404
}

// prepareWorkload makes the senders, sends the setup transactions to the
// first node and waits until every node has committed them, reads each
// sender's next nonce from its node, and signs ahead.
func prepareWorkload(ctx context.Context, log io.Writer, targets []benchTarget, chainID string, o *benchOptions) (*benchWorkload, error) {
	kinds, err := mixKinds(o.mix)
	if err != nil {
		return nil, err
	}
	w, err := newWorkload(chainID, kinds, o.senders, len(targets))
	if err != nil {
		return nil, err
	}
	w.cbor = o.batch > 1
	setup, err := w.setupTxs(ctx, nodeState{targets[0].cl})
	if err != nil {
		return nil, fmt.Errorf("prepare senders: %w", err)
	}
	if len(setup) > 0 {
		fmt.Fprintf(log, "setting up %d senders: %d funding and registration transactions...\n", o.senders, len(setup))
		if err := commitSetup(ctx, targets, setup); err != nil {
			return nil, err
		}
	}
	for _, s := range w.senders {
		n, err := nodeState{targets[s.target].cl}.Nonce(ctx, s.addr)
		if err != nil {
			return nil, err
		}
		s.nonce = n
	}
	plan := signPlan(o)
	fmt.Fprintf(log, "signing %d transactions (--mix %s) from %d senders for %d nodes...\n", plan, o.mix, o.senders, len(targets))
	if err := w.signAhead(plan); err != nil {
		return nil, err
	}
	return w, nil
}

// setupBatch is how many setup transactions go in one request.
const setupBatch = 500

// commitSetup sends txs to the first node in batches, checks that each
// committed with an ok receipt, and waits until every node reached the
// height of the last one (every node checks new transactions against
// its own committed state). It gives up after a minute.
func commitSetup(ctx context.Context, targets []benchTarget, txs []*chain.Tx) error {
	cl := targets[0].cl
	for i := 0; i < len(txs); i += setupBatch {
		part := txs[i:min(i+setupBatch, len(txs))]
		raws := make([][]byte, len(part))
		for j, tx := range part {
			raws[j] = tx.Encode()
		}
		res, err := cl.SubmitBatch(ctx, raws)
		if err != nil {
			return fmt.Errorf("setup transactions: %w", err)
		}
		for j, r := range res {
			if r.Error != nil {
				return fmt.Errorf("setup transaction %s/%s: %s: %s", part[j].App, part[j].Action, r.Error.Code, r.Error.Message)
			}
		}
	}
	deadline := time.Now().Add(time.Minute)
	var top uint64
	for _, tx := range txs {
		for {
			tv, err := cl.Tx(ctx, tx.Hash().String())
			if err == nil && tv.Status != "pending" {
				if tv.Status != chain.StatusOK {
					return fmt.Errorf("setup transaction %s/%s failed: %s", tx.App, tx.Action, tv.Error)
				}
				top = max(top, tv.Height)
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("setup transactions were not committed within a minute (last answer: %v)", err)
			}
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	for _, t := range targets[1:] {
		for {
			st, err := t.cl.Status(ctx)
			if err == nil && st.Height >= top {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s did not reach height %d of the setup within a minute", t.url, top)
			}
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// blockDigest is what the bench reads of a block: its hash, state root
// and transaction hashes.
type blockDigest struct {
	Hash, StateRoot chain.Hash
	TxHashes        []chain.Hash
}

// blockReader reads blocks of one node in CBOR, the cheap form, and as
// JSON once the node has shown it answers only JSON (a node older than
// the CBOR form), so such a node is asked once per block, not twice. One
// goroutine uses a reader at a time.
type blockReader struct {
	cl       *client.Client
	jsonOnly bool
}

// read returns the digest of block h.
func (br *blockReader) read(ctx context.Context, h uint64) (*blockDigest, error) {
	if !br.jsonOnly {
		b, _, err := br.cl.EncodedBlock(ctx, fmt.Sprint(h))
		if err == nil {
			return &blockDigest{Hash: b.Hash(), StateRoot: b.Header.StateRoot, TxHashes: b.TxHashes()}, nil
		}
		if !errors.Is(err, client.ErrNoCBOR) {
			return nil, err
		}
		br.jsonOnly = true
	}
	v, err := br.cl.Block(ctx, fmt.Sprint(h))
	if err != nil {
		return nil, err
	}
	d := &blockDigest{Hash: v.Hash, StateRoot: v.StateRoot, TxHashes: make([]chain.Hash, len(v.Txs))}
	for i, t := range v.Txs {
		d.TxHashes[i] = t.Hash
	}
	return d, nil
}
