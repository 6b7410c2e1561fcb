package p2p

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// Size and count limits of the wire protocols. They are constants, not
// settings, because both ends of a connection must agree on them. The
// block sync limits are defined with the protocol in package chain and
// repeated here under the names p2p callers know.
const (
	// MaxSyncRange is the largest number of blocks one sync request asks
	// for (chain.MaxSyncRange).
	MaxSyncRange = chain.MaxSyncRange
	// MaxEntrySize bounds one block or one commit in a sync answer
	// (chain.MaxSyncEntrySize).
	MaxEntrySize = chain.MaxSyncEntrySize
	// MaxSyncResponse bounds the block and commit bytes of one sync answer
	// (chain.MaxSyncAnswerSize); a server stops before the entry that
	// would cross it, and a client refuses an answer that does.
	MaxSyncResponse = chain.MaxSyncAnswerSize
	// maxStatusSize bounds one status frame.
	maxStatusSize = 512
	// maxChainIDLen bounds the chain id, which appears in every protocol ID.
	maxChainIDLen = 64
	// maxServing bounds the sync requests this node answers at once.
	maxServing = 4
)

// Defaults of the gossip buffers in Config. The queues hold pointers
// while idle; full, they cost their length times the messages in them.
// Gossipsub drops a message when a queue is full, and a transaction batch
// dropped on the way is one the proposer may never see, so the queues are
// sized for bursts of several thousand transactions a second.
const (
	DefaultPeerQueue     = 4096
	DefaultValidateQueue = 4096
	DefaultSeenTTL       = 2 * time.Minute
)

// BlockSource is the node's block store as this package sees it. Height is
// the height of the latest stored block (0 before the first block);
// BlockAndCommit returns the stored block at height h in its canonical
// encoding together with the commit certificate that finalised it, or an
// error if there is no such block. Both are called from network
// goroutines and must be safe for concurrent use.
type BlockSource interface {
	Height() uint64
	BlockAndCommit(h uint64) (block, commit []byte, err error)
}

// HashSource is optional behaviour of a BlockSource: the hash of the
// latest block, shown to peers in the status exchange and in PeerInfo.
type HashSource interface {
	LatestHash() []byte
}

// Config holds everything New needs. Fields marked optional have working
// zero values; the timing fields exist so that tests can run faster.
type Config struct {
	// ChainID names the chain; it goes into every topic and protocol ID.
	// Letters, digits, '.', '_' and '-', at most 64 bytes.
	ChainID string
	// Key is the node key (see GenerateKey, LoadKey). Ed25519.
	Key crypto.PrivKey
	// ListenAddrs are multiaddrs to listen on, such as
	// "/ip4/127.0.0.1/tcp/9700" and "/ip4/127.0.0.1/udp/9700/quic-v1".
	ListenAddrs []string
	// Bootstrap are peers to dial at start and to re-dial whenever the
	// connection drops: multiaddrs ending in /p2p/{peer id}. Optional.
	Bootstrap []string
	// MDNS turns on local-network discovery by multicast DNS. It sends
	// packets to the multicast group of every interface, so leave it off
	// where only loopback traffic is allowed.
	MDNS bool
	// DHT turns on a private Kademlia DHT, bootstrapped from Bootstrap,
	// through which nodes advertise and find each other.
	DHT bool

	// Blocks serves the sync and status protocols.
	Blocks BlockSource
	// Identity is what this node says about itself in the status
	// exchange, beside its height, at most MaxIdentitySize bytes; peers see
	// it in PeerInfo.Identity. This package gives it no meaning and checks
	// nothing in it: the node does (a validator's signed claim that this
	// peer ID is its node). Optional.
	Identity []byte
	// Txs serves the transaction fetch protocol. Optional: without it the
	// protocol is not served, and peers that ask get "protocol not
	// supported".
	Txs TxSource
	// ValidateTx and ValidateConsensus run the stateless checks on a
	// gossip message from a peer (see ErrIgnore for the outcomes). They
	// run concurrently on many goroutines. What one returns beside a nil
	// error (the message decoded, say) reaches OnTx or OnConsensus with
	// the message, so that a message is decoded once.
	ValidateTx        func(data []byte) (checked any, err error)
	ValidateConsensus func(data []byte) (checked any, err error)
	// OnTx and OnConsensus receive each accepted message from a peer, with
	// what its validator returned; from is the peer that relayed it, not
	// necessarily its author. Each is called from one goroutine, in
	// arrival order; keep them quick.
	OnTx        func(from peer.ID, data []byte, checked any)
	OnConsensus func(from peer.ID, data []byte, checked any)
	// ValidateEvidence judges a piece of evidence gossiped on the evidence
	// topic (chain.EvidenceTopic) the same way, and keeps it if it is new
	// and proven: an accepted message is forwarded to the host's peers
	// and goes nowhere else, so the topic has no handler. Optional:
	// without it the host does not join the topic.
	ValidateEvidence func(data []byte) error

	// Logger receives the package's logs. Optional: slog.Default().
	Logger *slog.Logger
	// Now is the clock for bans and peer status times. Optional: time.Now.
	Now func() time.Time
	// Metrics, when set, receives libp2p's Prometheus metrics. Optional.
	Metrics prometheus.Registerer

	// MaxPeers is the connection count above which the connection
	// manager starts closing the least useful ones. Optional: 32.
	MaxPeers int
	// MaxMessageSize bounds one gossip message. Optional: 4 MiB.
	MaxMessageSize int
	// SeenTTL is how long a gossip message ID is remembered, so that the
	// same bytes are not delivered twice; each costs about 100 bytes.
	// Optional: DefaultSeenTTL.
	SeenTTL time.Duration
	// PeerQueue is the number of gossip messages waiting to be sent to one
	// peer; beyond it gossipsub drops them. Optional: DefaultPeerQueue.
	PeerQueue int
	// ValidateQueue is the number of gossip messages waiting for their
	// validator; beyond it gossipsub drops them. Optional:
	// DefaultValidateQueue.
	ValidateQueue int
	// GossipHeartbeat is the gossipsub mesh maintenance period. Optional: 1s.
	GossipHeartbeat time.Duration
	// RedialInterval is how often lost bootstrap peers are dialled again.
	// Optional: 10s.
	RedialInterval time.Duration
	// StatusInterval is how often connected peers are asked for their
	// height. Optional: 10s.
	StatusInterval time.Duration
	// DiscoveryInterval is how often the DHT is searched for peers.
	// Optional: 30s.
	DiscoveryInterval time.Duration
	// DialTimeout bounds one dial. Optional: 5s.
	DialTimeout time.Duration
	// StatusTimeout bounds one status exchange. Optional: 5s.
	StatusTimeout time.Duration
	// RequestTimeout bounds one sync or transaction fetch request and its
	// answer on the side that asks (FetchBlocks, FetchTxs; the asker's ctx
	// may set a shorter one), and the writing of the answer on the side
	// that serves, which waits for the request frame itself at most 2 s
	// (requestReadTimeout). Optional: 30s.
	RequestTimeout time.Duration
	// WrongChainBan is how long a peer on another chain is refused.
	// Optional: 1 minute.
	WrongChainBan time.Duration
	// BanDuration is how long a peer whose gossip score fell below the
	// gray list threshold is disconnected and refused. Optional: 10
	// minutes, the time the invalid-message count takes to fade.
	BanDuration time.Duration
}

// chainIDPattern keeps chain ids safe inside protocol IDs and DNS labels.
var chainIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// withDefaults returns a copy of c with optional fields filled in.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.MaxPeers, 32)
	setDefault(&c.MaxMessageSize, 4<<20)
	setDefault(&c.SeenTTL, DefaultSeenTTL)
	setDefault(&c.PeerQueue, DefaultPeerQueue)
	setDefault(&c.ValidateQueue, DefaultValidateQueue)
	setDefault(&c.GossipHeartbeat, time.Second)
	setDefault(&c.RedialInterval, 10*time.Second)
	setDefault(&c.StatusInterval, 10*time.Second)
	setDefault(&c.DiscoveryInterval, 30*time.Second)
	setDefault(&c.DialTimeout, 5*time.Second)
	setDefault(&c.StatusTimeout, 5*time.Second)
	setDefault(&c.RequestTimeout, 30*time.Second)
	setDefault(&c.WrongChainBan, time.Minute)
	setDefault(&c.BanDuration, 10*time.Minute)
	return c
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// validate reports the first missing or malformed field.
func (c Config) validate() error {
	switch {
	case len(c.ChainID) > maxChainIDLen || !chainIDPattern.MatchString(c.ChainID):
		return fmt.Errorf("%w: chain id %q must be 1-%d letters, digits, '.', '_' or '-'", ErrConfig, c.ChainID, maxChainIDLen)
	case c.Key == nil:
		return fmt.Errorf("%w: no node key", ErrConfig)
	case c.Key.Type() != crypto.Ed25519:
		return fmt.Errorf("%w: node key must be Ed25519", ErrConfig)
	case len(c.ListenAddrs) == 0:
		return fmt.Errorf("%w: no listen address", ErrConfig)
	case c.Blocks == nil:
		return fmt.Errorf("%w: no block source", ErrConfig)
	case c.ValidateTx == nil || c.ValidateConsensus == nil:
		return fmt.Errorf("%w: missing gossip validator", ErrConfig)
	case c.OnTx == nil || c.OnConsensus == nil:
		return fmt.Errorf("%w: missing gossip handler", ErrConfig)
	case len(c.Identity) > MaxIdentitySize:
		return fmt.Errorf("%w: identity of %d bytes, limit %d", ErrConfig, len(c.Identity), MaxIdentitySize)
	case c.MaxMessageSize > MaxEntrySize:
		return fmt.Errorf("%w: max message size above %d", ErrConfig, MaxEntrySize)
	}
	return nil
}

// Names of topics and protocols for one chain. The gossip topics and the
// sync protocol are part of the chain's wire format, so package chain
// names them (chain.TxTopic, chain.ConsensusTopic, chain.EvidenceTopic,
// chain.SyncProtocolID);
// the status protocol, the DHT and discovery are this package's own.

// syncProtocol is chain.SyncProtocolID as a libp2p protocol ID.
func syncProtocol(chainID string) protocol.ID {
	return protocol.ID(chain.SyncProtocolID(chainID))
}

// StatusProtocol is the stream protocol of the status exchange. It is the
// same for every chain; see the package documentation.
const StatusProtocol = protocol.ID("/citychain/status/1")

// dhtPrefix keeps the DHT of a chain apart from the public IPFS DHT and
// from other chains.
func dhtPrefix(chainID string) protocol.ID { return protocol.ID("/citychain/" + chainID) }

// discoveryNamespace is the DHT key under which nodes of a chain advertise.
func discoveryNamespace(chainID string) string { return "citychain/" + chainID }
