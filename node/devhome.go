package node

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node/keystore"
)

// Development keys. They are derived from fixed, public seeds so that
// examples, scripts and the workshop story can name the same accounts on
// every laptop. Everyone knows their private keys: they are for local
// development only and must never hold anything of value.
const (
	DevKeyCount    = 10
	DevBalance     = 1_000_000_000
	DevChainID     = "citychain-dev"
	devKeySeed     = "citychain development key "
	devValidatorSd = "citychain development validator "
)

// DevKey returns the i-th development account key (dev0, dev1, ...).
func DevKey(i int) *crypto.PrivateKey { return seededKey(fmt.Sprintf("%s%d", devKeySeed, i)) }

// DevValidatorKey returns the i-th development validator key.
func DevValidatorKey(i int) *crypto.PrivateKey {
	return seededKey(fmt.Sprintf("%s%d", devValidatorSd, i))
}

func seededKey(seed string) *crypto.PrivateKey {
	for n := 0; ; n++ {
		h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", seed, n))
		if k, err := crypto.PrivateKeyFromBytes(h[:]); err == nil {
			return k
		}
	}
}

// DevAccount is a development account as `citychain dev` prints it.
type DevAccount struct {
	Name    string        `json:"name"`
	Address chain.Address `json:"address"`
	PrivKey string        `json:"priv_key"`
	Balance uint64        `json:"balance"`
}

// DevAccounts lists the development accounts.
func DevAccounts() []DevAccount {
	out := make([]DevAccount, DevKeyCount)
	for i := range out {
		k := DevKey(i)
		out[i] = DevAccount{Name: fmt.Sprintf("dev%d", i), Address: chain.AddressOf(k.PublicKey()),
			PrivKey: fmt.Sprintf("%x", k.Bytes()), Balance: DevBalance}
	}
	return out
}

// DevGenesis returns a genesis with the given validator keys and the
// development accounts funded: each module of apps.All() that has a
// development state (sdk.DevGenesis) writes its app_state section, with
// dev0 as its administrator.
func DevGenesis(chainID string, validators []*crypto.PrivateKey, t time.Time) *chain.Genesis {
	g := &chain.Genesis{ChainID: chainID, GenesisTime: t.UTC().Truncate(time.Millisecond)}
	for i, k := range validators {
		pub := k.PublicKey()
		g.Validators = append(g.Validators, chain.GenesisValidator{Name: fmt.Sprintf("validator%d", i),
			Address: chain.AddressOf(pub), PubKey: fmt.Sprintf("%x", pub.Bytes()), Power: 1})
	}
	d := sdk.DevChain{Balance: DevBalance}
	for _, a := range DevAccounts() {
		d.Accounts = append(d.Accounts, a.Address)
	}
	d.Admin = d.Accounts[0]
	g.AppState = map[string]json.RawMessage{}
	for _, a := range apps.All() {
		if m, ok := a.(sdk.DevGenesis); ok {
			g.AppState[a.Name()] = chain.MustJSON(m.DevGenesis(d))
		}
	}
	return g
}

// DevBlockMaxTxs is block.max_txs in a new `citychain dev` home: the
// chain's limit, as for a network's nodes. A block writes
// each state key it changes once, with the Merkle tree nodes above it,
// however many of its transactions changed the key; so under load, the
// more transactions of the same senders a block holds, the less each
// costs to store. A lone validator gathers no votes on its blocks, so
// their size delays no consensus.
const DevBlockMaxTxs = chain.MaxBlockTxs

// InitDevHome prepares a home for `citychain dev` unless it already has
// a genesis: config with the API on apiPort, the dev validator key, a
// genesis with the dev accounts, and the dev keys in the keystore with an
// empty passphrase. It reports whether it created anything.
func InitDevHome(home string, apiPort int, now time.Time) (bool, error) {
	if _, err := os.Stat(filepath.Join(home, GenesisFile)); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return false, err
	}
	cfg := DefaultConfig("dev", apiPort)
	cfg.Block.MaxTxs = DevBlockMaxTxs
	if err := cfg.Save(home); err != nil {
		return false, err
	}
	vk := DevValidatorKey(0)
	if err := SaveValidatorKey(filepath.Join(home, ValidatorKeyFile), vk); err != nil {
		return false, err
	}
	if err := ImportDevKeys(home); err != nil {
		return false, err
	}
	g := DevGenesis(DevChainID, []*crypto.PrivateKey{vk}, now)
	return true, g.Save(filepath.Join(home, GenesisFile))
}

// ImportDevKeys puts dev0..dev9 into the home's keystore with an empty
// passphrase, skipping names that exist, and the home's validator key as
// "validator", so that development validators can sign poa votes.
func ImportDevKeys(home string) error {
	_, err := importDevKeys(home, nil)
	return err
}

// importDevKeys is ImportDevKeys, taking the development keys from the
// keystore src when it is given: their files are copied, sealed as they
// are, instead of sealed again. It returns the home's keystore.
func importDevKeys(home string, src *keystore.Keystore) (*keystore.Keystore, error) {
	ks, err := keystore.OpenConfig(keystore.Config{Dir: filepath.Join(home, KeystoreDir), LightKDF: true})
	if err != nil {
		return nil, err
	}
	if vk, err := LoadValidatorKey(filepath.Join(home, ValidatorKeyFile)); err == nil {
		if _, err := ks.Show("validator"); err != nil {
			if err := ks.Import("validator", vk, ""); err != nil {
				return nil, fmt.Errorf("import validator key: %w", err)
			}
		}
	}
	for i := 0; i < DevKeyCount; i++ {
		name := fmt.Sprintf("dev%d", i)
		if _, err := ks.Show(name); err == nil {
			continue
		}
		if src != nil {
			if err := src.CopyTo(ks, name); err == nil {
				continue
			}
			// The source lacks it or holds a damaged file: seal it here.
		}
		if err := ks.Import(name, DevKey(i), ""); err != nil {
			return nil, fmt.Errorf("import %s: %w", name, err)
		}
	}
	return ks, nil
}
