package netlab

import (
	"encoding/binary"
	"errors"
	"slices"
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

// wait bounds how long a test waits for a frame it expects. It is far
// above every delay the tests set, so it only ends a test that would
// otherwise hang; it is not a speed target.
const wait = 5 * time.Second

// receiveN returns the next n frames port p gets, and fails the test if
// they do not all come within wait.
func receiveN(t *testing.T, p *memPort, n int) []arrival {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	out := make([]arrival, 0, n)
	for len(out) < n {
		select {
		case a := <-p.got:
			out = append(out, a)
		case <-deadline.C:
			t.Fatalf("got %d of %d frames within %s", len(out), n, wait)
		}
	}
	return out
}

// until returns the numbers of the frames port p gets before the frame
// numbered mark, which it consumes, and fails the test if mark does not
// come within wait. A frame queued for p before mark was, whatever its
// link, is due no later than mark when neither has a delay, and a frame
// sent ahead of mark on mark's own link is never overtaken: so when mark
// is sent after a frame could have been queued for p, an empty answer
// means that frame was not queued, however late the scheduler runs.
func until(t *testing.T, p *memPort, mark uint32) []uint32 {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var out []uint32
	for {
		select {
		case a := <-p.got:
			if n := seqOf(a.frame); n != mark {
				out = append(out, n)
				continue
			}
			return out
		case <-deadline.C:
			t.Fatalf("frame %d did not come within %s; got %v before the deadline", mark, wait, out)
			return nil
		}
	}
}

// seqs returns the numbers of frames.
func seqs(frames []arrival) []uint32 {
	out := make([]uint32, len(frames))
	for i, a := range frames {
		out[i] = seqOf(a.frame)
	}
	return out
}

// waitStats waits, up to wait, until ok holds for the switch's counters,
// and returns the last counters read.
func waitStats(t *testing.T, s *Switch, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(wait)
	for range int(wait / time.Millisecond) {
		st := s.Stats()
		if ok(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(time.Millisecond)
	}
	return s.Stats()
}

// Frames numbered from marks on are sent only to show that what came
// before them has arrived.
const marks = 1000

func TestSwitchFloodsUnknownThenLearns(t *testing.T) {
	_, p := newTestSwitch(t, SwitchConfig{Seed: 1}, 3)
	// A speaks to B, whom the switch has not seen: B and C both get it.
	p[0].toSwitch <- frame(macB, macA, 1)
	p[0].toSwitch <- frame(broadcast, macA, marks)
	if b, c := until(t, p[1], marks), until(t, p[2], marks); !slices.Equal(b, []uint32{1}) || !slices.Equal(c, []uint32{1}) {
		t.Fatalf("unknown destination: B got %v, C got %v, want [1] and [1]", b, c)
	}
	// B answers: A is known by now, so only A gets it.
	p[1].toSwitch <- frame(macA, macB, 2)
	p[1].toSwitch <- frame(broadcast, macB, marks+1)
	if a, c := until(t, p[0], marks+1), until(t, p[2], marks+1); !slices.Equal(a, []uint32{2}) || len(c) != 0 {
		t.Fatalf("A learned: A got %v, C got %v, want [2] and []", a, c)
	}
	// From then on the switch knows B too.
	p[0].toSwitch <- frame(macB, macA, 3)
	p[0].toSwitch <- frame(broadcast, macA, marks+2)
	if b, c := until(t, p[1], marks+2), until(t, p[2], marks+2); !slices.Equal(b, []uint32{3}) || len(c) != 0 {
		t.Fatalf("B learned: B got %v, C got %v, want [3] and []", b, c)
	}
	// Broadcast goes to everyone but the sender.
	p[2].toSwitch <- frame(broadcast, macC, 4)
	p[2].toSwitch <- frame(broadcast, macC, marks+3)
	if a, b := until(t, p[0], marks+3), until(t, p[1], marks+3); !slices.Equal(a, []uint32{4}) || !slices.Equal(b, []uint32{4}) {
		t.Fatalf("broadcast: A got %v, B got %v, want [4] and [4]", a, b)
	}
	// C's broadcast was forwarded before A got it; a mark A sends now
	// reaches C after anything of it that came back to C.
	p[0].toSwitch <- frame(macC, macA, marks+4)
	if c := until(t, p[2], marks+4); len(c) != 0 {
		t.Fatalf("broadcast: its sender C got %v back, want []", c)
	}
}

func TestSwitchDelay(t *testing.T) {
	// The bounds are one-sided: a frame never arrives before its link's
	// delay, and receiveN fails the test if it does not arrive within
	// wait. How late past the delay a frame comes depends on the machine.
	const delay, back = 40 * time.Millisecond, 120 * time.Millisecond
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1, Default: Profile{Delay: delay}}, 2)
	s.SetLink(1, 0, Profile{Delay: back})
	sent := time.Now()
	p[0].toSwitch <- frame(macB, macA, 1)
	a := receiveN(t, p[1], 1)
	took := a[0].at.Sub(sent)
	if took < delay {
		t.Fatalf("A to B took %s, less than the link's delay %s", took, delay)
	}
	t.Logf("A to B: delay %s, took %s", delay, took)
	// The other direction has its own delay, longer than the default: a
	// frame that took the default would come too early.
	sent = time.Now()
	p[1].toSwitch <- frame(macA, macB, 2)
	a = receiveN(t, p[0], 1)
	took = a[0].at.Sub(sent)
	if took < back {
		t.Fatalf("B to A took %s, less than its own link's delay %s", took, back)
	}
	t.Logf("B to A: delay %s, took %s", back, took)
	if n := seqOf(a[0].frame); n != 2 {
		t.Fatalf("B to A delivered frame %d, want 2", n)
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
	p[0].toSwitch <- frame(macB, macA, marks)
	got := receiveN(t, p[1], n)
	if rest := until(t, p[1], marks); len(rest) != 0 {
		t.Fatalf("%d frames past the %d sent: %v", len(rest), n, rest)
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
			// The switch settles every frame as lost or delivered; once all
			// 2000 are settled, a mark sent over a link made lossless comes
			// after every frame that was delivered.
			st := waitStats(t, s, func(st Stats) bool { return st.Lost+st.Delivered >= 2000 })
			if st.Lost+st.Delivered != 2000 {
				t.Fatalf("stats %+v: %d of 2000 frames settled as lost or delivered", st, st.Lost+st.Delivered)
			}
			s.SetLink(0, 1, Profile{})
			p[0].toSwitch <- frame(macB, macA, marks*marks)
			got := len(until(t, p[1], marks*marks))
			if got < tc.lo || got > tc.hi {
				t.Fatalf("loss %.2f: %d of 2000 frames arrived, want %d to %d", tc.loss, got, tc.lo, tc.hi)
			}
			if st.Lost != uint64(2000-got) || st.Delivered != uint64(got) {
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
		receiveN(t, p[i], 2)
	}

	s.Partition([]int{0, 1}, []int{2})
	p[0].toSwitch <- frame(macC, macA, 1)      // across the cut
	p[0].toSwitch <- frame(macB, macA, 2)      // same side
	p[2].toSwitch <- frame(broadcast, macC, 3) // C shouts alone
	p[2].toSwitch <- frame(mdnsMAC, macC, 4)
	p[0].toSwitch <- frame(macB, macA, marks) // same side, after A's frames
	if b := until(t, p[1], marks); !slices.Equal(b, []uint32{2}) {
		t.Fatalf("partitioned: B got %v, want [2]", b)
	}
	// A->C, C->A and C->B twice: once all five are counted, C's frames
	// have been dealt with too.
	if st := waitStats(t, s, func(st Stats) bool { return st.Cut >= 5 }); st.Cut != 5 {
		t.Fatalf("%d frames counted as cut, want 5", st.Cut)
	}

	// After Heal, a frame to C and one from C come after anything that
	// crossed the cut: C must get only the first, A and B only the second.
	s.Heal()
	p[0].toSwitch <- frame(macC, macA, 5)
	p[0].toSwitch <- frame(broadcast, macA, marks+1)
	if c, b := until(t, p[2], marks+1), until(t, p[1], marks+1); !slices.Equal(c, []uint32{5}) || len(b) != 0 {
		t.Fatalf("healed: C got %v, B got %v, want [5] and []", c, b)
	}
	p[2].toSwitch <- frame(broadcast, macC, 6)
	p[2].toSwitch <- frame(broadcast, macC, marks+2)
	if a, b := until(t, p[0], marks+2), until(t, p[1], marks+2); !slices.Equal(a, []uint32{6}) || !slices.Equal(b, []uint32{6}) {
		t.Fatalf("healed: A got %v, B got %v, want [6] and [6]", a, b)
	}
	if cut := s.Stats().Cut; cut != 5 {
		t.Fatalf("%d frames counted as cut after Heal, want still 5", cut)
	}
}

// TestSwitchBlockMulticast drops mDNS frames and keeps ARP broadcasts.
func TestSwitchBlockMulticast(t *testing.T) {
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1}, 3)
	s.BlockMulticast(true)
	p[0].toSwitch <- frame(mdnsMAC, macA, 1)
	p[0].toSwitch <- frame(broadcast, macA, 2) // follows the mDNS frame on every link
	for i := 1; i < 3; i++ {
		if got := until(t, p[i], 2); len(got) != 0 {
			t.Fatalf("port %d got %v before the broadcast, want nothing", i, got)
		}
	}
	s.BlockMulticast(false)
	p[0].toSwitch <- frame(mdnsMAC, macA, 3)
	p[0].toSwitch <- frame(broadcast, macA, marks)
	if got := until(t, p[1], marks); !slices.Equal(got, []uint32{3}) {
		t.Fatalf("multicast unblocked: got %v, want [3]", got)
	}
}

// TestSwitchQueueBound fills an output queue behind a long delay: the
// switch keeps QueueLen frames and drops the rest.
func TestSwitchQueueBound(t *testing.T) {
	s, p := newTestSwitch(t, SwitchConfig{Seed: 1, QueueLen: 8, Default: Profile{Delay: 300 * time.Millisecond}}, 2)
	for i := range 20 {
		p[0].toSwitch <- frame(macB, macA, uint32(i))
	}
	got := seqs(receiveN(t, p[1], 8))
	if st := waitStats(t, s, func(st Stats) bool { return st.Overflow+st.Delivered >= 20 }); st.Overflow != 12 {
		t.Fatalf("got %v and %d overflows, want 8 frames and 12", got, st.Overflow)
	}
	// The queue is empty now: a mark fits, and comes after anything else.
	p[0].toSwitch <- frame(macB, macA, marks)
	if rest := until(t, p[1], marks); len(rest) != 0 {
		t.Fatalf("got %v past the 8 queued frames %v", rest, got)
	}
	if want := []uint32{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Fatalf("the queue kept %v, want the first 8 %v", got, want)
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
