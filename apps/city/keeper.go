package city

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Device is a registered device, stored under dev/{id}. It does not
// change after registration.
type Device struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Category     string        `json:"category,omitempty"`
	Name         string        `json:"name,omitempty"`
	PubKey       string        `json:"pubkey"`
	Owner        chain.Address `json:"owner"`
	Location     Point         `json:"location"`
	District     string        `json:"district"`
	RegisteredBy chain.Address `json:"registered_by"`
	Height       uint64        `json:"height"`
	Time         string        `json:"time"`
}

// Value is the latest value of one attribute and where it came from.
type Value struct {
	Value      string `json:"value"`
	ObservedAt string `json:"observed_at"`
	Height     uint64 `json:"height"`
	Source     string `json:"source"` // "registration", "reading" or "command N"
}

// State is a device's latest state, stored under state/{id}: every
// attribute's last value, merged from the registration, the readings
// and the commands the device acknowledged as done.
type State struct {
	Attrs      map[string]Value `json:"attrs"`
	LastSeq    uint64           `json:"last_seq"`              // the highest reading seq accepted
	Readings   uint64           `json:"readings"`              // readings accepted, the number of the newest history entry
	ObservedAt string           `json:"observed_at,omitempty"` // of the last reading
	Height     uint64           `json:"height"`                // of the last change
}

// HistoryEntry is one accepted reading, stored under hist/{id}/{n}.
// Only the newest Params.HistoryLimit entries of a device are kept.
type HistoryEntry struct {
	N          uint64            `json:"n"`
	Seq        uint64            `json:"seq"`
	ObservedAt string            `json:"observed_at"`
	Height     uint64            `json:"height"`
	TxHash     chain.Hash        `json:"tx_hash"`
	Values     map[string]string `json:"values"`
}

// Command states.
const (
	StatusPending = "pending"
	StatusDone    = ResultDone
	StatusFailed  = ResultFailed
)

// CommandRecord is a command and, once it came, the device's answer,
// stored under cmd/{n}.
type CommandRecord struct {
	ID       uint64        `json:"id"`
	Device   string        `json:"device"`
	Action   string        `json:"action"`
	Attr     string        `json:"attr,omitempty"`
	Value    string        `json:"value,omitempty"`
	IssuedBy chain.Address `json:"issued_by"`
	Height   uint64        `json:"height"`
	Time     string        `json:"time"`
	Status   string        `json:"status"`
	Detail   string        `json:"detail,omitempty"`
	AckedAt  uint64        `json:"acked_at,omitempty"` // height of the acknowledgement
	AckTime  string        `json:"ack_time,omitempty"`
}

// Params are fixed at genesis.
type Params struct {
	HistoryLimit uint64 `json:"history_limit"`
}

// DefaultHistoryLimit is how many readings per device the state keeps
// unless genesis says otherwise. Older ones stay in the blocks.
const DefaultHistoryLimit = 100

var (
	keyParams = []byte("params")
	keyCmdSeq = []byte("seq/cmd")
)

func keyOperator(a chain.Address) []byte    { return sdk.Key("op/", a[:]) }
func keyDevice(id string) []byte            { return []byte("dev/" + id) }
func keyState(id string) []byte             { return []byte("state/" + id) }
func keyHistory(id string, n uint64) []byte { return sdk.Key("hist/"+id+"/", sdk.Uint64Bytes(n)) }
func prefixDistrict(d string) []byte        { return []byte("dist/" + d + "/") }
func keyDistrict(d, id string) []byte       { return sdk.Key(prefixDistrict(d), []byte(id)) }
func keyCommand(n uint64) []byte            { return sdk.Key("cmd/", sdk.Uint64Bytes(n)) }
func prefixDeviceCommands(id string) []byte { return []byte("devcmd/" + id + "/") }
func keyDeviceCommand(id string, n uint64) []byte {
	return sdk.Key(prefixDeviceCommands(id), sdk.Uint64Bytes(n))
}
func keyPending(n uint64) []byte { return sdk.Key("pending/", sdk.Uint64Bytes(n)) }

func requireOperator(ctx *chain.Context) error {
	if !ctx.Store().Has(keyOperator(ctx.Sender)) {
		return fmt.Errorf("%w: sender %s is not a city operator", chain.ErrUnauthorized, ctx.Sender)
	}
	return nil
}

func loadParams(st *chain.Store) (Params, error) {
	return sdk.LoadOr(st, keyParams, Params{HistoryLimit: DefaultHistoryLimit})
}

// loadDevice loads the device id; field names where the id came from.
func loadDevice(st *chain.Store, field, id string) (*Device, error) {
	d, err := sdk.Find[Device](st, keyDevice(id))
	if err == nil && d == nil {
		err = fmt.Errorf("%w: %s: %w %q", chain.ErrNotFound, field, ErrUnknownDevice, id)
	}
	return d, err
}

// loadView loads the device id with its latest state (every registered
// device has one); field names where the id came from.
func loadView(st *chain.Store, field, id string) (*DeviceView, error) {
	d, err := loadDevice(st, field, id)
	if err != nil {
		return nil, err
	}
	s, err := sdk.Load[State](st, keyState(id), "state of device "+id)
	if err != nil {
		return nil, err
	}
	if s.Attrs == nil {
		s.Attrs = map[string]Value{}
	}
	return &DeviceView{Device: *d, State: *s}, nil
}

// set merges values into the state as observed at observedAt, from
// source ("registration", "reading" or "command N"), at height.
func (s *State) set(values map[string]string, observedAt string, height uint64, source string) {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		s.Attrs[k] = Value{Value: values[k], ObservedAt: observedAt, Height: height, Source: source}
	}
	s.Height = height
}

// register files a new device with its initial state and its entries in
// the district and grid indexes.
func register(ctx *chain.Context, m *Register) error {
	if err := requireOperator(ctx); err != nil {
		return err
	}
	st := ctx.Store()
	if st.Has(keyDevice(m.ID)) {
		return fmt.Errorf("%w: id: %w: %q", chain.ErrBadPayload, ErrDuplicate, m.ID)
	}
	lon, lat, err := m.Location.microDegrees()
	if err != nil {
		return err
	}
	now := formatTime(ctx.Time)
	d := Device{ID: m.ID, Type: m.Type, Category: m.Category, Name: m.Name, PubKey: m.PubKey,
		Owner: m.Owner, Location: m.Location, District: m.District, RegisteredBy: ctx.Sender,
		Height: ctx.Height, Time: now}
	s := State{Attrs: map[string]Value{}}
	s.set(m.Attrs, now, ctx.Height, "registration")
	sdk.Save(st, keyDevice(m.ID), &d)
	sdk.Save(st, keyState(m.ID), &s)
	st.Set(keyDistrict(m.District, m.ID), sdk.Present)
	st.Set(keyGrid(lon, lat, m.ID), sdk.Present)
	ctx.Emit("register", chain.A("device", m.ID), chain.A("type", m.Type), chain.A("district", m.District))
	return nil
}

// deliverReport applies readings in order. Each must be signed by its
// device, carry a sequence number above the device's last, and hold
// values the device's model accepts. One bad reading fails the whole
// report.
func deliverReport(ctx *chain.Context, readings *report) error {
	st := ctx.Store()
	params, err := loadParams(st)
	if err != nil {
		return err
	}
	for _, r := range *readings {
		dv, err := loadView(st, r.field+".body.device", r.Device)
		if err != nil {
			return err
		}
		d, s := &dv.Device, &dv.State
		if err := verifyDevice(d, kindObservation, ctx.ChainID, r.body, r.sig); err != nil {
			return fmt.Errorf("%w: %s.signature: %w", chain.ErrBadPayload, r.field, err)
		}
		model, err := ModelFor(d.Type, d.Category)
		if err != nil {
			return err
		}
		values, err := checkValues(r.field+".body.values", model, r.Values)
		if err != nil {
			return err
		}
		if err := sdk.FirstError(sdk.Check(!r.at.After(ctx.Time.Add(MaxClockSkew)),
			"%s.body.observed_at: %s is more than %s after the block time %s", r.field, formatTime(r.at), MaxClockSkew, formatTime(ctx.Time)),
			sdk.Check(r.Seq > s.LastSeq, "%s.body.seq: %w: %d, the device's last accepted reading was %d", r.field, ErrStale, r.Seq, s.LastSeq)); err != nil {
			return err
		}
		if s.Readings, err = sdk.Add(s.Readings, 1); err != nil {
			return err
		}
		observed := formatTime(cmp.Or(r.at, ctx.Time)) // a reading without a time is of its block's
		s.LastSeq, s.ObservedAt = r.Seq, observed
		s.set(values, observed, ctx.Height, "reading")
		sdk.Save(st, keyState(d.ID), s)
		sdk.Save(st, keyHistory(d.ID, s.Readings), &HistoryEntry{N: s.Readings, Seq: r.Seq, ObservedAt: observed,
			Height: ctx.Height, TxHash: ctx.TxHash, Values: values})
		// Keep the history bounded: the entry that just fell out of the
		// window goes. Exactly one per reading, so the window never grows.
		if s.Readings > params.HistoryLimit {
			st.Delete(keyHistory(d.ID, s.Readings-params.HistoryLimit))
		}
		ctx.Emit("reading", chain.A("device", d.ID), chain.A("seq", r.Seq), chain.A("observed_at", observed))
	}
	return nil
}

// issue records an operator's command to a device as pending.
func issue(ctx *chain.Context, m *command) error {
	if err := requireOperator(ctx); err != nil {
		return err
	}
	st := ctx.Store()
	d, err := loadDevice(st, "device", m.Device)
	if err != nil {
		return err
	}
	model, err := ModelFor(d.Type, d.Category)
	if err != nil {
		return err
	}
	spec, ok := model.Command(m.Action)
	if !ok {
		return fmt.Errorf("%w: action: a %s takes no %q command", chain.ErrBadPayload, modelName(model), m.Action)
	}
	rec := CommandRecord{Device: d.ID, Action: m.Action, Attr: spec.Attr, IssuedBy: ctx.Sender,
		Height: ctx.Height, Time: formatTime(ctx.Time), Status: StatusPending}
	if err := sdk.FirstError(sdk.Check(spec.Attr == "" || m.Value != nil, "value: %s needs a value for %s", m.Action, spec.Attr),
		sdk.Check(spec.Attr != "" || m.Value == nil, "value: %s takes no value", m.Action)); err != nil {
		return err
	}
	if a, ok := model.Attr(spec.Attr); ok {
		if rec.Value, err = a.Normalize(m.Value); err != nil {
			return fmt.Errorf("%w: value (%s): %w", chain.ErrBadPayload, spec.Attr, err)
		}
	}
	if rec.ID, err = sdk.NextID(st, keyCmdSeq); err != nil {
		return err
	}
	sdk.Save(st, keyCommand(rec.ID), &rec)
	st.Set(keyDeviceCommand(d.ID, rec.ID), sdk.Present)
	st.Set(keyPending(rec.ID), sdk.Present)
	ctx.Emit("command", chain.A("id", rec.ID), chain.A("device", d.ID), chain.A("action", rec.Action), chain.A("value", rec.Value))
	return nil
}

// acknowledge records a device's answer to one of its pending commands.
// A command done sets its attribute in the device's state.
func acknowledge(ctx *chain.Context, a *signedAck) error {
	st := ctx.Store()
	rec, err := sdk.Load[CommandRecord](st, keyCommand(a.Command), fmt.Sprintf("body.command: no command %d", a.Command))
	if err != nil {
		return err
	}
	if rec.Device != a.Device {
		return fmt.Errorf("%w: body.device: command %d is for %s, not %s", chain.ErrBadPayload, a.Command, rec.Device, a.Device)
	}
	dv, err := loadView(st, "body.device", a.Device)
	if err != nil {
		return err
	}
	sigErr := verifyDevice(&dv.Device, kindAck, ctx.ChainID, a.body, a.sig)
	if err := sdk.FirstError(sdk.Check(sigErr == nil, "signature: %w", sigErr),
		sdk.Check(rec.Status == StatusPending, "body.command: %w: command %d is already %s", ErrNotPending, rec.ID, rec.Status)); err != nil {
		return err
	}
	rec.Status, rec.Detail = a.Result, a.Detail
	rec.AckedAt, rec.AckTime = ctx.Height, formatTime(ctx.Time)
	sdk.Save(st, keyCommand(rec.ID), rec)
	st.Delete(keyPending(rec.ID))
	if rec.Status == StatusDone && rec.Attr != "" {
		dv.State.set(map[string]string{rec.Attr: rec.Value}, rec.AckTime, ctx.Height, fmt.Sprintf("command %d", rec.ID))
		sdk.Save(st, keyState(dv.ID), &dv.State)
	}
	ctx.Emit("ack", chain.A("command", rec.ID), chain.A("device", dv.ID), chain.A("result", rec.Status))
	return nil
}

// initState writes the genesis operators and params.
func initState(st *chain.Store, g *GenesisState) error {
	p := Params{HistoryLimit: cmp.Or(g.HistoryLimit, DefaultHistoryLimit)}
	if p.HistoryLimit > 10_000 {
		return fmt.Errorf("history_limit: %d, at most 10000", p.HistoryLimit)
	}
	sdk.Save(st, keyParams, &p)
	for i, op := range g.Operators {
		if op.IsZero() {
			return fmt.Errorf("operators[%d]: zero address", i)
		}
		if st.Has(keyOperator(op)) {
			return fmt.Errorf("operators[%d]: %s is listed twice", i, op)
		}
		st.Set(keyOperator(op), sdk.Present)
	}
	return nil
}
