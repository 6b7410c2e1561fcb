package labs

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
)

// Lab 5: register a work in the copyright registry, get its certificate,
// and check the certificate with no node. The check runs the same
// offline verifier the student ran (`citychain verify`), then asks the
// node whether the certificate's block is this chain's and whether the
// work is registered here.
func lab5() *Lab {
	return &Lab{
		Number: 5, Slug: "05-certificate",
		Title: tx("Register a work and verify its certificate offline", "登记作品并离线验证证书"),
		Steps: []Step{
			{
				Name: tx("a work registered on this chain", "本链上登记了一件作品"),
				Hint: tx("Register a file of your own: citychain tx copyright register /tmp/citylab/poem.txt --creator \"YOUR NAME\" --license CC-BY-4.0 --home .devnet/node0 --from dev1 --wait",
					"登记一份你自己的文件：citychain tx copyright register /tmp/citylab/poem.txt --creator \"你的名字\" --license CC-BY-4.0 --home .devnet/node0 --from dev1 --wait"),
				Check: lab5Registered,
			},
			{
				Name: tx("a certificate that verifies offline", "一份能离线验证通过的证书"),
				Hint: tx("Write the certificate (citychain query copyright verify /tmp/citylab/poem.txt --cert /tmp/citylab/poem-cert.json), check it with citychain verify, and pass it: citychain lab check 5 --cert /tmp/citylab/poem-cert.json",
					"写出证书（citychain query copyright verify /tmp/citylab/poem.txt --cert /tmp/citylab/poem-cert.json），用 citychain verify 检查，再交给本检查：citychain lab check 5 --cert /tmp/citylab/poem-cert.json"),
				Check: lab5Verifies,
			},
			{
				Name: tx("the certificate belongs to this chain", "证书属于本链"),
				Hint: tx("Write the certificate from a node of this network: a certificate of another chain verifies too, but proves nothing here.",
					"请从本网络的节点生成证书：别的链的证书同样能验证通过，但在这里什么也证明不了。"),
				Check: lab5ThisChain,
			},
		},
	}
}

// verified is what `citychain verify --output json` prints, the fields
// the check reads.
type verified struct {
	Work struct {
		ID         string `json:"id"`
		SHA256     string `json:"sha256"`
		Registrant string `json:"registrant"`
		Title      string `json:"title"`
	} `json:"work"`
	ChainID        string `json:"chain_id"`
	BlockHeight    uint64 `json:"block_height"`
	BlockHash      string `json:"block_hash"`
	ValidatorsHash string `json:"validators_hash"`
}

// certificate runs the offline verifier on the student's certificate
// once per Env. A nil result comes with the Result to report.
func (e *Env) certificate(ctx context.Context) (*verified, *Result) {
	if e.Student == nil {
		r := local()
		return nil, &r
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cert != nil || e.certRes != nil {
		return e.cert, e.certRes
	}
	e.cert, e.certRes = e.verifyCert(ctx)
	return e.cert, e.certRes
}

func (e *Env) verifyCert(ctx context.Context) (*verified, *Result) {
	fail := func(r Result) (*verified, *Result) { return nil, &r }
	path := e.Student.Cert
	if path == "" {
		return fail(todo(tx("no --cert given", "没有提供 --cert")))
	}
	if _, err := os.Stat(path); err != nil {
		return fail(todo(say("cannot read the certificate: %v", "无法读取证书：%v", err)))
	}
	if e.Student.Verify == nil {
		return fail(todo(tx("no offline verifier in this build", "此版本没有离线验证程序")))
	}
	out, err := e.Student.Verify(ctx, path)
	if err != nil {
		return fail(todo(say("citychain verify refused it: %v", "citychain verify 未通过：%v", err)))
	}
	var v verified
	if err := json.Unmarshal(out, &v); err != nil || v.BlockHash == "" {
		return fail(todo(say("citychain verify printed no result to read (%v)", "citychain verify 没有输出可读取的结果（%v）", err)))
	}
	return &v, nil
}

func lab5Registered(ctx context.Context, e *Env) Result {
	if e.Student == nil || e.Student.Cert == "" {
		return lab5AnyRegistration(ctx, e)
	}
	v, r := e.certificate(ctx)
	if r != nil {
		// Without a readable certificate, any registration will do.
		return lab5AnyRegistration(ctx, e)
	}
	var a struct {
		Work struct {
			SHA256 string `json:"sha256"`
			Height uint64 `json:"height"`
		} `json:"work"`
	}
	err := e.Chain.Get(ctx, "/v1/apps/copyright/work/"+url.PathEscape(v.Work.ID), &a)
	if errors.Is(err, ErrNotFound) {
		return todo(say("the certificate's work %s is not registered on this chain", "证书中的作品 %s 没有在本链登记", short(v.Work.ID)))
	}
	if err != nil {
		return failed(err)
	}
	if a.Work.SHA256 != v.Work.SHA256 {
		return todo(say("this chain holds work %s with another SHA-256 than the certificate", "本链上作品 %s 的 SHA-256 与证书不同", short(v.Work.ID)))
	}
	return done(say("%q is registered at height %d", "《%s》登记于高度 %d", v.Work.Title, a.Work.Height))
}

// lab5AnyRegistration looks for a successful registration in the recent
// blocks: the node's view, and the student's before a certificate.
func lab5AnyRegistration(ctx context.Context, e *Env) Result {
	w, err := e.history(ctx)
	if err != nil {
		return failed(err)
	}
	tried := 0
	for i := len(w) - 1; i >= 0 && tried < 20; i-- {
		for _, t := range w[i].Txs {
			if t.App != "copyright" || t.Action != "register" {
				continue
			}
			tried++
			if r, err := e.txInfo(ctx, t.Hash); err == nil && r.Status == "ok" {
				return done(say("a work was registered in block %d", "区块 %d 中登记了一件作品", w[i].Height))
			}
		}
	}
	return todo(say("no work was registered in the last %d blocks", "最近 %d 个区块中没有登记任何作品", len(w)))
}

func lab5Verifies(ctx context.Context, e *Env) Result {
	v, r := e.certificate(ctx)
	if r != nil {
		return *r
	}
	return done(say("the header hash, the commit signatures and the Merkle proof of block %d check out, with no node",
		"不连接任何节点，区块 %d 的区块头哈希、提交签名和默克尔证明都验证通过", v.BlockHeight))
}

func lab5ThisChain(ctx context.Context, e *Env) Result {
	v, r := e.certificate(ctx)
	if r != nil {
		if r.State == StateLocal {
			return *r
		}
		return todo(tx("first a certificate that verifies", "先要有一份验证通过的证书"))
	}
	st, err := e.status(ctx)
	if err != nil {
		return failed(err)
	}
	if v.ChainID != st.ChainID {
		return todo(say("the certificate is of chain %q; this node runs %q", "证书属于链 %q；这个节点运行的是 %q", v.ChainID, st.ChainID))
	}
	b, err := e.block(ctx, v.BlockHeight)
	if errors.Is(err, ErrNotFound) {
		return todo(say("this chain has no block %d yet: the certificate is of another chain with the same name",
			"本链还没有区块 %d：这份证书来自另一条同名的链", v.BlockHeight))
	}
	if err != nil {
		return failed(err)
	}
	if b.Hash != v.BlockHash {
		return todo(say("block %d of this chain has another hash than the certificate's: it is of another chain with the same name",
			"本链区块 %d 的哈希与证书不同：证书来自另一条同名的链", v.BlockHeight))
	}
	return done(say("block %d of the certificate is block %d of this chain, hash %s",
		"证书中的区块 %d 就是本链的区块 %d，哈希 %s", v.BlockHeight, v.BlockHeight, short(b.Hash)))
}
