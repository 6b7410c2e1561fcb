package netlab

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Port is one port of a Switch: a source and a sink of Ethernet frames.
// ReadFrame blocks until a frame arrives, and returns an error once the
// port is closed, which ends the port's reader; WriteFrame sends one frame
// and must not keep b.
type Port interface {
	ReadFrame(b []byte) (int, error)
	WriteFrame(b []byte) error
	Close() error
}

// Profile is what one direction of a link does to each frame: it delays
// it by Delay plus a uniform draw from [0, Jitter), and drops it with
// probability Loss (0 to 1), independently of the frames before it.
type Profile struct {
	Delay  time.Duration
	Jitter time.Duration
	Loss   float64
}

func (p Profile) String() string {
	return fmt.Sprintf("delay %s, jitter %s, loss %.1f%%", p.Delay, p.Jitter, p.Loss*100)
}

// SwitchConfig configures a Switch.
type SwitchConfig struct {
	// Seed seeds the generator of every random draw: link delays drawn by
	// DrawLinks, jitter and loss.
	Seed uint64
	// Default is the profile of every link without its own (SetLink).
	Default Profile
	// QueueLen bounds the frames waiting for their delivery time on one
	// output port; a frame that finds the queue full is dropped and
	// counted in Stats.Overflow. Optional: 4096.
	QueueLen int
}

// Stats counts what the switch did with frames, per destination port.
type Stats struct {
	Delivered  uint64 // written to their port
	Lost       uint64 // dropped by a link's Loss
	Cut        uint64 // dropped by a partition
	Multicast  uint64 // dropped while multicast was blocked
	Overflow   uint64 // dropped because an output queue was full
	WriteError uint64 // the port refused them
}

// maxFrame is the largest frame a port read may return: far above the
// MTU, so that a frame is never cut short.
const maxFrame = 64 << 10

// Switch is a learning Ethernet switch between Ports that delays, drops
// and partitions frames. Unicast frames go to the port their destination
// address was last seen on, or to every port while it is unknown;
// broadcast and multicast frames go to every port but the one they came
// from. Create it with NewSwitch, attach ports with Attach, stop it with
// Close. Its methods are safe for concurrent use.
type Switch struct {
	cfg SwitchConfig
	wg  sync.WaitGroup

	mu          sync.Mutex
	rng         *rand.Rand
	ports       []*output
	macs        map[[6]byte]int
	links       map[[2]int]Profile
	last        map[[2]int]time.Time // delivery time of a link's latest frame
	group       []int                // nil: no partition; else group per port, -1 cut off
	noMulticast bool
	seq         uint64
	closed      bool

	stats struct {
		delivered, lost, cut, multicast, overflow, writeError atomic.Uint64
	}
}

// output is a port and the frames waiting to be written to it.
type output struct {
	port    Port
	in      chan queued  // capacity QueueLen
	waiting atomic.Int64 // frames queued and not yet written: at most QueueLen
	done    chan struct{}
}

// queued is a frame waiting for its delivery time.
type queued struct {
	due   time.Time
	seq   uint64 // breaks ties in arrival order
	frame []byte
}

// NewSwitch returns a switch with no ports.
func NewSwitch(cfg SwitchConfig) *Switch {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	return &Switch{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		macs:  map[[6]byte]int{},
		links: map[[2]int]Profile{},
		last:  map[[2]int]time.Time{},
	}
}

// Attach adds p as the next port, numbered from 0, and starts forwarding
// its frames. The switch owns p from now on and closes it in Close.
func (s *Switch) Attach(p Port) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	o := &output{port: p, in: make(chan queued, s.cfg.QueueLen), done: make(chan struct{})}
	s.ports = append(s.ports, o)
	i := len(s.ports) - 1
	s.wg.Add(2)
	go s.read(i, p) // ends when Close closes p
	go s.write(o)   // ends when Close closes o.done
	return i, nil
}

// Ports returns the number of attached ports.
func (s *Switch) Ports() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ports)
}

// SetLink gives the direction from port a to port b its own profile.
func (s *Switch) SetLink(a, b int, p Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links[[2]int{a, b}] = p
}

// SetDefault sets the profile of every link and forgets the links' own
// profiles.
func (s *Switch) SetDefault(p Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Default = p
	clear(s.links)
}

// LinkRange describes a network whose links differ: each pair of ports
// gets a one-way delay drawn uniformly from [MinDelay, MaxDelay], the same
// in both directions, and every link the same Jitter and Loss.
type LinkRange struct {
	MinDelay, MaxDelay time.Duration
	Jitter             time.Duration
	Loss               float64
}

func (r LinkRange) String() string {
	return fmt.Sprintf("one-way delay %s-%s, jitter %s, loss %.1f%%", r.MinDelay, r.MaxDelay, r.Jitter, r.Loss*100)
}

// DrawLinks gives every pair of the ports attached so far a profile drawn
// from r, from the switch's seeded generator: the same seed and the same
// number of ports draw the same delays.
func (s *Switch) DrawLinks(r LinkRange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	span := int64(r.MaxDelay - r.MinDelay)
	for a := range s.ports {
		for b := a + 1; b < len(s.ports); b++ {
			d := r.MinDelay
			if span > 0 {
				d += time.Duration(s.rng.Int64N(span + 1))
			}
			p := Profile{Delay: d, Jitter: r.Jitter, Loss: r.Loss}
			s.links[[2]int{a, b}] = p
			s.links[[2]int{b, a}] = p
		}
	}
}

// Link returns the profile of the direction from port a to port b.
func (s *Switch) Link(a, b int) Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile(a, b)
}

func (s *Switch) profile(a, b int) Profile {
	if p, ok := s.links[[2]int{a, b}]; ok {
		return p
	}
	return s.cfg.Default
}

// Partition splits the ports into groups: frames pass only between ports
// of the same group. A port in no group is cut off from every other.
// Frames already on their way are still delivered, as on a real link.
func (s *Switch) Partition(groups ...[]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := make([]int, len(s.ports))
	for i := range g {
		g[i] = -1
	}
	for gi, ports := range groups {
		for _, p := range ports {
			if p >= 0 && p < len(g) {
				g[p] = gi
			}
		}
	}
	s.group = g
}

// Heal ends a partition.
func (s *Switch) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.group = nil
}

// BlockMulticast makes the switch drop (on) or forward (off) frames to
// multicast addresses, as many Wi-Fi access points do. Broadcast frames
// (ARP) still pass. IPv6 neighbour discovery is multicast, so while it is
// on, hosts reach each other over IPv4 only.
func (s *Switch) BlockMulticast(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noMulticast = on
}

// Stats returns the counters so far.
func (s *Switch) Stats() Stats {
	return Stats{
		Delivered: s.stats.delivered.Load(), Lost: s.stats.lost.Load(), Cut: s.stats.cut.Load(),
		Multicast: s.stats.multicast.Load(), Overflow: s.stats.overflow.Load(),
		WriteError: s.stats.writeError.Load(),
	}
}

// Close stops forwarding, closes every port and waits for the switch's
// goroutines. Frames still queued are dropped. Later calls do nothing.
func (s *Switch) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ports := s.ports
	s.mu.Unlock()
	var first error
	for _, o := range ports {
		if err := o.port.Close(); err != nil && first == nil {
			first = err
		}
		close(o.done)
	}
	s.wg.Wait()
	return first
}

// read forwards the frames of port i until the port is closed.
func (s *Switch) read(i int, p Port) {
	defer s.wg.Done()
	buf := make([]byte, maxFrame)
	for {
		n, err := p.ReadFrame(buf)
		if err != nil {
			return
		}
		if n < 14 { // not even an Ethernet header
			continue
		}
		s.forward(i, append([]byte(nil), buf[:n]...), time.Now())
	}
}

var broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// forward decides, for a frame that arrived on port from at now, which
// ports get it and when, and queues it for them.
func (s *Switch) forward(from int, frame []byte, now time.Time) {
	dst, src := [6]byte(frame[0:6]), [6]byte(frame[6:12])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if src[0]&1 == 0 { // learn unicast sources only
		s.macs[src] = from
	}
	to, known := s.macs[dst]
	switch {
	case dst[0]&1 == 1 && dst != broadcast && s.noMulticast:
		s.stats.multicast.Add(uint64(len(s.ports) - 1))
	case dst[0]&1 == 0 && known:
		if to != from {
			s.queue(from, to, frame, now)
		}
	default: // broadcast, multicast or unknown: flood
		for to := range s.ports {
			if to != from {
				s.queue(from, to, frame, now)
			}
		}
	}
}

// queue applies the link from->to to frame and queues it on port to.
// s.mu is held.
func (s *Switch) queue(from, to int, frame []byte, now time.Time) {
	if s.group != nil && (from >= len(s.group) || to >= len(s.group) || s.group[from] < 0 || s.group[from] != s.group[to]) {
		s.stats.cut.Add(1)
		return
	}
	p := s.profile(from, to)
	if p.Loss > 0 && s.rng.Float64() < p.Loss {
		s.stats.lost.Add(1)
		return
	}
	due := now.Add(p.Delay)
	if p.Jitter > 0 {
		due = due.Add(time.Duration(s.rng.Int64N(int64(p.Jitter))))
	}
	link := [2]int{from, to}
	if last := s.last[link]; due.Before(last) {
		due = last // jitter delays, it never reorders a link
	}
	s.last[link] = due
	s.seq++
	o := s.ports[to]
	if o.waiting.Load() >= int64(s.cfg.QueueLen) {
		s.stats.overflow.Add(1)
		return
	}
	o.waiting.Add(1)
	o.in <- queued{due: due, seq: s.seq, frame: frame} // never blocks: waiting bounds what the channel holds
}

// write delivers the frames queued for o when they are due. It returns
// when Close closes o.done.
func (s *Switch) write(o *output) {
	defer s.wg.Done()
	var q frameQueue
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		for q.Len() > 0 && !q.peek().due.After(now) {
			err := o.port.WriteFrame(q.pop().frame)
			o.waiting.Add(-1)
			if err != nil {
				s.stats.writeError.Add(1)
			} else {
				s.stats.delivered.Add(1)
			}
		}
		var wake <-chan time.Time
		if q.Len() > 0 {
			timer.Reset(q.peek().due.Sub(now))
			wake = timer.C
		}
		select {
		case <-o.done:
			return
		case f := <-o.in:
			q.push(f)
		case <-wake:
		}
	}
}
