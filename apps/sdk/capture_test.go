package sdk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

func TestByNumberAndByAddressParseTheCapture(t *testing.T) {
	m := sdk.NewModule("echo", nil, []sdk.Route{
		sdk.Query("double/{n}", "twice n", sdk.ByNumber("n", func(_ *chain.QueryContext, n uint64) (any, error) {
			return 2 * n, nil
		})),
		sdk.Query("account/{address}", "the address again", sdk.ByAddress("address", func(_ *chain.QueryContext, a chain.Address) (any, error) {
			return a.String(), nil
		})),
	})
	c, err := chaintest.New([]chain.App{m}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Query("echo", "double/21", nil); err != nil || got != uint64(42) {
		t.Errorf("double/21 = %v, %v; want 42", got, err)
	}
	alice := chaintest.Addr("alice").String()
	if got, err := c.Query("echo", "account/"+alice, nil); err != nil || got != alice {
		t.Errorf("account/%s = %v, %v", alice, got, err)
	}
	for _, tc := range []struct{ path, names string }{
		{"double/x", "n"},
		{"double/-1", "n"},
		{"account/city1nothing", "address"},
	} {
		if _, err := c.Query("echo", tc.path, nil); !errors.Is(err, chain.ErrBadPayload) || !strings.Contains(err.Error(), tc.names+":") {
			t.Errorf("%s: %v, want a bad payload naming %s", tc.path, err, tc.names)
		}
	}
}
