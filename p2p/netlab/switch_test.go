package netlab

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
)

// memPort is a switch port held in memory: the test plays the host.
type memPort struct {
	toSwitch chan []byte // frames the host sends
	got      chan arrival
	once     sync.Once
	closed   chan struct{}
}

type arrival struct {
	at    time.Time
	frame []byte
}

func newMemPort() *memPort {
	return &memPort{toSwitch: make(chan []byte, 4096), got: make(chan arrival, 8192), closed: make(chan struct{})}
}

func (p *memPort) ReadFrame(b []byte) (int, error) {
	select {
	case f := <-p.toSwitch:
		return copy(b, f), nil
	case <-p.closed:
		return 0, errors.New("closed")
	}
}

func (p *memPort) WriteFrame(b []byte) error {
	select {
	case p.got <- arrival{time.Now(), append([]byte(nil), b...)}:
		return nil
	default:
		return errors.New("test port full")
	}
}

func (p *memPort) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// Station addresses of the hosts "A", "B" and "C" of the scenarios.
var (
	macA = [6]byte{0x02, 0, 0, 0, 0, 0xa}
	macB = [6]byte{0x02, 0, 0, 0, 0, 0xb}
	macC = [6]byte{0x02, 0, 0, 0, 0, 0xc}
	// mdnsMAC is the Ethernet group of 224.0.0.251.
	mdnsMAC = [6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
)

// frame builds an Ethernet frame from src to dst whose payload is seq.
func frame(dst, src [6]byte, seq uint32) []byte {
	b := make([]byte, 64)
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[12:14], 0x88b5) // local experimental ethertype
	binary.BigEndian.PutUint32(b[14:18], seq)
	return b
}

func seqOf(f []byte) uint32 { return binary.BigEndian.Uint32(f[14:18]) }

// newTestSwitch attaches n in-memory ports to a switch closed at the end
// of the test.
func newTestSwitch(t *testing.T, cfg SwitchConfig, n int) (*Switch, []*memPort) {
	t.Helper()
	s := NewSwitch(cfg)
	t.Cleanup(func() { s.Close() })
	var ports []*memPort
	for range n {
		p := newMemPort()
		if _, err := s.Attach(p); err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p)
	}
	return s, ports
}

// receive collects what port p gets until nothing more comes for quiet.
func receive(p *memPort, quiet time.Duration) []arrival {
	var out []arrival
	for {
		select {
		case a := <-p.got:
			out = append(out, a)
		case <-time.After(quiet):
			return out
		}
	}
}

func TestSwitchFloodsUnknownThenLearns(t *testing.T) {
	_, p := newTestSwitch(t, SwitchConfig{Seed: 1}, 3)
	// A speaks to B, whom the switch has not seen: B and C both get it.
	p[0].toSwitch <- frame(macB, macA, 1)
	if n1, n2 := len(receive(p[1], 50*time.Millisecond)), len(receive(p[2], 10*time.Millisecond)); n1 != 1 || n2 != 1 {
		t.Fatalf("unknown destination: B got %d, C got %d frames, want 1 and 1", n1, n2)
	}
	// B answers: A is known by now, so only A gets it; and from then on
	// the switch knows B too.
	p[1].toSwitch <- frame(macA, macB, 2)
	gotA := receive(p[0], 50*time.Millisecond)
	p[0].toSwitch <- frame(macB, macA, 3)
	gotB, gotC := receive(p[1], 50*time.Millisecond), receive(p[2], 10*time.Millisecond)
	if len(gotA) != 1 || len(gotB) != 1 || len(gotC) != 0 {
		t.Fatalf("learned addresses: A got %d, B got %d, C got %d frames, want 1, 1, 0", len(gotA), len(gotB), len(gotC))
	}
	// Broadcast goes to everyone but the sender.
	p[2].toSwitch <- frame(broadcast, macC, 4)
	if a, b, c := len(receive(p[0], 50*time.Millisecond)), len(receive(p[1], 10*time.Millisecond)), len(receive(p[2], 10*time.Millisecond)); a != 1 || b != 1 || c != 0 {
		t.Fatalf("broadcast: A %d, B %d, C %d frames, want 1, 1, 0", a, b, c)
	}
}

func TestSwitchDelay(t *testing.T) {
	const delay = 40 * time.Millisecond
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1, Default: Profile{Delay: delay}}, 2)
	s.SetLink(1, 0, Profile{Delay: 5 * time.Millisecond})
	sent := time.Now()
	p[0].toSwitch <- frame(macB, macA, 1)
	a := receive(p[1], 200*time.Millisecond)
	if len(a) != 1 {
		t.Fatalf("got %d frames, want 1", len(a))
	}
	if took := a[0].at.Sub(sent); took < delay || took > delay+30*time.Millisecond {
		t.Fatalf("A to B took %s, want %s (+30 ms slack)", took, delay)
	}
	// The other direction has its own, shorter delay.
	sent = time.Now()
	p[1].toSwitch <- frame(macA, macB, 2)
	a = receive(p[0], 100*time.Millisecond)
	if len(a) != 1 || a[0].at.Sub(sent) > 25*time.Millisecond {
		t.Fatalf("B to A: %d frames, want 1 within 25 ms", len(a))
	}
}

// TestSwitchJitterKeepsOrder sends a burst over a link with 20 ms of
// jitter: every frame arrives, later than the base delay, in order.
func TestSwitchJitterKeepsOrder(t *testing.T) {
	_, p := newTestSwitch(t, SwitchConfig{Seed: 7, Default: Profile{Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond}}, 2)
	const n = 300
	sent := time.Now()
	for i := range n {
		p[0].toSwitch <- frame(macB, macA, uint32(i))
	}
	got := receive(p[1], 150*time.Millisecond)
	if len(got) != n {
		t.Fatalf("got %d of %d frames", len(got), n)
	}
	for i, a := range got {
		if seqOf(a.frame) != uint32(i) {
			t.Fatalf("frame %d arrived as number %d: jitter reordered the link", seqOf(a.frame), i)
		}
		if a.at.Sub(sent) < 5*time.Millisecond {
			t.Fatalf("frame %d arrived after %s, before the base delay", i, a.at.Sub(sent))
		}
	}
}

// TestSwitchLoss drops about the configured share of frames; the seeded
// generator makes the count repeat, but the test only asks for a share
// within five standard deviations.
func TestSwitchLoss(t *testing.T) {
	cases := []struct {
		name string
		loss float64
		lo   int
		hi   int
	}{
		{"none", 0, 2000, 2000},
		{"1 percent", 0.01, 1957, 1999},  // mean 1980, sd 4.4
		{"30 percent", 0.30, 1297, 1503}, // mean 1400, sd 20.5
		{"everything", 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, p := newTestSwitch(t, SwitchConfig{Seed: 42, Default: Profile{Loss: tc.loss}}, 2)
			for i := range 2000 {
				p[0].toSwitch <- frame(macB, macA, uint32(i))
			}
			got := len(receive(p[1], 100*time.Millisecond))
			if got < tc.lo || got > tc.hi {
				t.Fatalf("loss %.2f: %d of 2000 frames arrived, want %d to %d", tc.loss, got, tc.lo, tc.hi)
			}
			if st := s.Stats(); st.Lost != uint64(2000-got) || st.Delivered != uint64(got) {
				t.Fatalf("stats %+v, want %d lost and %d delivered", st, 2000-got, got)
			}
		})
	}
}

// TestSwitchPartition cuts A and B off from C, then heals: nothing
// crosses the cut, broadcasts included, and everything crosses again
// after Heal.
func TestSwitchPartition(t *testing.T) {
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1}, 3)
	// Let the switch learn everyone.
	for i, m := range [][6]byte{macA, macB, macC} {
		p[i].toSwitch <- frame(broadcast, m, 0)
	}
	for i := range p {
		receive(p[i], 30*time.Millisecond)
	}

	s.Partition([]int{0, 1}, []int{2})
	p[0].toSwitch <- frame(macC, macA, 1)      // across the cut
	p[0].toSwitch <- frame(macB, macA, 2)      // same side
	p[2].toSwitch <- frame(broadcast, macC, 3) // C shouts alone
	p[2].toSwitch <- frame(mdnsMAC, macC, 4)
	if c, b, a := len(receive(p[2], 50*time.Millisecond)), len(receive(p[1], 10*time.Millisecond)), len(receive(p[0], 10*time.Millisecond)); c != 0 || b != 1 || a != 0 {
		t.Fatalf("partitioned: C got %d, B got %d, A got %d frames, want 0, 1, 0", c, b, a)
	}
	if cut := s.Stats().Cut; cut != 5 { // A->C, C->A and C->B twice
		t.Fatalf("%d frames counted as cut, want 5", cut)
	}

	s.Heal()
	p[0].toSwitch <- frame(macC, macA, 5)
	p[2].toSwitch <- frame(broadcast, macC, 6)
	if c, a, b := len(receive(p[2], 50*time.Millisecond)), len(receive(p[0], 10*time.Millisecond)), len(receive(p[1], 10*time.Millisecond)); c != 1 || a != 1 || b != 1 {
		t.Fatalf("healed: C got %d, A got %d, B got %d frames, want 1 each", c, a, b)
	}
}

// TestSwitchBlockMulticast drops mDNS frames and keeps ARP broadcasts.
func TestSwitchBlockMulticast(t *testing.T) {
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1}, 3)
	s.BlockMulticast(true)
	p[0].toSwitch <- frame(mdnsMAC, macA, 1)
	p[0].toSwitch <- frame(broadcast, macA, 2)
	for i := 1; i < 3; i++ {
		got := receive(p[i], 50*time.Millisecond)
		if len(got) != 1 || seqOf(got[0].frame) != 2 {
			t.Fatalf("port %d got %d frames, want only the broadcast", i, len(got))
		}
	}
	s.BlockMulticast(false)
	p[0].toSwitch <- frame(mdnsMAC, macA, 3)
	if n := len(receive(p[1], 50*time.Millisecond)); n != 1 {
		t.Fatalf("multicast unblocked: got %d frames, want 1", n)
	}
}

// TestSwitchQueueBound fills an output queue behind a long delay: the
// switch keeps QueueLen frames and drops the rest.
func TestSwitchQueueBound(t *testing.T) {
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1, QueueLen: 8, Default: Profile{Delay: 300 * time.Millisecond}}, 2)
	for i := range 20 {
		p[0].toSwitch <- frame(macB, macA, uint32(i))
	}
	got := receive(p[1], 500*time.Millisecond)
	if len(got) != 8 || s.Stats().Overflow != 12 {
		t.Fatalf("got %d frames and %d overflows, want 8 and 12", len(got), s.Stats().Overflow)
	}
}

// TestDrawLinksRepeats draws the same link delays for the same seed, in
// range and symmetric.
func TestDrawLinksRepeats(t *testing.T) {
	r := LinkRange{MinDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Jitter: time.Millisecond, Loss: 0.01}
	draw := func(seed uint64) []Profile {
		s, _ := newTestSwitch(t, SwitchConfig{Seed: seed}, 4)
		s.DrawLinks(r)
		var out []Profile
		for a := range 4 {
			for b := range 4 {
				if a == b {
					continue
				}
				l := s.Link(a, b)
				if l != s.Link(b, a) || l.Delay < r.MinDelay || l.Delay > r.MaxDelay || l.Loss != r.Loss {
					t.Fatalf("link %d-%d: %v / %v, outside %v", a, b, l, s.Link(b, a), r)
				}
				out = append(out, l)
			}
		}
		return out
	}
	one, two, other := draw(3), draw(3), draw(4)
	same := func(x, y []Profile) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(one, two) {
		t.Fatalf("seed 3 drew %v, then %v", one, two)
	}
	if same(one, other) {
		t.Fatalf("seeds 3 and 4 drew the same delays %v", one)
	}
}
