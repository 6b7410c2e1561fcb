package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DecodeGenesis decodes the module's section of the genesis file into g
// and refuses fields that g does not have, so a misspelt parameter is an
// error and not a silent default. An absent or null section leaves g as
// it was: the caller fills it with its defaults first. Errors begin with
// "{module} genesis:".
func DecodeGenesis(module string, raw json.RawMessage, g any) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(g); err != nil {
		return fmt.Errorf("%s genesis: %w", module, err)
	}
	return nil
}
