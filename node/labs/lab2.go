package labs

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Lab 2: rehash a block and its parent and verify the commit signatures
// with a program of one's own. The check reads what the program printed
// (--answer) and compares it with the chain:
//
//	block 12 hash 5f1c...   the hash recomputed from block 12's fields
//	block 11 hash 9e3a...   the same for its parent
//	link 11 -> 12 ok        block 12's prev_hash is block 11's hash
//	precommit city1... ok   one verified signature of block 12's commit
//
// Other lines are ignored, so the program may say more.
func lab2() *Lab {
	return &Lab{
		Number: 2, Slug: "02-verify-a-block",
		Title: tx("Verify a block by hand", "亲手验证一个区块"),
		Steps: []Step{
			{
				Name: tx("your program's output", "你的程序的输出"),
				Hint: tx("Run the lab's program and pass what it printed: go run /tmp/citylab/blockcheck.go 2 > /tmp/citylab/out.txt, then citychain lab check 2 --answer /tmp/citylab/out.txt",
					"运行实验里的程序并把输出交给检查：go run /tmp/citylab/blockcheck.go 2 > /tmp/citylab/out.txt，然后 citychain lab check 2 --answer /tmp/citylab/out.txt"),
				Check: lab2Output,
			},
			{
				Name: tx("the block hash you computed", "你算出的区块哈希"),
				Hint: tx("Encode the header as canonical CBOR: keys sorted shortest first, then bytewise; hashes and the proposer's 20 address bytes as byte strings; time in unix milliseconds; leave evidence_hash out when it is all zeros. The hash is SHA-256 of those bytes.",
					"把区块头编码为规范 CBOR：键先按长度、再按字节排序；哈希和出块者地址的 20 个字节写成字节串；时间用 Unix 毫秒；evidence_hash 全为零时省略。区块哈希就是这些字节的 SHA-256。"),
				Check: lab2Hash,
			},
			{
				Name: tx("the link to the parent block", "与父区块的哈希链接"),
				Hint: tx("Rehash the parent the same way, print \"block H-1 hash ...\", and compare it with the prev_hash of block H; print \"link H-1 -> H ok\" when they are equal.",
					"用同样的方法重新计算父区块的哈希，输出 \"block H-1 hash ...\"，再与区块 H 的 prev_hash 比较；两者相等时输出 \"link H-1 -> H ok\"。"),
				Check: lab2Link,
			},
			{
				Name: tx("the commit signatures you verified", "你验证过的提交签名"),
				Hint: tx("For each signature in the block's commit, rebuild the precommit's bytes {chain_id, type: 2, height, round, block_hash, validator}, hash them with SHA-256 and verify the 64-byte r||s signature with the validator's public key from /v1/validators; print \"precommit ADDRESS ok\". Together they must hold more than 2/3 of the power.",
					"对区块提交中的每个签名，重建预提交投票的字节 {chain_id, type: 2, height, round, block_hash, validator}，做 SHA-256，再用 /v1/validators 中该验证者的公钥验证 64 字节的 r||s 签名；每验证一个就输出 \"precommit 地址 ok\"。这些验证者的投票权合计必须超过 2/3。"),
				Check: lab2Signatures,
			},
		},
	}
}

var (
	lab2BlockLine = regexp.MustCompile(`(?m)^\s*block\s+(\d+)\s+hash\s+([0-9a-fA-F]{64})\b`)
	lab2LinkLine  = regexp.MustCompile(`(?m)^\s*link\s+(\d+)\s*->\s*(\d+)\s+ok\b`)
	lab2SigLine   = regexp.MustCompile(`(?m)^\s*precommit\s+(\S+)\s+ok\b`)
)

// lab2Answer is what the student's program printed, as the check reads it.
type lab2Answer struct {
	hashes map[uint64]string // block height -> hash printed
	links  map[[2]uint64]bool
	signed []string
	target uint64 // the block the program checked: the highest it rehashed
}

func parseLab2(text string) *lab2Answer {
	a := &lab2Answer{hashes: map[uint64]string{}, links: map[[2]uint64]bool{}}
	for _, m := range lab2BlockLine.FindAllStringSubmatch(text, -1) {
		h, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			continue
		}
		a.hashes[h] = strings.ToLower(m[2])
		a.target = max(a.target, h)
	}
	for _, m := range lab2LinkLine.FindAllStringSubmatch(text, -1) {
		p, err1 := strconv.ParseUint(m[1], 10, 64)
		c, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 == nil && err2 == nil {
			a.links[[2]uint64{p, c}] = true
		}
	}
	for _, m := range lab2SigLine.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(a.signed, m[1]) {
			a.signed = append(a.signed, m[1])
		}
	}
	return a
}

// lab2Read returns the parsed answer, or the result to report when
// there is none to judge.
func lab2Read(e *Env) (*lab2Answer, *Result) {
	if e.Student == nil {
		r := local()
		return nil, &r
	}
	if strings.TrimSpace(e.Student.Answer) == "" {
		r := todo(tx("no --answer given", "没有提供 --answer"))
		return nil, &r
	}
	a := parseLab2(e.Student.Answer)
	if a.target == 0 {
		r := todo(tx("the output has no line \"block H hash HEX\" (64 hex digits) for a block above 0",
			"输出里没有 \"block H hash 十六进制\"（64 位十六进制）这样的行，或高度不大于 0"))
		return nil, &r
	}
	return a, nil
}

func lab2Output(_ context.Context, e *Env) Result {
	a, r := lab2Read(e)
	if r != nil {
		return *r
	}
	return done(say("it checked block %d (%d signature line(s))", "它检查的是区块 %d（输出了 %d 行签名）", a.target, len(a.signed)))
}

func lab2Hash(ctx context.Context, e *Env) Result {
	a, r := lab2Read(e)
	if r != nil {
		return *r
	}
	b, err := e.block(ctx, a.target)
	if err != nil {
		return failed(err)
	}
	if got := a.hashes[a.target]; got != b.Hash {
		return todo(say("you printed %s for block %d; the chain's block %d has another hash",
			"你给区块 %[2]d 输出的是 %[1]s；链上区块 %[3]d 的哈希与此不同", short(got), a.target, a.target))
	}
	return done(say("block %d hashes to %s, as on the chain", "区块 %d 的哈希是 %s，与链上一致", a.target, short(b.Hash)))
}

func lab2Link(ctx context.Context, e *Env) Result {
	a, r := lab2Read(e)
	if r != nil {
		return *r
	}
	parent := a.target - 1
	if parent == 0 {
		return todo(tx("block 1's parent is the genesis header: check a block at height 2 or more",
			"区块 1 的父区块是创世区块头：请检查高度不小于 2 的区块"))
	}
	got, ok := a.hashes[parent]
	if !ok {
		return todo(say("the output has no line \"block %d hash ...\" for the parent", "输出里没有父区块的 \"block %d hash ...\" 这一行", parent))
	}
	pb, err := e.block(ctx, parent)
	if err != nil {
		return failed(err)
	}
	if got != pb.Hash {
		return todo(say("you printed %s for block %d; the chain's block has another hash",
			"你给区块 %[2]d 输出的是 %[1]s；链上该区块的哈希与此不同", short(got), parent))
	}
	if !a.links[[2]uint64{parent, a.target}] {
		return todo(say("the parent's hash is right, but no line \"link %d -> %d ok\" says you compared it with prev_hash",
			"父区块的哈希正确，但没有 \"link %d -> %d ok\" 这一行说明你把它与 prev_hash 比较过", parent, a.target))
	}
	return done(say("block %d's prev_hash is block %d's hash %s", "区块 %d 的 prev_hash 等于区块 %d 的哈希 %s", a.target, parent, short(pb.Hash)))
}

func lab2Signatures(ctx context.Context, e *Env) Result {
	a, r := lab2Read(e)
	if r != nil {
		return *r
	}
	if len(a.signed) == 0 {
		return todo(tx("the output has no line \"precommit ADDRESS ok\"", "输出里没有 \"precommit 地址 ok\" 这样的行"))
	}
	// The signers the chain holds for the block: its commit as the node
	// stored it, and the quorum the next block carries.
	b, err := e.block(ctx, a.target)
	if err != nil {
		return failed(err)
	}
	signers := map[string]bool{}
	if b.Commit != nil {
		for _, s := range b.Commit.Signatures {
			signers[s.Validator] = true
		}
	}
	if next, err := e.block(ctx, a.target+1); err == nil && next.LastCommit != nil {
		for _, s := range next.LastCommit.Signatures {
			signers[s.Validator] = true
		}
	}
	vs, err := e.validators(ctx)
	if err != nil {
		return failed(err)
	}
	power := map[string]uint64{}
	for _, v := range vs.Validators {
		power[v.Address] = v.Power
	}
	var signed uint64
	for _, addr := range a.signed {
		if !signers[addr] {
			return todo(say("%s did not sign block %d's commit: a line \"precommit %s ok\" cannot be right",
				"%s 并未签署区块 %d 的提交：\"precommit %s ok\" 这一行不可能正确", short(addr), a.target, short(addr)))
		}
		signed += power[addr]
	}
	if signed < vs.Quorum {
		return todo(say("you verified signatures of power %d; a commit needs %d (more than 2/3 of the power)",
			"你验证的签名投票权合计 %d；一个提交需要 %d（超过总投票权的 2/3）", signed, vs.Quorum))
	}
	return done(say("%d signature(s) of block %d verified, power %d of the quorum %d",
		"已验证区块 %[2]d 的 %[1]d 个签名，投票权 %[3]d，法定人数 %[4]d", len(a.signed), a.target, signed, vs.Quorum))
}
