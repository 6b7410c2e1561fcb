package node

import (
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Which peer is the proposer. The proposer holds every transaction of its
// block, so a node missing some asks the proposer's node first. Gossip
// does not say who wrote a message, and a validator's key is not its
// node's key, so each node says it in the status exchange
// (p2p.Config.Identity): its validator address and a signature, with its
// validator key, over its own peer ID. A peer's claim counts only if the
// signature verifies under the key the validator set holds for that
// address: no one can pose as the proposer, and a claim copied from
// another peer names the wrong peer ID.

// identityDomain starts the bytes a validator signs for its identity, so
// that they can never be taken for a transaction or a vote (those sign
// bytes are CBOR maps).
const identityDomain = "citychain peer identity\x00"

// identitySignBytes is what a validator signs to say that peer p is its
// node on chain chainID.
func identitySignBytes(chainID string, p peer.ID) []byte {
	b := append([]byte(identityDomain), chainID...)
	b = append(b, 0)
	return append(b, p...)
}

// peerIdentity returns the identity the node with peer ID p tells its
// peers: the address of its validator key, then the key's signature over
// identitySignBytes.
func peerIdentity(chainID string, key *crypto.PrivateKey, p peer.ID) []byte {
	a := chain.AddressOf(key.PublicKey())
	return append(a[:], key.Sign(identitySignBytes(chainID, p))...)
}

// identityCheck is a verified (or refused) identity.
type identityCheck struct {
	raw  string
	addr chain.Address
	ok   bool // the signature verifies under addr's key
}

// maxIdentities bounds the identities the engine remembers.
const maxIdentities = 256

// peerIs reports whether peer p's identity proves that it is the node of
// validator want, a member of the current set. A signature is verified
// once per peer and identity.
func (e *engine) peerIs(p peer.ID, id []byte, want chain.Address) bool {
	if len(id) != chain.AddressSize+64 || chain.Address(id[:chain.AddressSize]) != want {
		return false
	}
	if c, ok := e.idents[p]; ok && c.raw == string(id) {
		return c.ok
	}
	val, member := e.vals.Find(want)
	if !member {
		return false // no key to check it with; ask again once it is a member
	}
	c := identityCheck{raw: string(id), addr: want}
	if pub, err := crypto.ParseCompressedPublicKey(val.PubKey); err == nil {
		c.ok = pub.Verify(identitySignBytes(e.n.chainID, p), id[chain.AddressSize:]) == nil
	}
	if len(e.idents) >= maxIdentities {
		clear(e.idents)
	}
	e.idents[p] = c
	return c.ok
}
