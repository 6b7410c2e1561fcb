// Package commerce is a small marketplace with escrow: merchants list
// offers, buyers order and pay into an escrow account that the module
// holds, sellers ship, and the money goes to the seller when the buyer
// confirms delivery, when a timeout runs out, or when an arbiter settles a
// dispute. Statuses are named after schema.org's OrderStatus members
// (https://schema.org/OrderStatus), and the queries answer orders as
// JSON-LD schema.org Orders beside the module's own records; README.md
// maps one onto the other.
//
// Files, one concern each:
//
//	status.go  the status machine: the table of legal steps and Next
//	msgs.go    the actions' payloads and their stateless checks
//	keeper.go  records, state keys, indexes, escrow moves
//	orders.go  what each action does to state (moveOrder), and EndBlock
//	app.go     New with the action and query tables, genesis
//	query.go   queries at /v1/apps/commerce/...
//	schema.go  orders in schema.org's vocabulary: the JSON-LD of the answers
//	cli.go     citychain tx|query commerce ...
//	errors.go  the module's error kinds
//
// State (under the app's prefix "a/commerce/"; ids and heights are 8
// bytes big-endian, addresses 20 raw bytes, so no separator follows them):
//
//	params                      Params, fixed at genesis
//	seq/offer, seq/order        the last id given out
//	offer/{id}                  Offer
//	offerby/{seller}{id}        0x01: offers by merchant
//	order/{id}                  Order, with its full history
//	buyer/{address}{id}         0x01: orders by buyer
//	seller/{address}{id}        0x01: orders by seller
//	status/{Status}/{id}        0x01: orders by current status, by its stored word
//	release/{height}{id}        0x01: orders that EndBlock pays out at height
//
// Invariants, checked by the tests after every block of random actions:
//   - money is conserved: orders only move tokens between the buyer, the
//     escrow account sdk.ModuleAddress("commerce/escrow") and the seller,
//     never create or destroy them;
//   - the escrow account holds the sum of Escrow.Amount over all orders,
//     plus any balance genesis gave it: it is a bank module account,
//     which plain sends cannot reach;
//   - an order's escrow is held while it is OrderProcessing,
//     OrderInTransit, OrderPickupAvailable or OrderProblem, released to
//     the seller once it is OrderDelivered, and refunded to the buyer once
//     it is OrderCancelled or OrderRefunded;
//   - stock is conserved: an offer's stock plus the quantities of its
//     orders that are not cancelled equals the stock it was listed with;
//   - every order has exactly one status/ key, for its current status, and
//     a release/ key exactly while it is OrderInTransit or
//     OrderPickupAvailable, at its ReleaseHeight;
//   - the status machine has no cycles, so an order's history is short
//     (at most six entries) and is kept inside the order record;
//   - the arbiter is never a party to an order, and a merchant never
//     buys from its own offer, so every sender has exactly one role.
//
// Deliver and EndBlock are deterministic: ids come from counters in
// state, time from the block, iteration from the store in key order, and
// every sum and product is overflow-checked.
package commerce
