package bank

import (
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

func queryBalance(q *chain.QueryContext, addr chain.Address) (any, error) {
	bal, err := sdk.GetUint(q.Store(), keyBalance(addr))
	if err != nil {
		return nil, err
	}
	return BalanceAnswer{Address: addr, Balance: bal, Height: q.Height}, nil
}

func querySupply(q *chain.QueryContext, _ sdk.Params) (any, error) {
	s, err := sdk.GetUint(q.Store(), keySupply)
	if err != nil {
		return nil, err
	}
	return SupplyAnswer{Supply: s, Height: q.Height}, nil
}
