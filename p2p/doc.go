// Package p2p is how a CityChain node talks to other nodes: a libp2p host
// (TCP and QUIC, Noise or TLS encryption, yamux streams), gossip topics for
// transactions and consensus messages, request/response protocols for
// block sync and for fetching transactions by hash, a status exchange that tells each side the other's height,
// peer discovery (static bootstrap peers, optional mDNS and Kademlia DHT)
// and a connection gate that can cut this node off from chosen peers.
// The host is assembled from go-libp2p's parts in libp2p.go, not made by
// libp2p.New, so that the binary carries only the transports it uses.
//
// The package knows nothing about what it carries. Transactions,
// consensus messages, blocks and commits are opaque byte slices; the node
// passes in callbacks that judge them (Config.ValidateTx,
// Config.ValidateConsensus), a BlockSource that serves stored blocks and a
// TxSource that serves transactions by hash. FetchTxs is split like block
// sync: it checks framing and sizes, and the node checks that each
// transaction is the one it asked for and decides whom to ask.
// Block sync is split the same way: FetchBlocks asks a given peer for a
// range of blocks (StreamBlocks hands each over as it arrives) and checks
// only framing and sizes, while choosing the
// peer, verifying the blocks and resting or banning a peer that failed
// (AvoidForSync, BanPeer) belong to the node. This keeps the network
// layer small and lets the consensus code change without touching it.
//
// # Identity
//
// A node has two keys. The validator key (secp256k1, package chain/crypto)
// signs transactions and votes. The node key (Ed25519, this package)
// names the node on the network: its peer ID is derived from it, and the
// transport handshake proves ownership of it. Losing the node key only
// changes the peer ID; it never endangers funds or votes.
//
// # Wire protocols
//
// Every protocol ID and topic carries the chain id, so nodes of different
// chains never mix their traffic:
//
//	/citychain/{chain}/txs/1        gossip topic, a transaction or a batch per message
//	/citychain/{chain}/consensus/2  gossip topic, one consensus message each
//	/citychain/{chain}/txfetch/1    stream: transaction hashes and the transactions
//	/citychain/{chain}/sync/1       stream: a block range request and its answer
//	/citychain/{chain}/kad/1.0.0    the private Kademlia DHT (when enabled)
//	/citychain/status/1             stream: chain id, height, latest block hash
//
// The status protocol is the one exception: it does not carry the chain
// id, so that a node on another chain gets a clear "wrong chain" answer
// (and is disconnected and shunned for a while) instead of a bare
// "protocol not supported".
//
// The gossip topics, the gossip message ID, the transaction fetch and the
// block sync protocols are part of the chain's wire format, so package
// chain defines them (chain.TxTopic, chain.ConsensusTopic,
// chain.EvidenceTopic, chain.GossipMessageID, chain.TxFetchProtocolID, chain.TxRequest,
// chain.SyncProtocolID, chain.SyncRequest and their limits) and this
// package carries them. The status protocol and the DHT are its own.
//
// Stream messages are frames: a 4-byte big-endian length and that many
// bytes. A sync request is one 16-byte frame holding the first and last
// height wanted (at most MaxSyncRange blocks). The answer is a pair of
// frames (block, commit) per height, in order from the first height, and
// an empty frame to end; a server sends fewer blocks than asked when it
// has fewer, or when one more would take the answer above
// MaxSyncResponse. A transaction fetch request is one frame of 32-byte
// hashes (at most chain.MaxTxRequest); the answer is one frame per hash,
// in order, empty for a transaction the peer does not hold. Every read
// has a size limit and every stream a deadline; FetchBlocks and FetchTxs
// also give up as soon as their ctx ends.
//
// # Gossip
//
// Gossip messages carry no libp2p signature and no author field
// (StrictNoSign): CityChain messages are already signed by their authors,
// and a second signature would double the verification cost. The message
// ID is the SHA-256 of the topic name and the data
// (chain.GossipMessageID), so the same bytes published twice on one
// topic, by anyone, are one message. A validator that returns an error
// rejects the message, which lowers the sender's gossip score; one that
// returns ErrIgnore drops it without penalty. Only accepted messages are
// relayed and handed to the node's handlers, each with the value its
// validator returned (the message decoded), so that nothing is decoded
// twice. Messages this node publishes are neither validated again nor
// handed back to its own handlers.
//
// # Blocks and bans
//
// Two separate lists keep peers out; the connection gate refuses a peer
// on either, in both directions. The block list belongs to the operator
// (Block, Unblock, SetBlocked, used by classroom controls) and changes
// only by hand. The ban list belongs to this package: a peer whose gossip
// score falls below the gray list threshold (a few rejected messages) is
// disconnected and banned for Config.BanDuration, and so is a peer the
// node bans with BanPeer (block sync does, for a peer that claims blocks
// it never serves); a peer on another chain is banned for
// Config.WrongChainBan. A ban ends only when its time runs out:
// Unblock does not lift it, and the end of a ban does not lift a block.
// Banned lists the banned peers, Blocked the blocked ones.
//
// # Goroutines
//
// New starts a fixed set of goroutines: one reader per topic, the
// connection watcher and its two status workers, the bootstrap redial
// loop, and, when enabled, the discovery dialer and the DHT advertise and
// find loops. Each one ends when Close cancels the context it was started
// with; Close waits for all of them, for stream handlers in progress,
// for the timers that close connections to peers of another chain and
// for the score checks that ban peers (gossipsub runs those on goroutines
// of its own; one that starts after Close has begun does nothing).
// Short-lived goroutines inside a call (parallel dials, the stream reset
// FetchBlocks and FetchTxs arrange for when their ctx ends) end before
// that call returns. Goroutines inside libp2p, gossipsub, the
// DHT and mDNS are stopped by closing those services.
// Node handlers (OnTx, OnConsensus) run on the topic reader goroutine and
// must return quickly; a slow handler makes the subscription drop
// messages rather than stall the network.
package p2p
