package city

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/citychain/citychain/apps/sdk"
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
	_, err := normalize(m, m.Attrs)
	return err
}

// normalize checks the registration m with the attributes attrs, which
// may hold integers and booleans, and returns it with coordinates and
// attributes in canonical text.
func normalize[V any](m *Register, attrs map[string]V) (*Register, error) {
	model, modelErr := ModelFor(m.Type, m.Category)
	_, keyErr := parsePubKey(m.PubKey)
	loc, locErr := m.Location.normalized()
	if err := sdk.FirstError(checkID("id", m.ID), modelErr, sdk.CheckText("name", m.Name, MaxNameLen, sdk.Optional),
		sdk.Check(keyErr == nil, "pubkey: %v", keyErr), sdk.Check(!m.Owner.IsZero(), "owner: missing"), locErr,
		checkName("district", m.District, MaxDistrictLen, districtChars)); err != nil {
		return nil, err
	}
	text, err := checkValues("attrs", model, attrs)
	if err != nil {
		return nil, err
	}
	for _, a := range model.Attrs {
		_, given := text[a.Name]
		switch {
		case given:
		case a.Default != "":
			text[a.Name] = a.Default
		case a.Required:
			return nil, fmt.Errorf("%w: attrs.%s: missing: a %s names it at registration (see: citychain query city models)",
				chain.ErrBadPayload, a.Name, modelName(model))
		}
	}
	out := *m
	out.Location, out.Attrs = loc, text
	return &out, nil
}

// Validate checks the command's shape without state; its value is
// checked against the device's model when it is delivered.
func (m *Command) Validate() error {
	known := slices.ContainsFunc(models, func(mod Model) bool { _, ok := mod.Command(m.Action); return ok })
	return sdk.FirstError(checkID("device", m.Device),
		sdk.Check(known, "action: %q is no device's command (see: citychain query city models)", m.Action),
		sdk.Check(len(m.Value) <= MaxDetailLen, "value: %d bytes, at most %d", len(m.Value), MaxDetailLen))
}

// Validate checks the acknowledgement's body without state.
func (b *AckBody) Validate() error {
	return sdk.FirstError(checkID("body.device", b.Device),
		sdk.Check(b.Command != 0, "body.command: missing"),
		sdk.Check(b.Result == ResultDone || b.Result == ResultFailed, "body.result: %q, want %q or %q", b.Result, ResultDone, ResultFailed),
		sdk.CheckText("body.detail", b.Detail, MaxDetailLen, sdk.Optional))
}

// Validate checks a signed report as the chain's stateless check does,
// signatures' shape included (not whether they verify: that needs the
// devices' keys in the state).
func (m *Report) Validate() error { return checkWire(m, new(report)) }

// Validate checks a signed acknowledgement as the chain's stateless check
// does.
func (a *Ack) Validate() error { return checkWire(a, new(signedAck)) }

// checkWire encodes m as a payload and decodes it into its wire form w.
func checkWire(m any, w sdk.PayloadDecoder) error {
	p, err := chain.EncodePayload(m)
	if err != nil {
		return err
	}
	return w.DecodePayload(p)
}

// The types below are what the action table decodes payloads into. They
// differ from the message types where a payload may hold more than our
// own client sends (numbers as integers), and where the exact signed
// bytes must be kept: a signed body is decoded as cbor.RawMessage, so the
// signature is checked over the bytes that came in the transaction,
// never over a re-encoding of what we understood.

// signedWire is a signed body as it sits in a payload.
type signedWire struct {
	Body      cbor.RawMessage `cbor:"body"`
	Signature string          `cbor:"signature"`
}

// DecodePayload reads a registration whose attributes may be integers
// and booleans, and leaves it checked and in canonical text.
func (m *Register) DecodePayload(payload []byte) error {
	var w struct {
		Register
		Owner string         `json:"owner"` // parsed here, so that its error names the field
		Attrs map[string]any `json:"attrs,omitempty"`
	}
	if err := chain.DecodePayload(payload, &w); err != nil {
		return err
	}
	owner, err := chain.ParseAddress(w.Owner)
	if err != nil {
		return fmt.Errorf("%w: owner: %v", chain.ErrBadPayload, err)
	}
	w.Register.Owner = owner
	n, err := normalize(&w.Register, w.Attrs)
	if err != nil {
		return err
	}
	*m = *n
	return nil
}

// report is a Report as Deliver sees it: each reading's body decoded and
// checked for shape, with the signed bytes and the signature.
type report []signedObservation

// signedObservation is one reading of a report: its body as decoded,
// with the values as they came (integers and booleans too), and the
// signed bytes and the signature.
type signedObservation struct {
	Observation
	Values    map[string]any `json:"values"`
	at        time.Time      // ObservedAt; zero when the device gave none
	body, sig []byte
	field     string // "readings[i]", for error messages
}

// DecodePayload decodes and checks the readings one by one, so that the
// error names the first bad one.
func (r *report) DecodePayload(payload []byte) error {
	var w struct {
		Readings []signedWire `cbor:"readings"`
	}
	if err := chain.DecodePayload(payload, &w); err != nil {
		return err
	}
	if len(w.Readings) == 0 || len(w.Readings) > MaxReadings {
		return fmt.Errorf("%w: readings: %d, want 1 to %d in one report", chain.ErrBadPayload, len(w.Readings), MaxReadings)
	}
	*r = make(report, len(w.Readings))
	for i, sw := range w.Readings {
		field := fmt.Sprintf("readings[%d]", i)
		o := &(*r)[i]
		if err := chain.DecodePayload(sw.Body, o); err != nil {
			return fmt.Errorf("%s.body: %w", field, err)
		}
		var timeErr error
		o.at, timeErr = parseTime(o.ObservedAt)
		if err := sdk.FirstError(checkID(field+".body.device", o.Device),
			sdk.Check(o.Seq != 0, "%s.body.seq: must be positive", field),
			sdk.Check(timeErr == nil, "%s.body.observed_at: %v", field, timeErr),
			sdk.Check(len(o.Values) > 0 && len(o.Values) <= MaxValues, "%s.body.values: %d attributes, want 1 to %d", field, len(o.Values), MaxValues)); err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(o.Values)) {
			if err := checkName(field+".body.values", k, 64, "_"); err != nil {
				return err
			}
		}
		sig, err := parseSignature(sw.Signature)
		if err != nil {
			return fmt.Errorf("%w: %s.signature: %v", chain.ErrBadPayload, field, err)
		}
		o.body, o.sig, o.field = sw.Body, sig, field
	}
	return nil
}

// Validate has nothing left to check: DecodePayload checks each reading
// as it decodes it, because it must keep the exact bytes signed.
func (r *report) Validate() error { return nil }

// command is a Command as Deliver sees it, with its value as it came: a
// text attribute takes "5" but not the integer 5. Command.Value holds
// the value as text, for Validate.
type command struct {
	Command
	Value any `json:"value,omitempty"`
}

// DecodePayload reads a command whose value may be an integer or a
// boolean.
func (m *command) DecodePayload(payload []byte) error {
	if err := chain.DecodePayload(payload, m); err != nil {
		return err
	}
	switch v := m.Value.(type) {
	case nil:
	case string:
		m.Command.Value = v
	case int64, uint64, bool:
		m.Command.Value = fmt.Sprint(v)
	default:
		return fmt.Errorf("%w: value: want a string, a number or a boolean, got %s", chain.ErrBadPayload, typeName(v))
	}
	return nil
}

// signedAck is an acknowledgement as Deliver sees it.
type signedAck struct {
	AckBody
	body, sig []byte
}

// DecodePayload decodes and checks the body, and keeps its signed bytes.
func (a *signedAck) DecodePayload(payload []byte) error {
	var w signedWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return err
	}
	if err := chain.DecodePayload(w.Body, &a.AckBody); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	sig, sigErr := parseSignature(w.Signature)
	a.body, a.sig = w.Body, sig
	return sdk.FirstError(a.AckBody.Validate(), sdk.Check(sigErr == nil, "signature: %v", sigErr))
}

// checkValues checks attribute values against a model and returns them
// in canonical text. It walks the names in sorted order, so that with
// several bad values every node reports the same one. A reading without
// values never gets here: its decoding refuses it.
func checkValues[V any](field string, model *Model, vals map[string]V) (map[string]string, error) {
	if len(vals) > MaxValues {
		return nil, fmt.Errorf("%w: %s: %d attributes, at most %d", chain.ErrBadPayload, field, len(vals), MaxValues)
	}
	out := make(map[string]string, len(vals))
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		a, ok := model.Attr(k)
		if now, was := renamed[k]; !ok && was {
			return nil, fmt.Errorf("%w: %s.%s: a %s spells it %q", chain.ErrBadPayload, field, k, modelName(model), now)
		}
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

// The characters besides letters and digits that names may hold. A
// device id fits in a URL path and in an NGSI-LD URN unchanged; a
// district is like an id without ':'; an attribute name is a Go-like
// identifier.
const (
	idChars       = "._:-"
	districtChars = "._-"
)

// checkID checks a device id: 1 to MaxIDLen letters, digits and . _ : -
func checkID(field, s string) error { return checkName(field, s, MaxIDLen, idChars) }

// checkName checks that s has 1 to max bytes, each a letter, a digit or
// one of extra.
func checkName(field, s string, max int, extra string) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%w: %s: %d bytes, want 1 to %d", chain.ErrBadPayload, field, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i], extra) {
			return fmt.Errorf("%w: %s: %q has %q; use letters, digits and %s", chain.ErrBadPayload, field, s, s[i],
				strings.Join(strings.Split(extra, ""), " "))
		}
	}
	return nil
}

func nameChar(c byte, extra string) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0
}

// parseTime reads an RFC 3339 time, and "" as the zero time. The state
// keeps times in UTC.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
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
