package node

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// scheduler is how the consensus engine meets time: it reads the clock
// through Now and asks for a later wake-up through After, never through
// package time. A running node uses realTime; the seeded simulation
// (sim_test.go) uses virtual time, so the same engine code runs in both.
type scheduler interface {
	// Now returns the current time.
	Now() time.Time
	// After hands x to the engine's dispatch once d has passed. It never
	// blocks and is never cancelled: stale wake-ups are ignored by the
	// engine.
	After(d time.Duration, x any)
}

// EnvClockSkew names a test hook: a duration ("90s", "-2m") that a node
// started by "citychain node" adds to its wall clock, as if the machine's
// clock were that far off. The fault tests use it to show that a node
// whose clock is wrong neither stops the chain nor makes block times go
// backwards. It changes only the clock consensus reads (block times and
// the check that a proposal is not from the future), not timers.
const EnvClockSkew = "CITYCHAIN_CLOCK_SKEW"

// SkewedClock returns the wall clock moved by the duration in skew (the
// value of EnvClockSkew), or nil and no error for an empty value.
func SkewedClock(skew string) (func() time.Time, time.Duration, error) {
	skew = strings.TrimSpace(skew)
	if skew == "" {
		return nil, 0, nil
	}
	d, err := time.ParseDuration(skew)
	if err != nil {
		return nil, 0, fmt.Errorf("%s=%q: want a duration such as 90s or -2m: %w", EnvClockSkew, skew, err)
	}
	return func() time.Time { return time.Now().Add(d) }, d, nil
}

// realTime is the scheduler of a running node: the wall clock (or the
// clock given in Options) and timers that post into the engine's inbox.
type realTime struct {
	clock func() time.Time
	in    chan<- any
	done  <-chan struct{} // closed when the node stops
}

func (r realTime) Now() time.Time { return r.clock() }

func (r realTime) After(d time.Duration, x any) {
	time.AfterFunc(d, func() { // exits after one send, or when the node stops
		select {
		case r.in <- x:
		case <-r.done:
		}
	})
}

// vault keeps the few things a validator must never lose in a crash: the
// double-sign guard, the block it proposed and the block it is locked on.
// Save and Remove are durable when they return. A running node keeps them
// as files in its home (dirVault, vaultfile.go); the simulation keeps them
// in memory across its simulated crashes (memVault).
type vault interface {
	// Load returns the saved bytes, or an error wrapping os.ErrNotExist.
	Load(name string) ([]byte, error)
	Save(name string, data []byte) error
	Remove(name string) error
}

// memVault is a vault in memory, safe for concurrent use. Fail, when set,
// makes Save fail for the named file, so tests can show what the engine
// does when it cannot persist.
type memVault struct {
	mu    sync.Mutex
	files map[string][]byte
	Fail  map[string]error
}

func newMemVault() *memVault { return &memVault{files: map[string][]byte{}, Fail: map[string]error{}} }

func (m *memVault) Load(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
	return append([]byte(nil), b...), nil
}

func (m *memVault) Save(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.Fail[name]; err != nil {
		return err
	}
	m.files[name] = append([]byte(nil), data...)
	return nil
}

func (m *memVault) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}
