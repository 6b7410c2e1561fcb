package labs

import (
	"context"
	"slices"
)

// Lab 6: the validators vote a new validator in (the poa module), and
// the newcomer's node starts to sign. A change is decided once
// validators holding more than 2/3 of the power sent the same proposal,
// and the new set signs from two blocks later (effective_at).
func lab6() *Lab {
	return &Lab{
		Number: 6, Slug: "06-add-a-validator",
		Title: tx("Add a validator by vote", "投票加入新的验证者"),
		Steps: []Step{
			{
				Name: tx("a proposal to add a validator", "提议加入一个验证者"),
				Hint: tx("Make a home for the newcomer (citychain init --home /tmp/citylab/newval ...) and propose it with a validator's key: citychain tx poa propose --home .devnet/node0 --from validator --add ADDRESS --pubkey PUBKEY --wait",
					"为新成员建一个目录（citychain init --home /tmp/citylab/newval ...），再用一个验证者的密钥提议它：citychain tx poa propose --home .devnet/node0 --from validator --add 地址 --pubkey 公钥 --wait"),
				Check: lab6Proposed,
			},
			{
				Name: tx("the vote passed", "投票通过"),
				Hint: tx("Send the same proposal from more validators (node1, node2 ...) until they hold more than 2/3 of the power: with four validators, three votes.",
					"让更多验证者（node1、node2……）发送同样的提议，直到他们的投票权超过 2/3：四个验证者时需要三票。"),
				Check: lab6Decided,
			},
			{
				Name: tx("the newcomer is in the validator set", "新成员进入了验证者集合"),
				Hint: tx("The change takes effect two blocks after the decision; wait for two blocks (send a transaction if the chain is idle).",
					"变更在决定之后两个区块生效；等两个区块（链空闲时可以发一笔交易）。"),
				Check: lab6InSet,
			},
			{
				Name: tx("the newcomer signs blocks", "新成员参与了区块签名"),
				Hint: tx("Start the newcomer's node (citychain node --home /tmp/citylab/newval) and let it catch up; from then on its precommits appear in commits and it proposes in its turn.",
					"启动新成员的节点（citychain node --home /tmp/citylab/newval），等它追上进度；之后它的预提交会出现在区块提交里，轮到它时也会出块。"),
				Check: lab6Signs,
			},
		},
	}
}

// poaProposal is one of GET /v1/apps/poa/proposals.
type poaProposal struct {
	ID        string   `json:"id"`
	Op        string   `json:"op"`
	Address   string   `json:"address"`
	Votes     []string `json:"votes"`
	DecidedAt uint64   `json:"decided_at"`
	Effective uint64   `json:"effective_at"`
	Skipped   string   `json:"skipped"`
}

// additions returns the proposals to add a validator, latest last.
func (e *Env) additions(ctx context.Context) ([]poaProposal, error) {
	var ps []poaProposal
	if err := e.Chain.Get(ctx, "/v1/apps/poa/proposals", &ps); err != nil {
		return nil, err
	}
	var adds []poaProposal
	for _, p := range ps {
		if p.Op == "add" {
			adds = append(adds, p)
		}
	}
	return adds, nil
}

// decidedAddition returns the latest addition that was decided and not
// skipped.
func decidedAddition(adds []poaProposal) *poaProposal {
	for i := len(adds) - 1; i >= 0; i-- {
		if adds[i].DecidedAt > 0 && adds[i].Skipped == "" {
			return &adds[i]
		}
	}
	return nil
}

func lab6Proposed(ctx context.Context, e *Env) Result {
	adds, err := e.additions(ctx)
	if err != nil {
		return failed(err)
	}
	if len(adds) == 0 {
		return todo(tx("no proposal to add a validator yet", "还没有加入验证者的提议"))
	}
	p := adds[len(adds)-1]
	return done(say("proposal %s adds %s (%d vote(s))", "提议 %s 要加入 %s（%d 票）", p.ID, short(p.Address), len(p.Votes)))
}

func lab6Decided(ctx context.Context, e *Env) Result {
	adds, err := e.additions(ctx)
	if err != nil {
		return failed(err)
	}
	if p := decidedAddition(adds); p != nil {
		return done(say("decided at height %d with %d vote(s); the new set signs from height %d",
			"在高度 %d 以 %d 票通过；新的验证者集合从高度 %d 开始签名", p.DecidedAt, len(p.Votes), p.Effective))
	}
	if len(adds) == 0 {
		return todo(tx("no proposal to add a validator yet", "还没有加入验证者的提议"))
	}
	p := adds[len(adds)-1]
	if p.Skipped != "" {
		return todo(say("proposal %s was decided but skipped: %s", "提议 %s 已通过但被跳过：%s", p.ID, p.Skipped))
	}
	return todo(say("proposal %s has %d vote(s), not yet more than 2/3 of the power", "提议 %s 只有 %d 票，还没有超过 2/3 的投票权", p.ID, len(p.Votes)))
}

// decidedAddition is the latest decided addition of a validator, or nil
// with the result to answer: the error, or that none is decided yet.
func (e *Env) decidedAddition(ctx context.Context) (*poaProposal, Result) {
	adds, err := e.additions(ctx)
	if err != nil {
		return nil, failed(err)
	}
	if p := decidedAddition(adds); p != nil {
		return p, Result{}
	}
	return nil, todo(tx("no addition was decided yet", "还没有通过任何加入提议"))
}

func lab6InSet(ctx context.Context, e *Env) Result {
	p, res := e.decidedAddition(ctx)
	if p == nil {
		return res
	}
	vs, err := e.validators(ctx)
	if err != nil {
		return failed(err)
	}
	if !slices.ContainsFunc(vs.Validators, func(v validatorView) bool { return v.Address == p.Address }) {
		return todo(say("%s is not in the set yet (it takes effect at height %d)", "%s 还不在集合里（从高度 %d 起生效）", short(p.Address), p.Effective))
	}
	return done(say("%s is one of %d validators; a block now needs power %d", "%s 是 %d 个验证者之一；现在每个区块需要合计 %d 的投票权",
		short(p.Address), len(vs.Validators), vs.Quorum))
}

func lab6Signs(ctx context.Context, e *Env) Result {
	p, res := e.decidedAddition(ctx)
	if p == nil {
		return res
	}
	w, err := e.history(ctx)
	if err != nil {
		return failed(err)
	}
	for i := len(w) - 1; i >= 0; i-- {
		f := w[i]
		if f.Height < p.Effective {
			break
		}
		if f.Proposer == p.Address {
			return done(say("%s proposed block %d", "%s 提出了区块 %d", short(p.Address), f.Height))
		}
		if slices.Contains(f.Signers, p.Address) {
			return done(say("%s signed the commit of block %d", "%s 签署了区块 %d 的提交", short(p.Address), f.Height))
		}
		if slices.Contains(f.LastSigners, p.Address) {
			return done(say("%s signed the commit of block %d", "%s 签署了区块 %d 的提交", short(p.Address), f.Height-1))
		}
	}
	return todo(say("%s has neither proposed nor signed a block since height %d: is its node running?",
		"自高度 %[2]d 以来，%[1]s 既没有出块也没有签名：它的节点在运行吗？", short(p.Address), p.Effective))
}
