package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
)

// The verification ceiling. Every node checks the signature of every
// transaction once, and in a devnet all N nodes share this machine's C
// cores, so no devnet here can commit more than C / (N x t) signed
// transactions per second, t being one secp256k1 verification on one
// core. Measuring t on the machine that runs the load gives the yardstick
// committed_tps is judged against.

// ceilingVerifications is how many signatures the measurement checks;
// ceilingTimeLimit bounds it on a very slow machine.
const (
	ceilingVerifications = 2000
	ceilingTimeLimit     = 5 * time.Second
)

// benchCeiling is one measurement and the limit it gives.
//
// The limit is that of the library's verification, the yardstick the
// figures in docs/benchmarks.md are judged against. A node checks a
// sender it has seen before faster than that (a public key verified a
// second time builds a table that speeds up the rest, chain/crypto), so
// the same measurement is made for a known sender's key and given beside
// it: at that speed the limit is higher, and a devnet whose senders repeat
// can pass the yardstick's limit.
type benchCeiling struct {
	VerifyUS      float64 `json:"verify_us"`     // one verification on one core, µs
	Verifications int     `json:"verifications"` // how many were timed, each way
	Cores         int     `json:"cores"`
	Nodes         int     `json:"nodes"`
	LimitTPS      float64 `json:"limit_tps"` // Cores / (Nodes x verify time)
	// KnownVerifyUS is one verification of a known sender's key (one the
	// node keeps, with its table built), and KnownLimitTPS the limit at
	// that speed.
	KnownVerifyUS float64 `json:"known_sender_verify_us"`
	KnownLimitTPS float64 `json:"known_sender_limit_tps"`
}

// measureCeiling verifies the signature of a real signed transfer n times
// in a row on one goroutine (stopping early after limit), first parsing
// the key each time as a stranger's, then through a key cache as a known
// sender's, and returns the verification limit of nodes nodes on this
// machine's cores.
func measureCeiling(nodes, n int, limit time.Duration) (benchCeiling, error) {
	p, err := chain.EncodePayload(bank.Send{To: chain.AddressOf(node.DevKey(9).PublicKey()), Amount: 1})
	if err != nil {
		return benchCeiling{}, err
	}
	tx := &chain.Tx{ChainID: node.DevnetChainID, App: bank.Name, Action: bank.ActionSend, Payload: p, Nonce: 1}
	tx.Sign(node.DevKey(0))
	per, done, err := timeVerify(tx, nil, n, limit)
	if err != nil {
		return benchCeiling{}, err
	}
	c := ceilingOf(per, done, runtime.NumCPU(), nodes)
	keys := crypto.NewKeyCache(1)
	if _, _, err := timeVerify(tx, keys, 2, limit); err != nil { // the second builds the table
		return benchCeiling{}, err
	}
	known, _, err := timeVerify(tx, keys, done, limit)
	if err != nil {
		return benchCeiling{}, err
	}
	c.KnownVerifyUS, c.KnownLimitTPS = limitOf(known, c.Cores, nodes)
	return c, nil
}

// timeVerify verifies tx's signature n times (stopping early after limit)
// through keys, and returns the time of one and how many were done.
func timeVerify(tx *chain.Tx, keys *crypto.KeyCache, n int, limit time.Duration) (time.Duration, int, error) {
	start := time.Now()
	done := 0
	for done < n && (done%100 != 0 || time.Since(start) < limit) {
		if err := tx.VerifySignatureWith(keys); err != nil {
			return 0, 0, fmt.Errorf("verify a signed transfer: %w", err)
		}
		done++
	}
	return time.Since(start) / time.Duration(done), done, nil
}

// ceilingOf is the limit C / (N x t).
func ceilingOf(per time.Duration, done, cores, nodes int) benchCeiling {
	c := benchCeiling{Verifications: done, Cores: cores, Nodes: nodes}
	c.VerifyUS, c.LimitTPS = limitOf(per, cores, nodes)
	return c
}

// limitOf returns per in µs and the limit C / (N x per).
func limitOf(per time.Duration, cores, nodes int) (us, tps float64) {
	us = round(float64(per)/float64(time.Microsecond), 1)
	if per > 0 && nodes > 0 {
		tps = round(float64(cores)/(float64(nodes)*per.Seconds()), 0)
	}
	return us, tps
}

// String is the ceiling as text: the limit, and the known sender's speed
// when it was measured.
func (c benchCeiling) String() string {
	s := fmt.Sprintf("verification limit: %.0f tx/s = %d cores / (%d nodes x %.1f µs per secp256k1 verify, %d timed on one core)",
		c.LimitTPS, c.Cores, c.Nodes, c.VerifyUS, c.Verifications)
	if c.KnownVerifyUS > 0 {
		s += fmt.Sprintf("\nwith a known sender's key (its table built) a verify takes %.1f µs: %.0f tx/s at that speed",
			c.KnownVerifyUS, c.KnownLimitTPS)
	}
	return s
}

// share states committed tx/s as a part of the limit, and of the known
// sender's limit when it was measured.
func (c benchCeiling) share(committedTPS float64) string {
	if c.LimitTPS <= 0 {
		return ""
	}
	s := fmt.Sprintf("committed %.1f tx/s = %.1f%% of the verification limit", committedTPS, 100*committedTPS/c.LimitTPS)
	if c.KnownLimitTPS > 0 {
		s += fmt.Sprintf(" (%.1f%% of the known sender's)", 100*committedTPS/c.KnownLimitTPS)
	}
	return s
}
