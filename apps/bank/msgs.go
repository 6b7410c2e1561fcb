package bank

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Name is the app's name in transactions and URLs.
const Name = "bank"

// ActionSend moves tokens from the sender to another account.
const ActionSend = "send"

// Send is the payload of a transfer.
type Send struct {
	To     chain.Address `json:"to"`
	Amount uint64        `json:"amount"`
	Memo   string        `json:"memo,omitempty"`
}

// MaxMemo bounds the free-text memo of a transfer.
const MaxMemo = 256

// Validate checks the payload without state.
func (m *Send) Validate() error {
	return sdk.FirstError(sdk.Check(!m.To.IsZero(), "to: missing recipient"),
		sdk.Check(m.Amount != 0, "amount: must be positive"),
		sdk.Check(len(m.Memo) <= MaxMemo, "memo: %d bytes, limit %d", len(m.Memo), MaxMemo))
}

// sendWire is the payload as it is encoded: the address in its text form,
// the same as in JSON, so payloads read the same in both.
type sendWire struct {
	To     string `cbor:"to"`
	Amount uint64 `cbor:"amount"`
	Memo   string `cbor:"memo,omitempty"`
}

// DecodePayload decodes the wire form (sdk.PayloadDecoder).
func (m *Send) DecodePayload(payload []byte) error {
	var w sendWire
	if err := chain.DecodePayload(payload, &w); err != nil {
		return err
	}
	to, err := chain.ParseAddress(w.To)
	if err != nil {
		return fmt.Errorf("%w: to: %w", chain.ErrBadPayload, err)
	}
	*m = Send{To: to, Amount: w.Amount, Memo: w.Memo}
	return nil
}
