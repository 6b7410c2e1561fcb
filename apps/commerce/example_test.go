package commerce_test

import (
	"fmt"

	"github.com/citychain/citychain/apps/bank"
	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/chain/chaintest"
)

// Alice sells coffee; bob's payment waits in escrow until he confirms
// that the parcel arrived.
func Example() {
	alice, bob, judge := chaintest.Key("alice"), chaintest.Key("bob"), chaintest.Addr("judge")
	c, _ := chaintest.New(withBank(), map[string]any{
		bank.Name:     bank.GenesisState{Balances: []bank.GenesisBalance{{Address: chaintest.Addr("bob"), Amount: 100}}},
		commerce.Name: commerce.DevGenesis(judge),
	})
	status := func() commerce.Status {
		a, _ := c.Query(commerce.Name, "order/1", nil)
		return a.(*commerce.OrderAnswer).Order.Status
	}
	escrow := func() uint64 {
		a, _ := c.Query(bank.Name, "balance/"+commerce.EscrowAddress.String(), nil)
		return a.(bank.BalanceAnswer).Balance
	}

	c.Do(alice, commerce.Name, commerce.ActionListOffer, commerce.ListOffer{Item: "Coffee beans 1 kg", Price: 12, Stock: 40})
	c.Do(bob, commerce.Name, commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: 1, Quantity: 2})
	fmt.Println(status(), "escrow", escrow())
	c.Do(alice, commerce.Name, commerce.ActionShip, commerce.Ship{Order: 1, Tracking: "PARCEL-0042"})
	fmt.Println(status(), "escrow", escrow())
	c.Do(bob, commerce.Name, commerce.ActionConfirm, commerce.Confirm{Order: 1})
	fmt.Println(status(), "escrow", escrow())

	_, err := c.Do(bob, commerce.Name, commerce.ActionCancel, commerce.Cancel{Order: 1})
	fmt.Println(err)
	// Output:
	// OrderProcessing escrow 24
	// OrderInTransit escrow 24
	// OrderDelivered escrow 0
	// tx failed: order 1: illegal status transition: OrderDelivered -> OrderCancelled by cancel: cancel is allowed only from OrderProcessing
}
