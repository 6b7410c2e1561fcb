package city

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// The simulator is a client: it runs in the citychain process, reads
// the wall clock and draws pseudo-random numbers, and talks to a node
// only through signed transactions and queries, like any device gateway
// would. Nothing here runs in Deliver. Who signs what is in the
// command's help: the --from key sends everything, so its nonces put
// each registration before the readings that need it, and device keys
// come from --seed (DeviceKey), so a second run with the same seed
// speaks for the same devices and continues their sequence numbers.

// SimConfig is what the simulator needs from the binary that mounts it.
type SimConfig struct {
	// Client submits transactions signed with its --from key and reads
	// the node. The command that mounts the simulator must carry the
	// flags the client reads (--from, --passphrase-file, --chain-id,
	// --node); the simulator itself never sets a nonce.
	Client sdk.Client
	// Clock is the wall clock, time.Now in the binary. Readings are
	// stamped with it, and it decides when the run ends.
	Clock func() time.Time
	// Wait waits between ticks for d, or until ctx is done; nil means a
	// timer. Tests give one that moves a fake clock instead.
	Wait func(ctx context.Context, d time.Duration) error
}

// simOptions are the command's flags.
type simOptions struct {
	devices       int
	rate          float64
	duration      time.Duration
	count         int
	seed          string
	district      string
	prefix        string
	lon, lat      float64
	speed         float64
	start         string
	owner         string
	registerWait  time.Duration
	maxFailures   int
	commandsEvery int // ticks between looks at pending commands
}

// SimCommand returns the `city` command for `citychain sim city`: a
// district whose devices register and report at a chosen rate until
// --duration or --count runs out, or Ctrl-C.
func SimCommand(cfg SimConfig) *cobra.Command {
	if cfg.Wait == nil {
		cfg.Wait = waitTimer
	}
	o := simOptions{registerWait: 30 * time.Second, maxFailures: 5, commandsEvery: 3}
	var lon, lat string
	cmd := &cobra.Command{
		Use:   "city --devices N --rate R [--duration D | --count N]",
		Short: "Simulate a small district: devices register, then report at a chosen rate",
		Long: `Simulate a district around a centre point: streetlights that follow dusk and
dawn, traffic counters whose intensity follows the rush hours, traffic lights on
a fixed-time plan, and an air-quality station whose NO2 follows the traffic.

The --from key registers the devices that are not on chain yet (it must be a
city operator: dev0 in citychain dev) and then carries the readings as the
district's gateway; each reading is signed by its device's own key, derived from
--seed and the device id. Commands sent to the simulated devices
(citychain tx city command ...) are acknowledged and obeyed.

--rate is readings per second for the whole district, batched up to 64 per
transaction. --speed runs the simulated clock faster than the wall clock (720:
a day in two minutes), to watch the lights go on at dusk; readings still carry
the real time. The run stops after --duration or --count readings, or on Ctrl-C.`,
		Example: `  citychain sim city --from dev0 --devices 20 --rate 5 --duration 2m
  citychain sim city --from dev0 --devices 10 --rate 10 --speed 720 --count 2000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.lon, err = strconv.ParseFloat(lon, 64); err != nil || !inRange(o.lon, -180, 180) {
				return fmt.Errorf("--lon %q: want a longitude in -180..180", lon)
			}
			if o.lat, err = strconv.ParseFloat(lat, 64); err != nil || !inRange(o.lat, -85, 85) {
				return fmt.Errorf("--lat %q: want a latitude in -85..85", lat)
			}
			if !cmd.Flags().Changed("prefix") {
				o.prefix = strings.ToLower(sanitize(o.district, 24, districtChars)) + "-"
			}
			return runSim(cmd, cfg, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.devices, "devices", 12, "how many devices (1 to 1000)")
	f.Float64Var(&o.rate, "rate", 2, "readings per second, for the whole district (0.001 to 1000)")
	f.DurationVar(&o.duration, "duration", time.Minute, "stop after this long (0: no limit, then --count must be set)")
	f.IntVar(&o.count, "count", 0, "stop after this many readings (0: no limit)")
	f.StringVar(&o.seed, "seed", "citychain", "seed of the layout, the device keys and the noise")
	f.StringVar(&o.district, "district", "Centro", "district name")
	f.StringVar(&o.prefix, "prefix", "", "device id prefix (default: the district in lower case and '-')")
	f.StringVar(&lon, "lon", "-3.703790", "longitude of the district's centre")
	f.StringVar(&lat, "lat", "40.416775", "latitude of the district's centre")
	f.Float64Var(&o.speed, "speed", 1, "how much faster than the wall clock the simulated clock runs (at most 86400: a day a second)")
	f.StringVar(&o.start, "start", "", "the simulated clock's start, RFC 3339 (default: now)")
	f.StringVar(&o.owner, "owner", "", "owner of new devices (default: the first city operator)")
	return cmd
}

// Bounds of the simulator's numeric flags. The slowest rate waits 1000 s
// between readings; the fastest speed runs a day each second.
const (
	minSimRate  float64 = 0.001
	maxSimRate  float64 = 1000
	maxSimSpeed float64 = 86400
)

// inRange reports whether x is a number (not NaN) in lo..hi; an infinity
// is outside every finite range.
func inRange(x, lo, hi float64) bool { return x >= lo && x <= hi }

// simElapsed is how far the simulated clock has run when wall time d has
// passed at speed, held within what a time.Duration holds.
func simElapsed(d time.Duration, speed float64) time.Duration {
	f := float64(d) * speed
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(f)
}

// simRun is one run of the simulator.
type simRun struct {
	c       sdk.Client
	cmd     *cobra.Command // Submit and Query take it; its output is discarded while submitting
	out     io.Writer
	clock   func() time.Time
	wait    func(ctx context.Context, d time.Duration) error
	rng     *rng
	chainID string
	devices []*simDevice
	byID    map[string]*simDevice
	acked   map[uint64]bool

	readings, txs, acks, failures int
}

// runSim validates the options and runs: set up, register, report.
func runSim(cmd *cobra.Command, cfg SimConfig, o simOptions) error {
	switch {
	case cfg.Client == nil || cfg.Clock == nil:
		return fmt.Errorf("the simulator was mounted without a client or a clock")
	case o.devices < 1 || o.devices > 1000:
		return fmt.Errorf("--devices %d: want 1 to 1000", o.devices)
	case !inRange(o.rate, minSimRate, maxSimRate):
		return fmt.Errorf("--rate %g: want %g to %g readings per second", o.rate, minSimRate, maxSimRate)
	case o.duration < 0:
		return fmt.Errorf("--duration %s: must not be negative", o.duration)
	case o.count < 0:
		return fmt.Errorf("--count %d: must not be negative", o.count)
	case o.duration == 0 && o.count == 0:
		return fmt.Errorf("the simulator must be bounded: give --duration or --count")
	case !inRange(o.speed, 0, maxSimSpeed) || o.speed == 0:
		return fmt.Errorf("--speed %g: want more than 0 and at most %g", o.speed, maxSimSpeed)
	}
	if err := checkName("district", o.district, MaxDistrictLen, districtChars); err != nil {
		return fmt.Errorf("--district: %w", err)
	}
	// Ctrl-C cancels the context: a submit in flight is abandoned, the
	// loop ends, and the summary is printed.
	ctx, stop := signal.NotifyContext(cmp.Or(cmd.Context(), context.Background()), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd.SetContext(ctx)
	s := &simRun{c: cfg.Client, cmd: cmd, out: cmd.OutOrStdout(), clock: cfg.Clock, wait: cfg.Wait,
		rng: newRNG(o.seed), byID: map[string]*simDevice{}, acked: map[uint64]bool{}}
	defer cmd.SetOut(s.out)

	var info InfoAnswer
	if err := s.c.Query(cmd, Name+"/info", &info); err != nil {
		return err
	}
	s.chainID = info.ChainID
	owner := o.owner
	if owner == "" {
		if len(info.Operators) == 0 {
			return fmt.Errorf("the chain has no city operator: nobody can register devices (see the city section of the genesis)")
		}
		owner = info.Operators[0].String()
	}
	ownerAddr, err := chain.ParseAddress(owner)
	if err != nil {
		return fmt.Errorf("--owner: %w", err)
	}
	s.devices = planDistrict(s.rng, o.devices, o.seed, o.prefix, o.district, o.lon, o.lat)
	for _, d := range s.devices {
		d.reg.Owner = ownerAddr
		s.byID[d.reg.ID] = d
	}
	if err := s.register(ctx, o); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(s.out, "stopped before every device was registered")
			return nil
		}
		return err
	}
	return s.report(ctx, o)
}

// register sends the registrations the chain does not have yet and
// waits until they are committed. A device already registered under
// another key is an error: its readings would all fail.
func (s *simRun) register(ctx context.Context, o simOptions) error {
	known, err := s.onChain(o.prefix)
	if err != nil {
		return err
	}
	sent := 0
	for _, d := range s.devices {
		if dv, ok := known[d.reg.ID]; ok {
			if dv.PubKey != d.reg.PubKey {
				return fmt.Errorf("device %s is registered with another key; use another --seed or --prefix", d.reg.ID)
			}
			d.seq = dv.State.LastSeq
			continue
		}
		if err := s.submit(ActionRegister, &d.reg); err != nil {
			return fmt.Errorf("register %s: %w", d.reg.ID, err)
		}
		sent++
	}
	fmt.Fprintf(s.out, "district %s: %d devices, %d already on chain, %d registrations sent\n",
		o.district, len(s.devices), len(s.devices)-sent, sent)
	if sent == 0 {
		return nil
	}
	deadline := s.clock().Add(o.registerWait)
	for {
		known, err := s.onChain(o.prefix)
		if err != nil {
			return err
		}
		missing := 0
		for _, d := range s.devices {
			if _, ok := known[d.reg.ID]; !ok {
				missing++
			}
		}
		if missing == 0 {
			fmt.Fprintln(s.out, "all devices registered")
			return nil
		}
		if s.clock().After(deadline) {
			return fmt.Errorf("%d registrations not committed after %s: is the --from key a city operator? (citychain query city info)", missing, o.registerWait)
		}
		if err := s.wait(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// onChain returns the devices with the prefix that the chain knows.
func (s *simRun) onChain(prefix string) (map[string]DeviceView, error) {
	var ds []DeviceView
	q := Name + "/devices?" + url.Values{"prefix": {prefix}, "limit": {strconv.Itoa(maxLimit)}}.Encode()
	if err := s.c.Query(s.cmd, q, &ds); err != nil {
		return nil, err
	}
	out := make(map[string]DeviceView, len(ds))
	for _, d := range ds {
		out[d.ID] = d
	}
	return out, nil
}

// report is the main loop: every tick, the devices whose turn it is
// (round robin, --rate per second in all) observe and sign, and their
// readings go out in as few transactions as fit.
func (s *simRun) report(ctx context.Context, o simOptions) error {
	wallStart := s.clock()
	simStart := wallStart
	if o.start != "" {
		t, err := time.Parse(time.RFC3339, o.start)
		if err != nil {
			return fmt.Errorf("--start: %w", err)
		}
		simStart = t
	}
	tick := time.Second
	if o.rate < 1 {
		tick = time.Duration(float64(time.Second) / o.rate)
	}
	due, next, consecutive := 0.0, 0, 0
	for n := 0; ; n++ {
		now := s.clock()
		if o.duration > 0 && now.Sub(wallStart) >= o.duration || o.count > 0 && s.readings >= o.count {
			break
		}
		simNow := simStart.Add(simElapsed(now.Sub(wallStart), o.speed))
		if n%o.commandsEvery == 0 {
			if err := s.obeyCommands(o.prefix); err != nil {
				if ctx.Err() != nil {
					break
				}
				fmt.Fprintf(s.out, "commands: %v\n", err)
			}
		}
		due += o.rate * tick.Seconds()
		k := int(due)
		due -= float64(k)
		if o.count > 0 {
			k = min(k, o.count-s.readings)
		}
		batch := make([]Reading, 0, k)
		for range k {
			d := s.devices[next%len(s.devices)]
			next++
			d.seq++
			obs := Observation{Device: d.reg.ID, Seq: d.seq, ObservedAt: formatTime(now.Truncate(time.Millisecond)),
				Values: d.observe(s.rng, simNow)}
			r, err := SignReading(d.key, s.chainID, obs)
			if err != nil {
				return err
			}
			batch = append(batch, r)
		}
		for len(batch) > 0 {
			part := batch[:min(len(batch), MaxReadings)]
			batch = batch[len(part):]
			if err := s.submit(ActionReport, &Report{Readings: part}); err != nil {
				if ctx.Err() != nil {
					break
				}
				s.failures++
				consecutive++
				fmt.Fprintf(s.out, "report refused: %v\n", err)
				if consecutive >= o.maxFailures {
					s.summary(o)
					return fmt.Errorf("%d reports in a row failed; last: %w", consecutive, err)
				}
				continue
			}
			consecutive = 0
			s.readings += len(part)
			s.txs++
		}
		if k > 0 {
			fmt.Fprintf(s.out, "%s  sim %s  sent %d readings, %d in all\n", now.UTC().Format("15:04:05"),
				simNow.UTC().Format("Mon 15:04 UTC"), k, s.readings)
		}
		if err := s.wait(ctx, tick); err != nil {
			break
		}
	}
	s.summary(o)
	return nil
}

// obeyCommands acknowledges the pending commands for the simulated
// devices, and makes the devices follow them from now on.
func (s *simRun) obeyCommands(prefix string) error {
	var pending []CommandRecord
	q := Name + "/commands?" + url.Values{"status": {StatusPending}, "prefix": {prefix}}.Encode()
	if err := s.c.Query(s.cmd, q, &pending); err != nil {
		return err
	}
	for _, rec := range pending {
		d, ok := s.byID[rec.Device]
		if !ok || s.acked[rec.ID] {
			continue
		}
		if rec.Attr != "" {
			d.forced[rec.Attr] = rec.Value
		}
		ack, err := SignAck(d.key, s.chainID, AckBody{Device: d.reg.ID, Command: rec.ID, Result: ResultDone,
			Detail: "simulated device obeyed"})
		if err != nil {
			return err
		}
		if err := s.submit(ActionAck, &ack); err != nil {
			return fmt.Errorf("ack command %d: %w", rec.ID, err)
		}
		s.acked[rec.ID] = true
		s.acks++
		fmt.Fprintf(s.out, "device %s obeyed command %d: %s %s\n", d.reg.ID, rec.ID, rec.Action, rec.Value)
	}
	return nil
}

// submit sends one transaction through the client, keeping the client's
// per-transaction output out of the simulator's own.
func (s *simRun) submit(action string, payload any) error {
	s.cmd.SetOut(io.Discard)
	defer s.cmd.SetOut(s.out)
	return s.c.Submit(s.cmd, Name, action, payload)
}

func (s *simRun) summary(o simOptions) {
	fmt.Fprintf(s.out, "done: %d readings in %d transactions from %d devices, %d commands obeyed, %d reports refused\n",
		s.readings, s.txs, len(s.devices), s.acks, s.failures)
	fmt.Fprintf(s.out, "see: citychain query city district %s\n", o.district)
}

// waitTimer waits for d or until ctx is done.
func waitTimer(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
