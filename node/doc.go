// Package node runs a CityChain node: it owns every goroutine, timer and
// socket, and drives the deterministic core in package chain.
//
// A node is its home folder (config.toml, genesis.json, the validator key,
// the keystore and the Badger data) plus these parts:
//
//   - Mempool: transactions that passed their checks, signature verified
//     once on admission, consecutive nonces per sender, bounded, refusing
//     with 503 when full rather than dropping later.
//   - the block producer (produce.go): in `citychain dev` the node is the
//     only validator and makes a block as soon as transactions arrive.
//   - the consensus driver (engine.go, engine_msgs.go, engine_propose.go,
//     engine_commit.go): in a network the node runs the Tendermint machine
//     of chain/consensus, signs through its double-sign guard (signer.go),
//     gossips over p2p (network.go), checks and builds blocks (blocks.go),
//     rebuilds compact proposals and fetches the transactions it lacks
//     (compact*.go),
//     keeps evidence of misbehaviour for blocks to carry (evidence.go) and
//     catches up by block sync on a goroutine of its own (sync.go). It meets
//     time, the network and the disk through small interfaces (clock.go), so
//     the seeded simulation (sim*_test.go) runs this very code; see
//     docs/consensus.md.
//   - the HTTP API (api.go, submit.go): the routes of DESIGN.md, errors as
//     {"error": {"code", "message"}}, the SSE event stream and /metrics.
//     docs/openapi.yaml documents every route, and openapi*_test.go holds
//     the node to it: routes, answers and error codes.
//   - the explorer (explorer.go, explorer/): one embedded page served at /.
//   - the devnet (devnet.go, supervisor*.go, devnetctl.go): the homes of a
//     local network, and the Supervisor that runs its node processes and
//     carries out the classroom controls (stop, pause, cut ...), which a
//     node passes on from its explorer only when that Supervisor started it.
//
// Invariants: a transaction is acknowledged with a receipt only after its
// block is stored (one fsynced Badger transaction); the mempool and
// waiting clients learn of a block only after that write returns.
package node
