package labs

import (
	"context"
	"fmt"
	"regexp"
)

// Lab 1: a key of one's own, tokens received from a development account,
// and a transfer signed with the new key.
func lab1() *Lab {
	return &Lab{
		Number: 1, Slug: "01-keys-and-transfer",
		Title: tx("Keys, accounts and a transfer", "密钥、账户与转账"),
		Steps: []Step{
			{
				Name: tx("a key of your own in the keystore", "密钥库里有一把你自己的密钥"),
				Hint: tx("Create one: citychain keys new alice --home .devnet/node0 --passphrase-file /tmp/citylab/pass.txt (and pass the same --home to this check).",
					"新建一把：citychain keys new alice --home .devnet/node0 --passphrase-file /tmp/citylab/pass.txt（运行本检查时也要带上同一个 --home）。"),
				Check: lab1Key,
			},
			{
				Name: tx("your account received tokens", "你的账户收到了代币"),
				Hint: tx("Send it some from a development account: citychain tx bank send --home .devnet/node0 --from dev0 --to YOUR_ADDRESS --amount 10 --wait",
					"从开发账户给它转一些：citychain tx bank send --home .devnet/node0 --from dev0 --to 你的地址 --amount 10 --wait"),
				Check: lab1Funded,
			},
			{
				Name: tx("a transfer signed with your key", "用你的密钥签名了一笔转账"),
				Hint: tx("Send some back with your own key: citychain tx bank send --home .devnet/node0 --from alice --passphrase-file /tmp/citylab/pass.txt --to ADDRESS_OF_DEV0 --amount 3 --wait",
					"用你自己的密钥转回一些：citychain tx bank send --home .devnet/node0 --from alice --passphrase-file /tmp/citylab/pass.txt --to dev0的地址 --amount 3 --wait"),
				Check: lab1Sent,
			},
		},
	}
}

// devKeyName matches the names `citychain dev` and `devnet` give their
// keys: dev0..dev9 and the node's own validator key.
var devKeyName = regexp.MustCompile(`^(dev[0-9]+|validator)$`)

// ownKeys returns the student's keys that are not development keys.
func (e *Env) ownKeys() []Key {
	var own []Key
	for _, k := range e.Student.Keys {
		if !devKeyName.MatchString(k.Name) && !e.isDev(k.Address) {
			own = append(own, k)
		}
	}
	return own
}

// ownAccount is the student's key that went furthest in the lab (sent
// before received before neither), with its account, or nil with the
// reason when there is none.
func (e *Env) ownAccount(ctx context.Context) (*Key, *accountView, error) {
	own := e.ownKeys()
	if len(own) == 0 {
		return nil, nil, fmt.Errorf("no key of your own")
	}
	var best *Key
	var bestAcct *accountView
	score := -1
	for i := range own {
		a, err := e.account(ctx, own[i].Address)
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: %w", own[i].Address, err)
		}
		s := 0
		if a.Balance > 0 || a.Nonce > 0 {
			s = 1
		}
		if a.Nonce > 0 {
			s = 2
		}
		if s > score {
			best, bestAcct, score = &own[i], a, s
		}
	}
	return best, bestAcct, nil
}

func lab1Key(_ context.Context, e *Env) Result {
	if e.Student == nil {
		return local()
	}
	own := e.ownKeys()
	if len(own) == 0 {
		if len(e.Student.Keys) == 0 {
			return todo(tx("the keystore of --home holds no key", "--home 指定的密钥库里没有任何密钥"))
		}
		return todo(say("the keystore holds only development keys (%d); they are everybody's",
			"密钥库里只有开发密钥（%d 把），它们人人都有", len(e.Student.Keys)))
	}
	k := own[0]
	return done(say("%s: %s", "%s：%s", k.Name, k.Address))
}

func lab1Funded(ctx context.Context, e *Env) Result {
	if e.Student == nil {
		return local()
	}
	k, a, err := e.ownAccount(ctx)
	if k == nil && err != nil && len(e.ownKeys()) == 0 {
		return todo(tx("first create a key of your own", "请先创建一把你自己的密钥"))
	}
	if err != nil {
		return failed(err)
	}
	switch {
	case a.Balance > 0:
		return done(say("%s holds %d tokens", "%s 持有 %d 个代币", k.Name, a.Balance))
	case a.Nonce > 0:
		return done(say("%s spent what it received (balance 0, %d transaction(s) sent)",
			"%s 收到的代币已经花完（余额 0，已发出 %d 笔交易）", k.Name, a.Nonce))
	}
	return todo(say("%s (%s) has a balance of 0: the chain has never heard of it",
		"%s（%s）的余额为 0：链上还没有它的任何记录", k.Name, k.Address))
}

func lab1Sent(ctx context.Context, e *Env) Result {
	if e.Student == nil {
		return lab1SentByAnyone(ctx, e)
	}
	k, a, err := e.ownAccount(ctx)
	if k == nil && err != nil && len(e.ownKeys()) == 0 {
		return todo(tx("first create a key of your own", "请先创建一把你自己的密钥"))
	}
	if err != nil {
		return failed(err)
	}
	if a.Nonce == 0 {
		return todo(say("%s has signed no committed transaction yet (its nonce is 0)",
			"%s 签名的交易还没有一笔上链（nonce 为 0）", k.Name))
	}
	return done(say("%s signed %d committed transaction(s): its nonce is now %d",
		"%s 签名的 %d 笔交易已上链：它的 nonce 现在是 %d", k.Name, a.Nonce, a.Nonce))
}

// lab1SentByAnyone is the node's view of the last step: some account
// that is not a development account sent tokens, in the recent blocks.
func lab1SentByAnyone(ctx context.Context, e *Env) Result {
	w, err := e.history(ctx)
	if err != nil {
		return failed(err)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for _, t := range w[i].Txs {
			if t.App == "bank" && t.Action == "send" && !e.isDev(t.Sender) {
				return done(say("%s sent tokens in block %d", "%s 在区块 %d 中转出了代币", short(t.Sender), w[i].Height))
			}
		}
	}
	return todo(say("no transfer from an account of a student's own in the last %d blocks",
		"最近 %d 个区块里没有学生自己的账户发出的转账", len(w)))
}
