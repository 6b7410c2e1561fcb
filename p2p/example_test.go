package p2p_test

import (
	"fmt"
	"strings"

	"github.com/citychain/citychain/p2p"
)

// A node key is made once, saved in the node's home with p2p.SaveKey, and
// gives the node the peer ID that other nodes list as a bootstrap address.
func ExamplePeerID() {
	key, err := p2p.GenerateKey()
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := p2p.PeerID(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Ed25519 peer IDs always start the same way.
	fmt.Println(strings.HasPrefix(id.String(), "12D3KooW"))
	fmt.Println("/ip4/127.0.0.1/tcp/9700/p2p/" + id.String()[:8] + "...")
	// Output:
	// true
	// /ip4/127.0.0.1/tcp/9700/p2p/12D3KooW...
}
