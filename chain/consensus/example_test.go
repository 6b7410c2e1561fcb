package consensus_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/chain/crypto"
)

// Example drives the Machine of a chain with one validator the way a node
// does: every event goes to Handle, every action is carried out, and the
// node's own proposals and votes come back as events.
func Example() {
	seed := sha256.Sum256([]byte("example validator"))
	key, _ := crypto.PrivateKeyFromBytes(seed[:])
	self := chain.AddressOf(key.PublicKey())
	vals, _ := chain.NewValidatorSet([]chain.Validator{{Address: self, PubKey: key.PublicKey().Bytes(), Power: 1}})

	m, _ := consensus.New(consensus.Config{ChainID: "example", Self: self, Timeouts: consensus.DefaultTimeouts()})
	var guard consensus.DoubleSignGuard // persisted before anything is signed
	queue := []consensus.Event{consensus.NewHeight{Height: 1, Validators: vals}}
	for len(queue) > 0 {
		acts, err := m.Handle(queue[0])
		queue = queue[1:]
		if err != nil {
			fmt.Println("error:", err)
		}
		for _, a := range acts {
			switch a := a.(type) {
			case consensus.StepChanged:
				fmt.Printf("height %d round %d: %s (%s)\n", a.Height, a.Round, a.Step, a.Reason)
			case consensus.ProposeNew:
				// Build and execute a block; propose its hash.
				p := consensus.Proposal{Height: a.Height, Round: a.Round, BlockHash: chain.Sum([]byte("block 1")),
					POLRound: -1, Proposer: self}
				if guard.RecordProposal(p) == nil {
					queue = append(queue, consensus.ProposalReceived{Proposal: p, Valid: true})
				}
			case consensus.BroadcastVote:
				if guard.Record(a) != nil {
					continue // never sign what the guard refuses
				}
				v := a.Vote
				v.Sign(key)
				queue = append(queue, consensus.VoteReceived{Vote: v})
			case consensus.ScheduleTimeout:
				// A node starts a timer here; no timer fires in this example.
			case consensus.Commit:
				err := vals.VerifyCommit("example", a.Height, a.BlockHash, a.Certificate())
				fmt.Printf("commit height %d with %d precommit, certificate valid: %v\n", a.Height, len(a.Precommits), err == nil)
			}
		}
	}
	// Output:
	// height 1 round 0: propose (new height)
	// height 1 round 0: prevote (proposal received)
	// height 1 round 0: precommit (+2/3 prevotes for a block)
	// commit height 1 with 1 precommit, certificate valid: true
	// height 1 round 0: commit (+2/3 precommits for a block)
}
