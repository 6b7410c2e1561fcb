package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/trace"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/citychain/citychain/node"
)

// The load: who sends, to which node, and what. Every transaction is
// valid under the dev genesis (node.DevGenesis), where dev0 is both the
// trace admin and the city operator:
//
//   - transfer: a bank send of 1 to dev9. Senders past dev0..dev9 are
//     funded by the dev accounts first.
//   - trace: a capture of one EPCIS ObjectEvent, OBSERVE of the sender's
//     own EPC. Only participants may capture, so dev0 first registers
//     every other sender as a participant for all prefixes and places.
//   - city: a report of one reading signed by the sender's own device
//     (a second signature every node checks). Only an operator registers
//     devices, so dev0 registers one per sender first; a device's
//     readings must carry growing sequence numbers, which one sender per
//     device sending in nonce order guarantees.
//
// Setup is skipped for what the chain already has, so runs can repeat.

type benchKind int

const (
	kindTransfer benchKind = iota
	kindTrace
	kindCity
)

// mixKinds returns the kinds of a --mix, sent in turn by every sender.
func mixKinds(mix string) ([]benchKind, error) {
	switch mix {
	case "transfer":
		return []benchKind{kindTransfer}, nil
	case "trace":
		return []benchKind{kindTrace}, nil
	case "city":
		return []benchKind{kindCity}, nil
	case "mixed":
		return []benchKind{kindTransfer, kindTrace, kindCity}, nil
	}
	return nil, fmt.Errorf("--mix %q: want transfer, trace, city or mixed", mix)
}

// Funding of the senders beyond dev0..dev9.
const (
	benchFund    = 1_000_000
	benchFundLow = 100_000 // a sender with less is funded again
	// benchOpenEnded is how many transactions are signed ahead when
	// neither --count nor --rate bounds a --duration run and no
	// verification limit was measured.
	benchOpenEnded = 20_000
	// benchDeviceSeed derives the bench devices' keys (city.DeviceKey):
	// public, as for every simulated device.
	benchDeviceSeed = "citychain bench"
)

// benchBody is a signed transaction ready to post: its JSON form, or
// with --batch its canonical encoding, the item of a CBOR batch.
type benchBody struct {
	body []byte
	hash chain.Hash
	due  time.Time // when the pace let it go; zero without --rate
}

// benchSender is one sending account. Only its worker touches it.
type benchSender struct {
	name   string
	key    *crypto.PrivateKey
	addr   chain.Address
	target int    // index of the node it sends to
	nonce  uint64 // nonce of the next transaction built
	built  int    // transactions built, which picks the next kind
	epc    string // trace: the EPC it observes
	// observed is the eventTime of its last trace event: each event is
	// at least a millisecond later, so that no two have the same CBV 2.0
	// event hash, which the module refuses as a duplicate capture.
	observed time.Time
	device   string // city: its device id
	devKey   *crypto.PrivateKey
	seq      uint64      // city: sequence number of the last reading built
	queue    []benchBody // signed ahead, not yet sent
	retry    *benchBody  // refused for a passing reason: sent again next
}

// benchWorkload builds the transactions of a run.
type benchWorkload struct {
	chainID string
	kinds   []benchKind
	run     string // tag unique to this run, in EPC serials
	to      chain.Address
	now     func() time.Time
	cbor    bool // bodies are canonical encodings (for batches), not JSON
	senders []*benchSender
	live    atomic.Int64 // transactions signed during the run, beyond those signed ahead
}

// newWorkload makes n senders spread over nodes round robin: sender i
// sends to node i mod nodes.
func newWorkload(chainID string, kinds []benchKind, n, nodes int) (*benchWorkload, error) {
	tag := make([]byte, 3)
	if _, err := rand.Read(tag); err != nil {
		return nil, err
	}
	w := &benchWorkload{chainID: chainID, kinds: kinds, run: hex.EncodeToString(tag),
		to: chain.AddressOf(node.DevKey(node.DevKeyCount - 1).PublicKey()), now: time.Now}
	for i := 0; i < n; i++ {
		key, name := benchSenderKey(i)
		s := &benchSender{name: name, key: key, addr: chain.AddressOf(key.PublicKey()), target: i % nodes}
		s.epc = fmt.Sprintf("urn:epc:id:sgtin:0614141.107346.B%s%d", w.run, i)
		s.device = fmt.Sprintf("citychain-bench-%04d", i)
		s.devKey = city.DeviceKey(benchDeviceSeed, s.device)
		w.senders = append(w.senders, s)
	}
	return w, nil
}

// benchSenderKey returns sender i's key: dev0..dev9, then keys derived
// from a public seed.
func benchSenderKey(i int) (*crypto.PrivateKey, string) {
	if i < node.DevKeyCount {
		return node.DevKey(i), fmt.Sprintf("dev%d", i)
	}
	for n := 0; ; n++ {
		seed := fmt.Sprintf("citychain bench sender %d", i)
		if n > 0 {
			seed += fmt.Sprintf(" %d", n)
		}
		h := chain.Sum([]byte(seed))
		if k, err := crypto.PrivateKeyFromBytes(h[:]); err == nil {
			return k, fmt.Sprintf("bench%d", i)
		}
	}
}

func (w *benchWorkload) has(k benchKind) bool {
	for _, x := range w.kinds {
		if x == k {
			return true
		}
	}
	return false
}

// benchState is what the setup asks of the chain's committed state.
type benchState interface {
	Balance(ctx context.Context, a chain.Address) (uint64, error)
	IsParticipant(ctx context.Context, a chain.Address) (bool, error)
	// Device returns a device's public key (hex) and the seq of its last
	// reading; found is false if it is not registered.
	Device(ctx context.Context, id string) (pubkey string, lastSeq uint64, found bool, err error)
	Nonce(ctx context.Context, a chain.Address) (uint64, error)
}

// setupTxs returns the transactions that give every sender what its
// kinds need and the chain does not have yet, and reads the city
// devices' last sequence numbers.
func (w *benchWorkload) setupTxs(ctx context.Context, st benchState) ([]*chain.Tx, error) {
	nonces := map[int]uint64{}
	var txs []*chain.Tx
	add := func(from int, app, action string, msg any) error {
		if _, ok := nonces[from]; !ok {
			n, err := st.Nonce(ctx, chain.AddressOf(node.DevKey(from).PublicKey()))
			if err != nil {
				return err
			}
			nonces[from] = n
		}
		p, err := chain.EncodePayload(msg)
		if err != nil {
			return err
		}
		tx := &chain.Tx{ChainID: w.chainID, App: app, Action: action, Payload: p, Nonce: nonces[from]}
		tx.Sign(node.DevKey(from))
		nonces[from]++
		txs = append(txs, tx)
		return nil
	}
	for i, s := range w.senders {
		if w.has(kindTransfer) && i >= node.DevKeyCount {
			bal, err := st.Balance(ctx, s.addr)
			if err != nil {
				return nil, err
			}
			if bal < benchFundLow {
				if err := add(i%node.DevKeyCount, bank.Name, bank.ActionSend, bank.Send{To: s.addr, Amount: benchFund}); err != nil {
					return nil, err
				}
			}
		}
		if w.has(kindTrace) && i > 0 {
			ok, err := st.IsParticipant(ctx, s.addr)
			if err != nil {
				return nil, err
			}
			if !ok {
				p := trace.Participant{Address: s.addr, Name: "citychain bench " + s.name, Role: trace.RoleLogistics,
					Prefixes: []string{trace.Wildcard}, Locations: []string{trace.Wildcard}}
				if err := add(0, trace.Name, trace.ActionRegister, &p); err != nil {
					return nil, err
				}
			}
		}
		if w.has(kindCity) {
			pub, last, found, err := st.Device(ctx, s.device)
			if err != nil {
				return nil, err
			}
			switch {
			case found && pub != city.PubKeyHex(s.devKey):
				return nil, fmt.Errorf("city device %s is registered with another key than the bench's", s.device)
			case found:
				s.seq = last
			default:
				// A generic sensor names what it senses (the Smart Data
				// Model requires it); the bench's counts stand for traffic.
				reg := city.Register{ID: s.device, Type: city.TypeDevice, Category: city.CategorySensor,
					Name: "citychain bench " + s.name, PubKey: city.PubKeyHex(s.devKey), Owner: s.addr,
					Location: city.NewPoint("-3.7038", "40.4168"), District: "bench",
					Attrs: map[string]string{"controlledProperty": "trafficFlow"}}
				if err := add(0, city.Name, city.ActionRegister, &reg); err != nil {
					return nil, err
				}
			}
		}
	}
	return txs, nil
}

// build signs the sender's next transaction.
func (w *benchWorkload) build(s *benchSender) (benchBody, error) {
	var app, action string
	var msg any
	switch w.kinds[s.built%len(w.kinds)] {
	case kindTransfer:
		app, action, msg = bank.Name, bank.ActionSend, bank.Send{To: w.to, Amount: 1}
	case kindTrace:
		app, action = trace.Name, trace.ActionCapture
		t := w.now().UTC().Truncate(time.Millisecond)
		if !t.After(s.observed) {
			t = s.observed.Add(time.Millisecond)
		}
		s.observed = t
		msg = trace.Capture{Events: []map[string]any{{
			"type": trace.ObjectEvent, "action": "OBSERVE", "epcList": []string{s.epc}, "bizStep": "inspecting",
			"eventTime": t.Format(time.RFC3339Nano), "eventTimeZoneOffset": "+00:00",
		}}}
	case kindCity:
		r, err := city.SignReading(s.devKey, w.chainID, city.Observation{Device: s.device, Seq: s.seq + 1,
			Values: map[string]string{"value": strconv.Itoa(s.built)}})
		if err != nil {
			return benchBody{}, err
		}
		s.seq++
		app, action, msg = city.Name, city.ActionReport, city.Report{Readings: []city.Reading{r}}
	}
	p, err := chain.EncodePayload(msg)
	if err != nil {
		return benchBody{}, err
	}
	tx := &chain.Tx{ChainID: w.chainID, App: app, Action: action, Payload: p, Nonce: s.nonce}
	tx.Sign(s.key)
	raw := tx.Encode()
	body := raw
	if !w.cbor {
		if body, err = json.Marshal(tx); err != nil {
			return benchBody{}, err
		}
	}
	s.nonce++
	s.built++
	return benchBody{body: body, hash: chain.Sum(raw)}, nil
}

// next returns the transaction the sender sends now: a refused one
// again, else the next signed ahead, else a new one signed now.
func (w *benchWorkload) next(s *benchSender) (benchBody, error) {
	if s.retry != nil {
		b := *s.retry
		s.retry = nil
		return b, nil
	}
	if len(s.queue) > 0 {
		b := s.queue[0]
		s.queue = s.queue[1:]
		return b, nil
	}
	w.live.Add(1)
	return w.build(s)
}

// signAhead signs n transactions spread over the senders, and a fifth
// more: senders take turns as the nodes answer, so some send a little
// more than their share. The senders are signed for on every core at
// once; each sender's transactions are built in nonce order by one
// goroutine, which alone touches that sender.
func (w *benchWorkload) signAhead(n int) error {
	next := make(chan int)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() { // exits when next is closed
			defer wg.Done()
			var first error
			for i := range next {
				if first == nil {
					first = w.signFor(i, n)
				}
			}
			errs <- first
		}()
	}
	for i := range w.senders {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// signFor queues sender i's share of n transactions.
func (w *benchWorkload) signFor(i, n int) error {
	s := w.senders[i]
	k := n / len(w.senders)
	if i < n%len(w.senders) {
		k++
	}
	k += k/5 + 1
	for j := 0; j < k; j++ {
		b, err := w.build(s)
		if err != nil {
			return err
		}
		s.queue = append(s.queue, b)
	}
	return nil
}

// signPlan is how many transactions to sign before the clock starts.
func signPlan(o *benchOptions) int {
	plan := o.count
	if o.duration > 0 && o.rate > 0 {
		byRate := int(float64(o.rate)*o.duration.Seconds() + 0.999)
		if plan == 0 || byRate < plan {
			plan = byRate
		}
	}
	if plan == 0 && o.duration > 0 && o.limitTPS > 0 {
		// No devnet commits faster than its verification limit, so that
		// many per second is enough for the whole run: the client then
		// signs nothing while the nodes work.
		plan = int(o.limitTPS*o.duration.Seconds() + 0.999)
	}
	if plan == 0 {
		plan = benchOpenEnded
	}
	return min(plan, benchMaxCount)
}
