package p2p

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// evidenceLog is a ValidateEvidence that records what it was asked to
// judge and rejects what starts with "bad".
type evidenceLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *evidenceLog) validate(data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, string(data))
	if strings.HasPrefix(string(data), "bad") {
		return fmt.Errorf("test says %q is invalid", data)
	}
	return nil
}

func (l *evidenceLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.seen {
		if x == s {
			return true
		}
	}
	return false
}

// Evidence one node publishes reaches the evidence validator of every
// other node on the topic, and not its own; a host without an evidence
// validator is not on the topic and says so when asked to publish.
func TestEvidenceTopicReachesEveryNode(t *testing.T) {
	logs := map[string]*evidenceLog{"A": {}, "B": {}, "C": {}}
	withEvidence := func(name string, more func(*Config)) func(*Config) {
		return func(c *Config) {
			c.ValidateEvidence = logs[name].validate
			if more != nil {
				more(c)
			}
		}
	}
	a := newNode(t, "A", nil, withEvidence("A", nil))
	b := newNode(t, "B", nil, withEvidence("B", bootstrapTo(a)))
	c := newNode(t, "C", nil, withEvidence("C", bootstrapTo(a)))
	eventually(t, 10*time.Second, "evidence topic peers B-A-C", func() bool {
		return len(a.evTopic.ListPeers()) >= 2 && len(b.evTopic.ListPeers()) >= 1 && len(c.evTopic.ListPeers()) >= 1
	})

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// A forwards only to its mesh, which a heartbeat forms: publish
	// numbered pieces until one from B has reached C.
	reached := ""
	for i := 0; reached == "" && ctx.Err() == nil; i++ {
		ev := fmt.Sprintf("evidence:B:%d", i)
		if err := b.PublishEvidence(ctx, []byte(ev)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "A judges "+ev, func() bool { return logs["A"].has(ev) })
		for j := 0; j < 10 && reached == ""; j++ {
			if logs["C"].has(ev) {
				reached = ev
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if reached == "" {
		t.Fatal("no evidence published by B reached C")
	}
	if logs["B"].has(reached) {
		t.Fatal("B judged its own evidence: a node keeps what it publishes before publishing it")
	}

	plain := newNode(t, "D", nil, bootstrapTo(a))
	if plain.evTopic != nil {
		t.Fatal("a host without ValidateEvidence joined the evidence topic")
	}
	if err := plain.PublishEvidence(ctx, []byte("evidence:D")); !errors.Is(err, ErrNoEvidenceTopic) {
		t.Fatalf("PublishEvidence without the topic: %v, want ErrNoEvidenceTopic", err)
	}
}
