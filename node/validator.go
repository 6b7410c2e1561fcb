package node

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
)

// validatorKeyFile is the on-disk form of a node's validator key. A
// validator signs votes without a person at the keyboard, so the key is
// kept unencrypted and protected by file permissions (0600), the way
// other proof-of-authority and BFT nodes keep theirs.
type validatorKeyFile struct {
	Address chain.Address `json:"address"`
	PubKey  string        `json:"pubkey"`
	PrivKey string        `json:"priv_key"`
}

// SaveValidatorKey writes key to path with mode 0600.
func SaveValidatorKey(path string, key *crypto.PrivateKey) error {
	pub := key.PublicKey()
	f := validatorKeyFile{Address: chain.AddressOf(pub), PubKey: fmt.Sprintf("%x", pub.Bytes()),
		PrivKey: fmt.Sprintf("%x", key.Bytes())}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// LoadValidatorKey reads a validator key file and checks that the
// address matches the key.
func LoadValidatorKey(path string) (*crypto.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read validator key: %w", err)
	}
	var f validatorKeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("validator key %s: %w", path, err)
	}
	key, err := crypto.PrivateKeyFromHex(f.PrivKey)
	if err != nil {
		return nil, fmt.Errorf("validator key %s: %w", path, err)
	}
	if chain.AddressOf(key.PublicKey()) != f.Address {
		return nil, fmt.Errorf("validator key %s: address %s does not match the key", path, f.Address)
	}
	return key, nil
}
