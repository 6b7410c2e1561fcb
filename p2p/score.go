package p2p

import (
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Gossip peer scoring. Every gossipsub node keeps a score for each peer
// and stops exchanging gossip with peers whose score falls too low. Our
// parameters do two things only:
//
//   - reward a peer a little for being the first to bring a valid message
//     (P2, capped), so useful peers are preferred in the mesh;
//   - punish a peer hard for each message a validator rejected (P4). The
//     penalty is 100 times the square of the count: one invalid message
//     puts the peer at -100, below the gossip threshold; two at -400, the
//     gray list threshold; a third at -900, below it. Below the gray list
//     threshold gossipsub ignores everything the peer sends, and this
//     package disconnects and bans it (see ban.go). The count fades to 1%
//     over ten minutes.
//
// The other score terms are off or mild. P3 (a peer must deliver a
// minimum number of messages in the mesh) misfires on a quiet classroom
// chain. The IP colocation penalty (P6) exists to resist one machine
// posing as many peers; a laptop running a whole devnet on 127.0.0.1 is
// exactly that, so loopback addresses are exempt and the threshold leaves
// room for one machine on a LAN to run a devnet of up to eight nodes.

const (
	invalidMessageWeight = -100
	firstDeliveryWeight  = 1
	firstDeliveryCap     = 50
	colocationWeight     = -10
	colocationThreshold  = 8
	// graylistThreshold is the score below which gossipsub ignores a
	// peer and this package bans it.
	graylistThreshold = -400
)

func scoreParams(topics ...string) *pubsub.PeerScoreParams {
	p := &pubsub.PeerScoreParams{
		Topics:                      make(map[string]*pubsub.TopicScoreParams, len(topics)),
		TopicScoreCap:               100,
		AppSpecificScore:            func(peer.ID) float64 { return 0 },
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    colocationWeight,
		IPColocationFactorThreshold: colocationThreshold,
		IPColocationFactorWhitelist: loopbackNets(),
		BehaviourPenaltyWeight:      -1,
		BehaviourPenaltyThreshold:   10,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:               pubsub.DefaultDecayInterval,
		DecayToZero:                 pubsub.DefaultDecayToZero,
		RetainScore:                 10 * time.Minute, // reconnecting does not wash a score
	}
	for _, t := range topics {
		p.Topics[t] = &pubsub.TopicScoreParams{
			// Set only the terms below; zero terms are off.
			SkipAtomicValidation: true,
			TopicWeight:          1,
			// P1 is off, but gossipsub divides by its quantum regardless.
			TimeInMeshQuantum:              time.Second,
			FirstMessageDeliveriesWeight:   firstDeliveryWeight,
			FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Minute),
			FirstMessageDeliveriesCap:      firstDeliveryCap,
			InvalidMessageDeliveriesWeight: invalidMessageWeight,
			InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(10 * time.Minute),
		}
	}
	return p
}

func scoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             -50,               // no IHAVE/IWANT gossip with the peer
		PublishThreshold:            -100,              // our own messages are not sent to it
		GraylistThreshold:           graylistThreshold, // everything it sends is ignored
		AcceptPXThreshold:           100,               // peer exchange is off anyway
		OpportunisticGraftThreshold: 5,
	}
}

func loopbackNets() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
}
