package bank

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// BalanceAnswer is the answer to GET /v1/apps/bank/balance/{address}.
type BalanceAnswer struct {
	Address chain.Address `json:"address"`
	Balance uint64        `json:"balance"`
	Height  uint64        `json:"height"`
}

// SupplyAnswer is the answer to GET /v1/apps/bank/supply.
type SupplyAnswer struct {
	Supply uint64 `json:"supply"`
	Height uint64 `json:"height"`
}

// Query serves balance/{address} and supply.
func (*App) Query(q *chain.QueryContext, path []string, _ map[string]string) (any, error) {
	st := q.Store()
	switch {
	case len(path) == 2 && path[0] == "balance":
		addr, err := chain.ParseAddress(path[1])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", chain.ErrBadPayload, err)
		}
		bal, err := sdk.BytesUint64(st.Get(keyBalance(addr)))
		if err != nil {
			return nil, err
		}
		return BalanceAnswer{Address: addr, Balance: bal, Height: q.Height}, nil
	case len(path) == 1 && path[0] == "supply":
		s, err := sdk.BytesUint64(st.Get(keySupply))
		if err != nil {
			return nil, err
		}
		return SupplyAnswer{Supply: s, Height: q.Height}, nil
	}
	return nil, fmt.Errorf("%w: bank has queries balance/{address} and supply", chain.ErrNotFound)
}
