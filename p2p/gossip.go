package p2p

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/citychain/citychain/chain"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Subscription buffers; the per-peer and validation queues are set by
// Config.PeerQueue and Config.ValidateQueue.
const (
	txSubBuffer   = 4096 // accepted transactions waiting for OnTx
	consSubBuffer = 1024 // accepted consensus messages waiting for OnConsensus
	evSubBuffer   = 64   // accepted evidence, read and dropped: ValidateEvidence kept it
	// envelopeRoom is what a gossip RPC adds around the data (topic name,
	// protobuf framing); Publish keeps data below MaxMessageSize minus this.
	envelopeRoom = 1 << 10
	// scoreInspectPeriod is how often peer scores are copied for Peers()
	// and checked for peers to ban.
	scoreInspectPeriod = time.Second
)

// messageID is gossipsub's name for a message: chain.GossipMessageID of
// its topic and data, so equal bytes on one topic are one message however
// often and by whomever they are published. The topic is inside because
// gossipsub keeps one "seen" cache for all topics: without it, bytes seen
// on one topic would be dropped on the other.
func messageID(m *pb.Message) string {
	id := chain.GossipMessageID(m.GetTopic(), m.GetData())
	return string(id[:])
}

// startGossip creates the gossipsub router, joins the transaction and
// consensus topics and, with Config.ValidateEvidence, the evidence topic,
// registers their validators and starts one reader goroutine per topic.
func (h *Host) startGossip(ctx context.Context) error {
	params := pubsub.DefaultGossipSubParams()
	params.HeartbeatInterval = h.cfg.GossipHeartbeat
	txTopic, consTopic := chain.TxTopic(h.cfg.ChainID), chain.ConsensusTopic(h.cfg.ChainID)
	evTopic := chain.EvidenceTopic(h.cfg.ChainID)

	ps, err := pubsub.NewGossipSub(ctx, h.lh,
		pubsub.WithGossipSubParams(params),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		// Send our own messages straight to every peer on the topic, not
		// only to mesh peers: lowest latency in a small network, and no
		// loss in the moment after a peer joins, before it is in the mesh.
		pubsub.WithFloodPublish(true),
		pubsub.WithMaxMessageSize(h.cfg.MaxMessageSize+envelopeRoom),
		pubsub.WithSeenMessagesTTL(h.cfg.SeenTTL),
		pubsub.WithPeerOutboundQueueSize(h.cfg.PeerQueue),
		pubsub.WithValidateQueueSize(h.cfg.ValidateQueue),
		pubsub.WithPeerScore(scoreParams(txTopic, consTopic, evTopic), scoreThresholds()),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(h.inspectScores), scoreInspectPeriod),
		pubsub.WithLogger(h.cfg.Logger.With("component", "gossipsub")),
	)
	if err != nil {
		return fmt.Errorf("gossipsub: %w", err)
	}
	h.ps = ps

	if h.txTopic, err = h.joinTopic(ctx, txTopic, h.cfg.ValidateTx, h.cfg.OnTx, txSubBuffer); err != nil {
		return err
	}
	h.consTopic, err = h.joinTopic(ctx, consTopic, h.cfg.ValidateConsensus, h.cfg.OnConsensus, consSubBuffer)
	if err != nil || h.cfg.ValidateEvidence == nil {
		return err
	}
	validate := func(data []byte) (any, error) { return nil, h.cfg.ValidateEvidence(data) }
	h.evTopic, err = h.joinTopic(ctx, evTopic, validate, func(peer.ID, []byte, any) {}, evSubBuffer)
	return err
}

// joinTopic registers validate for a topic, joins it, subscribes and
// starts the reader that hands accepted messages to deliver.
func (h *Host) joinTopic(ctx context.Context, name string, validate func([]byte) (any, error),
	deliver func(peer.ID, []byte, any), buffer int) (*pubsub.Topic, error) {
	err := h.ps.RegisterTopicValidator(name, h.validator(name, validate))
	if err != nil {
		return nil, fmt.Errorf("validator for %s: %w", name, err)
	}
	topic, err := h.ps.Join(name)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", name, err)
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(buffer))
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", name, err)
	}
	h.tasks.goFunc(func() { h.readTopic(ctx, name, sub, deliver) })
	return topic, nil
}

// validator adapts a node callback to gossipsub's three outcomes. What the
// callback returns with an accepted message rides on it (ValidatorData)
// to the topic's reader.
func (h *Host) validator(topic string, validate func([]byte) (any, error)) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if from == h.self {
			// Our own message: the node checked it before publishing, and
			// checking a signature twice costs as much as checking it once.
			return pubsub.ValidationAccept
		}
		checked, err := validate(msg.GetData())
		switch {
		case err == nil:
			msg.ValidatorData = checked
			return pubsub.ValidationAccept
		case errors.Is(err, ErrIgnore):
			return pubsub.ValidationIgnore
		default:
			h.log.Debug("rejected gossip message", "topic", topic, "from", from.String(), "err", err)
			return pubsub.ValidationReject
		}
	}
}

// readTopic hands each accepted message of one topic to deliver, skipping
// the ones this node published itself. It returns when ctx is cancelled
// (Close), which also ends the subscription.
func (h *Host) readTopic(ctx context.Context, topic string, sub *pubsub.Subscription,
	deliver func(peer.ID, []byte, any)) {
	defer sub.Cancel()
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("gossip subscription ended", "topic", topic, "err", err)
			}
			return
		}
		if msg.ReceivedFrom == h.self {
			continue
		}
		// The message stays in gossipsub's cache for a few heartbeats,
		// to answer peers that ask for it; what it decoded to need not.
		checked := msg.ValidatorData
		msg.ValidatorData = nil
		deliver(msg.ReceivedFrom, msg.GetData(), checked)
	}
}

// PublishTx gossips a transaction or a batch to the network. The node is
// expected to have validated it; it is not handed back to Config.OnTx.
//
// While no peer is known to follow the transaction topic (a node that has
// just connected, before the peers' subscriptions have arrived) it sends
// nothing and returns ErrNoPeers. Publishing then would reach nobody, yet
// the message's ID would enter the seen cache for SeenTTL: since the ID is
// the hash of the bytes, the same transaction published again within that
// time would be dropped here too, and the transaction would stay in this
// node's pool, never gossiped. The caller keeps the transaction and tries
// again later.
func (h *Host) PublishTx(ctx context.Context, data []byte) error {
	if !h.tasks.closing() && len(data) <= h.cfg.MaxMessageSize && len(h.txTopic.ListPeers()) == 0 {
		return ErrNoPeers
	}
	return h.publish(ctx, h.txTopic, data)
}

// PublishConsensus gossips a consensus message (proposal, vote, commit)
// to the network. It is not handed back to Config.OnConsensus.
func (h *Host) PublishConsensus(ctx context.Context, data []byte) error {
	return h.publish(ctx, h.consTopic, data)
}

// PublishEvidence gossips a piece of evidence this node kept, so that
// every validator's pool holds it and whoever proposes next can commit
// it, not only the nodes that saw both statements themselves. Without
// Config.ValidateEvidence the host is not on the topic, and it returns
// ErrNoEvidenceTopic.
func (h *Host) PublishEvidence(ctx context.Context, data []byte) error {
	if h.evTopic == nil {
		return ErrNoEvidenceTopic
	}
	return h.publish(ctx, h.evTopic, data)
}

func (h *Host) publish(ctx context.Context, topic *pubsub.Topic, data []byte) error {
	if h.tasks.closing() {
		return ErrClosed
	}
	if len(data) > h.cfg.MaxMessageSize {
		return fmt.Errorf("%w: gossip message of %d bytes, limit %d", ErrTooLarge, len(data), h.cfg.MaxMessageSize)
	}
	if err := topic.Publish(ctx, data); err != nil {
		return fmt.Errorf("publish on %s: %w", topic.String(), err)
	}
	return nil
}

// inspectScores keeps the latest gossip scores for Peers() and bans the
// peers whose score is too low. Gossipsub calls it every
// scoreInspectPeriod on a goroutine of its own.
func (h *Host) inspectScores(scores map[peer.ID]float64) {
	h.scores.Store(&scores)
	h.banLowScores(scores)
}

// score returns the latest gossip score of p (0 if unknown).
func (h *Host) score(p peer.ID) float64 {
	if m := h.scores.Load(); m != nil {
		return (*m)[p]
	}
	return 0
}
