package node

// The consensus wire messages (chain.ConsensusMessage, the signed
// proposal and vote, their sign bytes and checks) are defined in package
// chain next to Vote.SignBytes, with golden vectors; see the "Consensus
// messages" section of docs/protocol.md.
