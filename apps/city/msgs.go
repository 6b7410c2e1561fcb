package city

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/fxamacker/cbor/v2"
)

// Name is the app's name in transactions and URLs.
const Name = "city"

// The actions of the city module.
const (
	// ActionRegister adds a device; only a city operator may send it.
	ActionRegister = "register"
	// ActionReport carries readings, each signed by its device. Anyone
	// may send it (a gateway, the device itself): the device signatures
	// inside are what count.
	ActionReport = "report"
	// ActionCommand asks a device to act; only a city operator may send it.
	ActionCommand = "command"
	// ActionAck is a device's answer to a command, signed by the device.
	ActionAck = "ack"
)

// Limits on what one transaction may carry.
const (
	MaxIDLen       = 96
	MaxDistrictLen = 64
	MaxNameLen     = 128
	MaxDetailLen   = 256
	MaxReadings    = 64 // readings in one report
	MaxValues      = 32 // attributes in one reading or registration
	// MaxClockSkew is how far after the block time a reading's
	// observed_at may lie: device clocks drift, but not by hours.
	MaxClockSkew = 5 * time.Minute
)

// Ack results a device may give.
const (
	ResultDone   = "done"
	ResultFailed = "failed"
)

// Register is the payload of ActionRegister: a device, its key and where
// it stands. Attrs is its initial state (a lantern's height, a lamp's
// power state), checked against the model like a reading.
type Register struct {
	ID       string            `json:"id"`
	Type     string            `json:"type"`
	Category string            `json:"category,omitempty"` // Device only: sensor or actuator
	Name     string            `json:"name,omitempty"`
	PubKey   string            `json:"pubkey"` // hex, 33-byte compressed secp256k1
	Owner    chain.Address     `json:"owner"`
	Location Point             `json:"location"`
	District string            `json:"district"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// Observation is what a device measured: the bytes it signs. Seq must
// grow with every reading the device sends; ObservedAt (RFC 3339) is
// optional, and a reading without one counts as observed at its block's
// time. Values are attribute names of the device's model and values as
// text; a payload built by another client may also give numbers as
// integers and booleans as booleans.
type Observation struct {
	Device     string            `json:"device"`
	Seq        uint64            `json:"seq"`
	ObservedAt string            `json:"observed_at,omitempty"`
	Values     map[string]string `json:"values"`
}

// Reading is an observation and the device's signature over it (see
// SignReading for the bytes signed).
type Reading struct {
	Body      Observation `json:"body"`
	Signature string      `json:"signature"` // hex, 64-byte r||s
}

// Report is the payload of ActionReport: up to MaxReadings readings, of
// one device or many. It succeeds or fails as a whole.
type Report struct {
	Readings []Reading `json:"readings"`
}

// Command is the payload of ActionCommand. Value is the command's
// argument, checked as a value of the attribute the command sets (see
// CommandSpec); reboot takes none.
type Command struct {
	Device string `json:"device"`
	Action string `json:"action"`
	Value  string `json:"value,omitempty"`
}

// AckBody is a device's answer to a command: the bytes it signs.
type AckBody struct {
	Device  string `json:"device"`
	Command uint64 `json:"command"`
	Result  string `json:"result"` // done or failed
	Detail  string `json:"detail,omitempty"`
}

// Ack is the payload of ActionAck.
type Ack struct {
	Body      AckBody `json:"body"`
	Signature string  `json:"signature"`
}

// Validate checks the registration without state: the id, the key, the
// place and the initial attributes against the type's model.
func (m *Register) Validate() error {
	_, _, err := m.normalize()
	return err
}

// normalize checks the registration and returns it with coordinates and
// attributes in canonical text, and the device's model.
func (m *Register) normalize() (*Register, *Model, error) {
	if err := checkID("id", m.ID); err != nil {
		return nil, nil, err
	}
	model, err := ModelFor(m.Type, m.Category)
	if err != nil {
		return nil, nil, err
	}
	if len(m.Name) > MaxNameLen {
		return nil, nil, fmt.Errorf("%w: name: %d bytes, at most %d", chain.ErrBadPayload, len(m.Name), MaxNameLen)
	}
	if err := printable(m.Name); err != nil {
		return nil, nil, fmt.Errorf("%w: name: %v", chain.ErrBadPayload, err)
	}
	if _, err := parsePubKey(m.PubKey); err != nil {
		return nil, nil, fmt.Errorf("%w: pubkey: %v", chain.ErrBadPayload, err)
	}
	if m.Owner.IsZero() {
		return nil, nil, fmt.Errorf("%w: owner: missing", chain.ErrBadPayload)
	}
	loc, err := m.Location.normalized()
	if err != nil {
		return nil, nil, err
	}
	if err := checkDistrict(m.District); err != nil {
		return nil, nil, err
	}
	raw := make(map[string]any, len(m.Attrs))
	for k, v := range m.Attrs {
		raw[k] = v
	}
	attrs, err := checkValues("attrs", model, raw, false)
	if err != nil {
		return nil, nil, err
	}
	out := *m
	out.Location, out.Attrs = loc, attrs
	return &out, model, nil
}

// Validate checks the command's shape without state; its value is
// checked against the device's model when it is delivered.
func (m *Command) Validate() error {
	if err := checkID("device", m.Device); err != nil {
		return err
	}
	known := false
	for _, mod := range models {
		if _, ok := mod.Command(m.Action); ok {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("%w: action: %q is no device's command (see: citychain query city models)", chain.ErrBadPayload, m.Action)
	}
	if len(m.Value) > MaxDetailLen {
		return fmt.Errorf("%w: value: %d bytes, at most %d", chain.ErrBadPayload, len(m.Value), MaxDetailLen)
	}
	return nil
}

// Validate checks the acknowledgement's body without state.
func (b *AckBody) Validate() error {
	if err := checkID("body.device", b.Device); err != nil {
		return err
	}
	if b.Command == 0 {
		return fmt.Errorf("%w: body.command: missing", chain.ErrBadPayload)
	}
	if b.Result != ResultDone && b.Result != ResultFailed {
		return fmt.Errorf("%w: body.result: %q, want %q or %q", chain.ErrBadPayload, b.Result, ResultDone, ResultFailed)
	}
	if len(b.Detail) > MaxDetailLen {
		return fmt.Errorf("%w: body.detail: %d bytes, at most %d", chain.ErrBadPayload, len(b.Detail), MaxDetailLen)
	}
	if err := printable(b.Detail); err != nil {
		return fmt.Errorf("%w: body.detail: %v", chain.ErrBadPayload, err)
	}
	return nil
}

// The wire forms below are what Check and Deliver decode. They differ
// from the message types where a payload may hold more than our own
// client sends (numbers as integers), and where the exact signed bytes
// must be kept: a signed body is decoded as cbor.RawMessage, so the
// signature is checked over the bytes that came in the transaction,
// never over a re-encoding of what we understood.

type registerWire struct {
	ID       string         `cbor:"id"`
	Type     string         `cbor:"type"`
	Category string         `cbor:"category,omitempty"`
	Name     string         `cbor:"name,omitempty"`
	PubKey   string         `cbor:"pubkey"`
	Owner    string         `cbor:"owner"`
	Location Point          `cbor:"location"`
	District string         `cbor:"district"`
	Attrs    map[string]any `cbor:"attrs,omitempty"`
}

type signedWire struct {
	Body      cbor.RawMessage `cbor:"body"`
	Signature string          `cbor:"signature"`
}

type reportWire struct {
	Readings []signedWire `cbor:"readings"`
}

type observationWire struct {
	Device     string         `cbor:"device"`
	Seq        uint64         `cbor:"seq"`
	ObservedAt string         `cbor:"observed_at,omitempty"`
	Values     map[string]any `cbor:"values"`
}

type commandWire struct {
	Device string `cbor:"device"`
	Action string `cbor:"action"`
	Value  any    `cbor:"value,omitempty"`
}

type ackWire struct {
	Body      cbor.RawMessage `cbor:"body"`
	Signature string          `cbor:"signature"`
}

// signedObservation is a reading as Deliver sees it: the body decoded
// and checked for shape, the signed bytes and the signature.
type signedObservation struct {
	Device     string
	Seq        uint64
	ObservedAt time.Time // zero when the device gave none
	Values     map[string]any
	body, sig  []byte
	field      string // "readings[i]", for error messages
}

// signedAck is an acknowledgement as Deliver sees it.
type signedAck struct {
	AckBody
	body, sig []byte
}

func decodeRegister(payload []byte) (*Register, *Model, error) {
	var w registerWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return nil, nil, err
	}
	owner, err := chain.ParseAddress(w.Owner)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: owner: %v", chain.ErrBadPayload, err)
	}
	model, err := ModelFor(w.Type, w.Category)
	if err != nil {
		return nil, nil, err
	}
	// Integers and booleans in attrs become text here, so that the rest
	// of the checks see one form.
	attrs, err := checkValues("attrs", model, w.Attrs, false)
	if err != nil {
		return nil, nil, err
	}
	m := &Register{ID: w.ID, Type: w.Type, Category: w.Category, Name: w.Name, PubKey: w.PubKey,
		Owner: owner, Location: w.Location, District: w.District, Attrs: attrs}
	return m.normalize()
}

func decodeReport(payload []byte) ([]signedObservation, error) {
	var w reportWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return nil, err
	}
	if len(w.Readings) == 0 {
		return nil, fmt.Errorf("%w: readings: empty", chain.ErrBadPayload)
	}
	if len(w.Readings) > MaxReadings {
		return nil, fmt.Errorf("%w: readings: %d, at most %d in one report", chain.ErrBadPayload, len(w.Readings), MaxReadings)
	}
	out := make([]signedObservation, len(w.Readings))
	for i, r := range w.Readings {
		field := fmt.Sprintf("readings[%d]", i)
		var o observationWire
		if err := chain.DecodePayload(r.Body, &o); err != nil {
			return nil, fmt.Errorf("%s.body: %w", field, err)
		}
		if err := checkID(field+".body.device", o.Device); err != nil {
			return nil, err
		}
		if o.Seq == 0 {
			return nil, fmt.Errorf("%w: %s.body.seq: must be positive", chain.ErrBadPayload, field)
		}
		var at time.Time
		if o.ObservedAt != "" {
			t, err := parseTime(o.ObservedAt)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.body.observed_at: %v", chain.ErrBadPayload, field, err)
			}
			at = t
		}
		if len(o.Values) == 0 || len(o.Values) > MaxValues {
			return nil, fmt.Errorf("%w: %s.body.values: %d attributes, want 1 to %d", chain.ErrBadPayload, field, len(o.Values), MaxValues)
		}
		for _, k := range sortedKeys(o.Values) {
			if err := checkAttrName(field+".body.values", k); err != nil {
				return nil, err
			}
		}
		sig, err := parseSignature(r.Signature)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.signature: %v", chain.ErrBadPayload, field, err)
		}
		out[i] = signedObservation{Device: o.Device, Seq: o.Seq, ObservedAt: at, Values: o.Values,
			body: r.Body, sig: sig, field: field}
	}
	return out, nil
}

func decodeCommand(payload []byte) (*Command, any, error) {
	var w commandWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return nil, nil, err
	}
	m := &Command{Device: w.Device, Action: w.Action}
	switch v := w.Value.(type) {
	case nil:
	case string:
		m.Value = v
	case int64, uint64, bool:
		m.Value = fmt.Sprint(v)
	default:
		return nil, nil, fmt.Errorf("%w: value: want a string, a number or a boolean, got %s", chain.ErrBadPayload, typeName(v))
	}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	return m, w.Value, nil
}

func decodeAck(payload []byte) (*signedAck, error) {
	var w ackWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return nil, err
	}
	var b AckBody
	if err := chain.DecodePayload(w.Body, &b); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	sig, err := parseSignature(w.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", chain.ErrBadPayload, err)
	}
	return &signedAck{AckBody: b, body: w.Body, sig: sig}, nil
}

// checkValues checks attribute values against a model and returns them
// in canonical text. It walks the names in sorted order, so that with
// several bad values every node reports the same one. needSome says
// whether an empty set is an error (a reading) or fine (a registration
// without initial state).
func checkValues(field string, model *Model, vals map[string]any, needSome bool) (map[string]string, error) {
	if needSome && len(vals) == 0 {
		return nil, fmt.Errorf("%w: %s: no attributes", chain.ErrBadPayload, field)
	}
	if len(vals) > MaxValues {
		return nil, fmt.Errorf("%w: %s: %d attributes, at most %d", chain.ErrBadPayload, field, len(vals), MaxValues)
	}
	out := make(map[string]string, len(vals))
	for _, k := range sortedKeys(vals) {
		a, ok := model.Attr(k)
		if !ok {
			return nil, fmt.Errorf("%w: %s.%s: a %s has no attribute %q (see: citychain query city models)",
				chain.ErrBadPayload, field, k, modelName(model), k)
		}
		v, err := a.Normalize(vals[k])
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: %w", chain.ErrBadPayload, field, k, err)
		}
		out[k] = v
	}
	return out, nil
}

func modelName(m *Model) string {
	if m.Category != "" {
		return m.Type + " (" + m.Category + ")"
	}
	return m.Type
}

// checkID checks a device id: 1 to MaxIDLen letters, digits and . _ : -
// so that it fits in a URL path and in an NGSI-LD URN unchanged.
func checkID(field, s string) error {
	if s == "" || len(s) > MaxIDLen {
		return fmt.Errorf("%w: %s: %d bytes, want 1 to %d", chain.ErrBadPayload, field, len(s), MaxIDLen)
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return fmt.Errorf("%w: %s: %q has %q; use letters, digits and . _ : -", chain.ErrBadPayload, field, s, s[i])
		}
	}
	return nil
}

// checkDistrict checks a district name: like an id, without ':'.
func checkDistrict(s string) error {
	if s == "" || len(s) > MaxDistrictLen {
		return fmt.Errorf("%w: district: %d bytes, want 1 to %d", chain.ErrBadPayload, len(s), MaxDistrictLen)
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) || s[i] == ':' {
			return fmt.Errorf("%w: district: %q has %q; use letters, digits and . _ -", chain.ErrBadPayload, s, s[i])
		}
	}
	return nil
}

func checkAttrName(field, s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w: %s: attribute name of %d bytes", chain.ErrBadPayload, field, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("%w: %s: attribute name %q has %q", chain.ErrBadPayload, field, s, c)
		}
	}
	return nil
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
}

// parseTime reads an RFC 3339 time. The state keeps times in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time such as 2026-01-01T08:00:00Z", s)
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q is outside the years 1970 to 9999", s)
	}
	return t.UTC(), nil
}

// formatTime is the one text form of a time in state and answers.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parsePubKey(s string) (*crypto.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %v", err)
	}
	return crypto.ParseCompressedPublicKey(b)
}

func parseSignature(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %v", err)
	}
	if len(b) != crypto.SignatureSize {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), crypto.SignatureSize)
	}
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
