package sdk

import (
	"bytes"
	"encoding/json"
)

// DecodeNumbers decodes the first JSON value in data into v, keeping
// every number as a json.Number: the exact text the document wrote, never
// a float64. Documents from outside (EPCIS events, FIWARE entities,
// GeoJSON points) carry decimals such as 26.5, and the state holds them
// as text or fixed-point integers, so a float must not round them on the
// way in. Like json.Decoder, it reads one value and leaves whatever
// follows it unread.
func DecodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
