package poa

import (
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

func queryProposals(q *chain.QueryContext, _ sdk.Params) (any, error) {
	out := []Proposal{}
	_, err := sdk.EachRecord(q.Store(), []byte("prop/"), nil, 0, func(_ []byte, p *Proposal) (bool, error) {
		out = append(out, *p)
		return true, nil
	})
	return out, err
}

func queryProposal(q *chain.QueryContext, p sdk.Params) (any, error) {
	id := p.Path("id")
	pr, err := sdk.Load[Proposal](q.Store(), propKey(id), "proposal "+id)
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// queryEvidence lists the recorded offences in key order (by validator,
// then height): all of them, or with a height those carried by the block
// at that height. Records of the retired transaction have no kind in
// storage and read as the duplicate votes they are.
func queryEvidence(q *chain.QueryContext, p sdk.Params) (any, error) {
	all := p.Path("height") == ""
	height, err := p.Uint("height", 0)
	if err != nil {
		return nil, err
	}
	out := []EvidenceRecord{}
	_, err = sdk.EachRecord(q.Store(), []byte("ev/"), nil, 0, func(_ []byte, r *EvidenceRecord) (bool, error) {
		if r.Kind == "" {
			r.Kind = chain.EvidenceDuplicateVote
		}
		if all || r.Committed == height {
			out = append(out, *r)
		}
		return true, nil
	})
	return out, err
}
