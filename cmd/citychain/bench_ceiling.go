package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/chain"
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
type benchCeiling struct {
	VerifyUS      float64 `json:"verify_us"`     // one verification on one core, µs
	Verifications int     `json:"verifications"` // how many were timed
	Cores         int     `json:"cores"`
	Nodes         int     `json:"nodes"`
	LimitTPS      float64 `json:"limit_tps"` // Cores / (Nodes x verify time)
}

// measureCeiling verifies the signature of a real signed transfer n times
// in a row on one goroutine (stopping early after limit) and returns the
// verification limit of nodes nodes on this machine's cores.
func measureCeiling(nodes, n int, limit time.Duration) (benchCeiling, error) {
	p, err := chain.EncodePayload(bank.Send{To: chain.AddressOf(node.DevKey(9).PublicKey()), Amount: 1})
	if err != nil {
		return benchCeiling{}, err
	}
	tx := &chain.Tx{ChainID: node.DevnetChainID, App: bank.Name, Action: bank.ActionSend, Payload: p, Nonce: 1}
	tx.Sign(node.DevKey(0))
	start := time.Now()
	done := 0
	for done < n && (done%100 != 0 || time.Since(start) < limit) {
		if err := tx.VerifySignature(); err != nil {
			return benchCeiling{}, fmt.Errorf("verify a signed transfer: %w", err)
		}
		done++
	}
	per := time.Since(start) / time.Duration(done)
	return ceilingOf(per, done, runtime.NumCPU(), nodes), nil
}

// ceilingOf is the limit C / (N x t).
func ceilingOf(per time.Duration, done, cores, nodes int) benchCeiling {
	c := benchCeiling{VerifyUS: round(float64(per)/float64(time.Microsecond), 1), Verifications: done, Cores: cores, Nodes: nodes}
	if per > 0 && nodes > 0 {
		c.LimitTPS = round(float64(cores)/(float64(nodes)*per.Seconds()), 0)
	}
	return c
}

// String is the ceiling as one line of text.
func (c benchCeiling) String() string {
	return fmt.Sprintf("verification limit: %.0f tx/s = %d cores / (%d nodes x %.1f µs per secp256k1 verify, %d timed on one core)",
		c.LimitTPS, c.Cores, c.Nodes, c.VerifyUS, c.Verifications)
}

// share states committed tx/s as a part of the limit.
func (c benchCeiling) share(committedTPS float64) string {
	if c.LimitTPS <= 0 {
		return ""
	}
	return fmt.Sprintf("committed %.1f tx/s = %.1f%% of the verification limit", committedTPS, 100*committedTPS/c.LimitTPS)
}
