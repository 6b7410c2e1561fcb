package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Name is the app's name in transactions and URLs.
const Name = "trace"

// The module's actions.
const (
	// ActionCapture records EPCIS 2.0 events (payload Capture).
	ActionCapture = "capture"
	// ActionRegister registers or updates a participant (payload
	// Participant). Only an admin participant may send it.
	ActionRegister = "register_participant"
)

// MaxEvents bounds the events of one capture, so that one transaction's
// work stays small; the CLI splits larger documents.
const MaxEvents = 100

// Capture is the payload of "capture": EPCIS 2.0 events in their JSON-LD
// form, with every fractional number written as a decimal string
// (ParseDocument does that), and the document's @context, which is kept
// with the events so that their namespace prefixes stay meaningful. The
// module never fetches a context.
type Capture struct {
	Context any              `json:"@context,omitempty"`
	Events  []map[string]any `json:"events"`

	context string   // the @context as the payload's JSON wrote it, "" when absent
	events  []*Event // the events, parsed and checked by DecodePayload
}

// DecodePayload decodes a capture payload and checks every event without
// state (sdk.PayloadDecoder).
func (c *Capture) DecodePayload(payload []byte) error {
	var w struct {
		Context json.RawMessage   `json:"@context"`
		Events  []json.RawMessage `json:"events"`
	}
	if err := decodeJSONPayload(payload, &w); err != nil {
		return err
	}
	if len(w.Events) == 0 {
		return fieldError("events", ErrMissingField, "a capture carries at least one event")
	}
	if len(w.Events) > MaxEvents {
		return fieldError("events", ErrBadValue, "%d events, limit %d per transaction (the CLI splits a document)", len(w.Events), MaxEvents)
	}
	var context any
	if len(w.Context) > 0 {
		var err error
		if context, err = checkContext(w.Context); err != nil {
			return err
		}
	}
	ns := ContextNamespaces(context)
	events := make([]*Event, len(w.Events))
	for i, raw := range w.Events {
		path := fmt.Sprintf("events[%d]", i)
		var m map[string]any
		if err := sdk.DecodeNumbers(raw, &m); err != nil || m == nil {
			return fieldError(path, ErrBadValue, "an event must be a JSON object")
		}
		var err error
		if events[i], err = ParseEvent(m, path); err != nil {
			return err
		}
		events[i].Hash, _ = EventHash(m, ns)
	}
	c.context, c.events = string(w.Context), events
	if context != nil {
		j, err := json.Marshal(context)
		if err != nil {
			return fieldError("@context", ErrBadValue, "%v", err)
		}
		c.context = string(j)
	}
	return nil
}

// Validate checks a capture without state. One built in Go, as the CLI
// builds its batches, is checked in its payload form, exactly as a node
// will check it.
func (c *Capture) Validate() error {
	if c.events != nil {
		return nil // decoded from a payload, and checked then
	}
	p, err := chain.EncodePayload(c)
	if err != nil {
		return err
	}
	return new(Capture).DecodePayload(p)
}

// checkContext accepts the shapes JSON-LD allows for @context: a URI, an
// object, or a list of those; it returns the context decoded. A payload
// carries no floats, so an "@version": 1.1 arrives as the string "1.1"
// and goes back to the number JSON-LD 1.1 requires.
func checkContext(raw json.RawMessage) (any, error) {
	var v any
	_ = sdk.DecodeNumbers(raw, &v)
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	for _, it := range items {
		switch t := it.(type) {
		case map[string]any:
			if ver, ok := t["@version"].(string); ok && decimalPattern.MatchString(ver) {
				t["@version"] = json.Number(ver)
			}
		case string:
			if !isURI(t) {
				return nil, fieldError("@context", ErrBadValue, "%q is not a URI", t)
			}
		default:
			return nil, fieldError("@context", ErrBadValue, "must be a URI, an object or a list of them")
		}
	}
	return v, nil
}

// decodeJSONPayload reads a payload through its JSON form into v,
// refusing unknown fields. Every trace payload is decoded this way, so
// what the module checks is exactly the JSON a user wrote.
func decodeJSONPayload(payload []byte, v any) error {
	j, err := chain.PayloadToJSON(payload)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err = dec.Decode(v)
	return sdk.Check(err == nil, "%v", err)
}

// Participant roles. The role says what kind of company a participant
// is; only admin carries a power of its own (registering participants).
// What a participant may capture is set by its prefixes and locations.
const (
	RoleAdmin        = "admin"
	RoleManufacturer = "manufacturer"
	RoleLogistics    = "logistics"
	RoleRetailer     = "retailer"
)

// Wildcard in a participant's prefixes or locations means "all of them".
const Wildcard = "*"

// Limits on a participant's lists.
const (
	MaxPrefixes  = 100
	MaxLocations = 200
	MaxName      = 100
)

// Participant is a company registered to capture events, and the payload
// of "register_participant". Prefixes are GS1 company prefixes (6 to 12
// digits); Locations are SGLNs or Digital Links with a GLN. Either list
// may hold "*".
type Participant struct {
	Address   chain.Address `json:"address"`
	Name      string        `json:"name"`
	Role      string        `json:"role"`
	Prefixes  []string      `json:"prefixes"`
	Locations []string      `json:"locations"`
}

// Validate checks the participant without state.
func (p *Participant) Validate() error {
	if p.Address.IsZero() {
		return fieldError("address", ErrMissingField, "required")
	}
	if err := sdk.CheckText("name", p.Name, MaxName); err != nil {
		return fmt.Errorf("%w (%w)", err, ErrBadValue)
	}
	switch p.Role {
	case RoleAdmin, RoleManufacturer, RoleLogistics, RoleRetailer:
	default:
		return fieldError("role", ErrUnknownWord, "%q is not admin, manufacturer, logistics or retailer", p.Role)
	}
	if len(p.Prefixes) > MaxPrefixes {
		return fieldError("prefixes", ErrBadValue, "%d prefixes, limit %d", len(p.Prefixes), MaxPrefixes)
	}
	for i, pre := range p.Prefixes {
		if pre != Wildcard && (len(pre) < 6 || len(pre) > 12 || !allDigits(pre)) {
			return fieldError(fmt.Sprintf("prefixes[%d]", i), ErrBadIdentifier, "%q is not a GS1 company prefix (6 to 12 digits) or \"*\"", pre)
		}
		if slices.Contains(p.Prefixes[:i], pre) {
			return fieldError(fmt.Sprintf("prefixes[%d]", i), ErrBadValue, "%q is listed twice", pre)
		}
	}
	if len(p.Locations) > MaxLocations {
		return fieldError("locations", ErrBadValue, "%d locations, limit %d", len(p.Locations), MaxLocations)
	}
	for i, loc := range p.Locations {
		if loc == Wildcard {
			continue
		}
		l, err := ParseLocation(loc)
		if err != nil {
			return fieldError(fmt.Sprintf("locations[%d]", i), kindOf(err), "%v", err)
		}
		if l.GLN == "" {
			return fieldError(fmt.Sprintf("locations[%d]", i), ErrBadIdentifier, "%q: a participant speaks for GS1 locations (GLNs), not for geographic points", loc)
		}
		if slices.Contains(p.Locations[:i], loc) {
			return fieldError(fmt.Sprintf("locations[%d]", i), ErrBadValue, "%q is listed twice", loc)
		}
	}
	return nil
}

// DecodePayload decodes a participant through its JSON form
// (sdk.PayloadDecoder).
func (p *Participant) DecodePayload(payload []byte) error { return decodeJSONPayload(payload, p) }
