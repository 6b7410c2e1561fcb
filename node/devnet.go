package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/node/keystore"
	"github.com/citychain/citychain/p2p"
	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
)

// DevnetChainID is the chain id of every `citychain devnet`.
const DevnetChainID = "citychain-devnet"

// DevnetFile is the name of the file that describes a running devnet.
const DevnetFile = "devnet.json"

// DevnetNode describes one node of a devnet in DIR/devnet.json.
type DevnetNode struct {
	Name      string `json:"name"`
	PID       int    `json:"pid"`
	Home      string `json:"home"`
	API       string `json:"api"`
	P2P       string `json:"p2p"`
	Validator string `json:"validator"`
}

// Devnet is DIR/devnet.json.
type Devnet struct {
	ChainID string       `json:"chain_id"`
	Nodes   []DevnetNode `json:"nodes"`
	// Control is the supervisor's address for classroom controls while
	// `citychain devnet` runs; its token is in ControlTokenFile.
	Control string `json:"control,omitempty"`
}

// Save writes the description with mode 0644.
func (d *Devnet) Save(dir string) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, DevnetFile), append(b, '\n'), 0o644)
}

// devnetNodeKey derives node i's libp2p key from a public seed, so that
// every node's peer ID, and so the bootstrap addresses, are known before
// any node starts.
func devnetNodeKey(i int) (libp2pcrypto.PrivKey, error) {
	seed := sha256.Sum256([]byte(fmt.Sprintf("citychain devnet node key %d", i)))
	k, _, err := libp2pcrypto.GenerateEd25519Key(bytes.NewReader(seed[:]))
	return k, err
}

// DevnetHomes returns the homes found in dir (node0, node1, ...).
func DevnetHomes(dir string) []string {
	var homes []string
	for i := 0; ; i++ {
		h := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if _, err := os.Stat(filepath.Join(h, GenesisFile)); err != nil {
			return homes
		}
		homes = append(homes, h)
	}
}

// InitDevnet prepares count validator homes in dir unless they exist
// (PrepareDevnet) and puts the development keys into their keystores
// (FillDevKeystores). It returns the description of the devnet (PIDs
// zero) and whether it created it.
func InitDevnet(dir string, count, basePort int, now time.Time) (*Devnet, bool, error) {
	d, created, err := PrepareDevnet(dir, count, basePort, now)
	if err != nil {
		return nil, false, err
	}
	return d, created, FillDevKeystores(d)
}

// PrepareDevnet writes what the nodes of a devnet need to start, in count
// validator homes in dir unless they exist: keys, one shared genesis with
// the development accounts funded, and configs whose API and p2p ports
// follow basePort (API basePort+i, p2p basePort+1000+i) with every other
// node as a bootstrap peer. The keystores are left to FillDevKeystores,
// which `citychain devnet` runs while the nodes start, since a node does
// not read its keystore. On an existing dir it checks that the node count
// matches and reuses it. It returns the description of the devnet (PIDs
// zero) and whether it created it.
func PrepareDevnet(dir string, count, basePort int, now time.Time) (*Devnet, bool, error) {
	if count < 1 || count > 7 {
		return nil, false, fmt.Errorf("--nodes must be 1 to 7, got %d", count)
	}
	existing := DevnetHomes(dir)
	created := false
	switch {
	case len(existing) == 0:
		if err := createDevnet(dir, count, basePort, now); err != nil {
			return nil, false, err
		}
		created = true
	case len(existing) != count:
		return nil, false, fmt.Errorf("%s holds a devnet of %d nodes; use --nodes %d, or another --dir for a new one", dir, len(existing), len(existing))
	}
	d := &Devnet{ChainID: DevnetChainID}
	for i, home := range DevnetHomes(dir) {
		cfg, err := LoadConfig(home)
		if err != nil {
			return nil, false, err
		}
		key, err := p2p.LoadKey(filepath.Join(home, NodeKeyFile))
		if err != nil {
			return nil, false, err
		}
		id, err := p2p.PeerID(key)
		if err != nil {
			return nil, false, err
		}
		vk, err := LoadValidatorKey(filepath.Join(home, ValidatorKeyFile))
		if err != nil {
			return nil, false, err
		}
		p2pAddr := ""
		if len(cfg.P2P.Listen) > 0 {
			p2pAddr = cfg.P2P.Listen[0] + "/p2p/" + id.String()
		}
		d.Nodes = append(d.Nodes, DevnetNode{Name: fmt.Sprintf("node%d", i), Home: home,
			API: "http://" + cfg.API.Listen, P2P: p2pAddr, Validator: chain.AddressOf(vk.PublicKey()).String()})
	}
	return d, created, nil
}

// BasePort is the base port d's homes were made with: the port of
// node0's API, as its config.toml gives it.
func (d *Devnet) BasePort() (int, error) {
	if len(d.Nodes) == 0 {
		return 0, errors.New("the devnet has no nodes")
	}
	u, err := url.Parse(d.Nodes[0].API)
	if err != nil {
		return 0, fmt.Errorf("%s's API address %q: %w", d.Nodes[0].Name, d.Nodes[0].API, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("%s's API address %q has no port", d.Nodes[0].Name, d.Nodes[0].API)
	}
	return port, nil
}

// CheckBasePort refuses a base port asked for explicitly that is not the
// one the existing devnet in dir was made with. The ports are saved in
// each home's config and in the others' bootstrap lists, so the devnet
// would start on its old ports, not on the ones asked for.
func (d *Devnet) CheckBasePort(dir string, want int) error {
	saved, err := d.BasePort()
	if err != nil {
		return err
	}
	if saved != want {
		return fmt.Errorf("%s holds a devnet made with --base-port %d (node0's API on %d, libp2p on %d); "+
			"its ports are saved in the homes, so --base-port %d cannot move it: "+
			"leave out --base-port (or give %d) to resume it, or use another --dir (or delete %s) to start afresh on %d",
			dir, saved, saved, saved+1000, want, saved, dir, want)
	}
	return nil
}

// devnetMemtableMB is node i's store.memtable_mb in a new devnet: the
// default, then 1 MiB more for each next node, four sizes in turn. The
// nodes of a devnet write the same blocks, so with memtables of one size
// they would all fill them, and flush them to disk, at the same moment on
// the one machine they share: at 2,000 tx/s each flush was a second or
// two in which every height waited. A MiB apart puts their flushes about
// 0.7 s apart at that rate. Blocks are built to fit the default memtable
// whatever the proposer's own (store.CheckFits), so a larger memtable
// changes no block.
func devnetMemtableMB(i int) int {
	return store.DefaultMemTableSize>>20 + i%4
}

func createDevnet(dir string, count, basePort int, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var vkeys []*crypto.PrivateKey
	var addrs []string
	for i := 0; i < count; i++ {
		vkeys = append(vkeys, DevValidatorKey(i))
		nk, err := devnetNodeKey(i)
		if err != nil {
			return err
		}
		id, err := p2p.PeerID(nk)
		if err != nil {
			return err
		}
		addrs = append(addrs, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", basePort+1000+i, id))
	}
	g := DevGenesis(DevnetChainID, vkeys, now)
	for i := 0; i < count; i++ {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if err := os.MkdirAll(home, 0o700); err != nil {
			return err
		}
		cfg := DefaultConfig(fmt.Sprintf("node%d", i), basePort+i)
		cfg.Store.MemtableMB = devnetMemtableMB(i)
		for j, a := range addrs {
			if j != i {
				cfg.P2P.Bootstrap = append(cfg.P2P.Bootstrap, a)
			}
		}
		if err := cfg.Save(home); err != nil {
			return err
		}
		if err := SaveValidatorKey(filepath.Join(home, ValidatorKeyFile), vkeys[i]); err != nil {
			return err
		}
		nk, _ := devnetNodeKey(i)
		if err := p2p.SaveKey(filepath.Join(home, NodeKeyFile), nk); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := g.Save(filepath.Join(home, GenesisFile)); err != nil {
			return err
		}
	}
	return nil
}

// FillDevKeystores puts dev0..dev9 and each home's validator key (as
// "validator") into the keystore of every home of d, with an empty
// passphrase, skipping names that are there. Each development key is
// sealed once, in the first home, and its file copied to the others:
// sealing runs scrypt, the one costly step of making a devnet.
func FillDevKeystores(d *Devnet) error {
	var first *keystore.Keystore
	for _, nd := range d.Nodes {
		ks, err := importDevKeys(nd.Home, first)
		if err != nil {
			return fmt.Errorf("keystore of %s: %w", nd.Name, err)
		}
		if first == nil {
			first = ks
		}
	}
	return nil
}

// InitHome prepares a home for `citychain node`: config with the API on
// apiPort and p2p on apiPort+1000, a new validator key, a new node key
// and an empty keystore. It refuses a home that already has a config.
func InitHome(home, moniker string, apiPort int) error {
	if _, err := os.Stat(filepath.Join(home, ConfigFile)); err == nil {
		return fmt.Errorf("%s already has a %s; pick another --home", home, ConfigFile)
	}
	if err := os.MkdirAll(filepath.Join(home, KeystoreDir), 0o700); err != nil {
		return err
	}
	if err := DefaultConfig(moniker, apiPort).Save(home); err != nil {
		return err
	}
	vk, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	if err := SaveValidatorKey(filepath.Join(home, ValidatorKeyFile), vk); err != nil {
		return err
	}
	nk, err := p2p.GenerateKey()
	if err != nil {
		return err
	}
	return p2p.SaveKey(filepath.Join(home, NodeKeyFile), nk)
}
