package commerce

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TxCommands returns "citychain tx commerce list-offer|place-order|ship|
// mark-pickup|confirm|cancel|dispute|settle".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	orderFlag := func(f *pflag.FlagSet, id *uint64) { f.Uint64Var(id, "order", 0, "the order's id") }
	return []*cobra.Command{
		example(sdk.TxCmd(c, Name, ActionListOffer, "list-offer --item TEXT --price N --stock N",
			"Offer an item for sale at a unit price in the native token", sdk.BindFlags(func(f *pflag.FlagSet, m *ListOffer) {
				f.StringVar(&m.Item, "item", "", "what is for sale")
				f.Uint64Var(&m.Price, "price", 0, "price of one unit, in whole tokens")
				f.Uint64Var(&m.Stock, "stock", 0, "how many units are for sale")
			}, "item", "price", "stock")),
			`  citychain tx commerce list-offer --from dev1 --item "Coffee beans 1 kg" --price 12 --stock 40 --wait`),
		example(sdk.TxCmd(c, Name, ActionPlaceOrder, "place-order --offer ID --qty N",
			"Order units of an offer and pay price*qty into escrow", sdk.BindFlags(func(f *pflag.FlagSet, m *PlaceOrder) {
				f.Uint64Var(&m.Offer, "offer", 0, "the offer's id")
				f.Uint64Var(&m.Quantity, "qty", 0, "how many units")
			}, "offer", "qty")),
			`  citychain tx commerce place-order --from dev2 --offer 1 --qty 2 --wait`),
		example(sdk.TxCmd(c, Name, ActionShip, "ship --order ID --tracking REF",
			"Mark an order shipped (seller); starts the auto-release timer", sdk.BindFlags(func(f *pflag.FlagSet, m *Ship) {
				orderFlag(f, &m.Order)
				f.StringVar(&m.Tracking, "tracking", "", "the carrier's tracking reference")
			}, "order", "tracking")),
			`  citychain tx commerce ship --from dev1 --order 1 --tracking "PARCEL-0042" --wait`),
		example(sdk.TxCmd(c, Name, ActionMarkPickup, "mark-pickup --order ID [--location TEXT]",
			"Say a shipped order waits at a pickup point (seller)", sdk.BindFlags(func(f *pflag.FlagSet, m *MarkPickup) {
				orderFlag(f, &m.Order)
				f.StringVar(&m.Location, "location", "", "where the buyer collects it")
			}, "order")),
			`  citychain tx commerce mark-pickup --from dev1 --order 1 --location "Kiosk, Station Square" --wait`),
		example(sdk.TxCmd(c, Name, ActionConfirm, "confirm --order ID",
			"Confirm delivery (buyer): the escrow goes to the seller",
			sdk.BindFlags(func(f *pflag.FlagSet, m *Confirm) { orderFlag(f, &m.Order) }, "order")),
			`  citychain tx commerce confirm --from dev2 --order 1 --wait`),
		example(sdk.TxCmd(c, Name, ActionCancel, "cancel --order ID [--reason TEXT]",
			"Call off an order before it ships (buyer or seller): full refund", sdk.BindFlags(func(f *pflag.FlagSet, m *Cancel) {
				orderFlag(f, &m.Order)
				f.StringVar(&m.Reason, "reason", "", "why, for the order's history")
			}, "order")),
			`  citychain tx commerce cancel --from dev2 --order 1 --reason "ordered twice" --wait`),
		example(sdk.TxCmd(c, Name, ActionDispute, "dispute --order ID --reason TEXT",
			"Ask the arbiter to decide a shipped order (buyer or seller)", sdk.BindFlags(func(f *pflag.FlagSet, m *OpenDispute) {
				orderFlag(f, &m.Order)
				f.StringVar(&m.Reason, "reason", "", "what went wrong")
			}, "order", "reason")),
			`  citychain tx commerce dispute --from dev2 --order 1 --reason "parcel arrived empty" --wait`),
		example(sdk.TxCmd(c, Name, ActionSettle, "settle --order ID (--refund | --pay) [--note TEXT]",
			"Decide a dispute (arbiter): refund the buyer or pay the seller", settleFlags),
			`  citychain tx commerce settle --from dev0 --order 1 --refund --note "carrier confirms loss" --wait
  citychain tx commerce settle --from dev0 --order 2 --pay --wait`),
	}
}

func example(cmd *cobra.Command, text string) *cobra.Command {
	cmd.Example = text
	return cmd
}

// settleFlags makes the settle payload: --refund and --pay pick the
// outcome, so exactly one of them must be given.
func settleFlags(f *pflag.FlagSet) func([]string) (*Settle, error) {
	var m Settle
	f.Uint64Var(&m.Order, "order", 0, "the disputed order's id")
	refund := f.Bool("refund", false, "give the escrow back to the buyer (OrderCancelled, refunded)")
	pay := f.Bool("pay", false, "give the escrow to the seller (OrderDelivered)")
	f.StringVar(&m.Note, "note", "", "the decision in words, for the order's history")
	sdk.Required(f, "order")
	return func([]string) (*Settle, error) {
		switch {
		case *refund && !*pay:
			m.Outcome = OutcomeRefund
		case *pay && !*refund:
			m.Outcome = OutcomePay
		default:
			return nil, fmt.Errorf("give exactly one of --refund or --pay")
		}
		return &m, nil
	}
}

// QueryCommands returns "citychain query commerce order|orders|offer|
// offers|params".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	orders := sdk.QueryCmd(c, "orders [--buyer=ADDRESS] [--seller=ADDRESS] [--status=STATUS]",
		"List orders, filtered by buyer, seller and schema.org OrderStatus",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			buyer := f.String("buyer", "", "only orders by this buyer")
			seller := f.String("seller", "", "only orders to this seller")
			status := f.String("status", "", "only orders in this schema.org OrderStatus (OrderInTransit, schema:OrderInTransit or https://schema.org/OrderInTransit)")
			after := f.Uint64("after", 0, "start after this order id (paging)")
			return func([]string) (string, error) {
				return listPath("orders", *after, "buyer", *buyer, "seller", *seller, "status", *status), nil
			}
		},
		func(w io.Writer, a *OrdersAnswer) {
			printList(w, "orders", a.Orders, a.Truncated, printOrderLine, func(o *Order) uint64 { return o.ID })
		})
	offers := sdk.QueryCmd(c, "offers [--seller=ADDRESS]", "List offers with their price and stock left",
		func(f *pflag.FlagSet) func([]string) (string, error) {
			seller := f.String("seller", "", "only offers by this merchant")
			after := f.Uint64("after", 0, "start after this offer id (paging)")
			return func([]string) (string, error) { return listPath("offers", *after, "seller", *seller), nil }
		},
		func(w io.Writer, a *OffersAnswer) {
			printList(w, "offers", a.Offers, a.Truncated, printOfferLine, func(o *Offer) uint64 { return o.ID })
		})
	orders.Example = `  citychain query commerce orders --seller city1... --status OrderProcessing
  citychain query commerce orders --buyer city1...`
	return []*cobra.Command{
		sdk.QueryCmd(c, "order ID", "Show an order, its history and who may do what next", sdk.Path(Name+"/order/%s"), printOrder),
		orders,
		sdk.QueryCmd(c, "offer ID", "Show an offer", sdk.Path(Name+"/offer/%s"),
			func(w io.Writer, a *OfferAnswer) { printOfferLine(w, &a.Offer) }),
		offers,
		sdk.QueryCmd(c, "params", "Show the arbiter, the auto-release timeout and the escrow account",
			sdk.Path(Name+"/params"), printParams),
	}
}

// listPath returns the path of the list query what, with the arguments
// given as name, value pairs (empty ones left out) and after unless it
// is zero. The node checks them.
func listPath(what string, after uint64, args ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(args); i += 2 {
		if args[i+1] != "" {
			v.Set(args[i], args[i+1])
		}
	}
	if after > 0 {
		v.Set("after", fmt.Sprint(after))
	}
	return sdk.WithQuery(Name+"/"+what, v)
}

// printList prints one line per item, or "no {what}" (sdk.PrintList),
// and how to ask for the next page when the answer was truncated: id
// gives an item's id.
func printList[T any](w io.Writer, what string, items []T, truncated bool, line func(io.Writer, *T), id func(*T) uint64) {
	sdk.PrintList(w, what, items, line)
	if truncated {
		fmt.Fprintf(w, "... more: add --after %d\n", id(&items[len(items)-1]))
	}
}

func printParams(w io.Writer, a *ParamsAnswer) {
	arbiter := "none (disputes are refused)"
	if !a.Arbiter.IsZero() {
		arbiter = a.Arbiter.String()
	}
	sdk.PrintFields(w, [][2]string{{"arbiter", arbiter}, {"release_after_blocks", fmt.Sprint(a.ReleaseAfterBlocks)},
		{"max_price", fmt.Sprint(a.MaxPrice)}, {"max_stock", fmt.Sprint(a.MaxStock)}, {"escrow account", a.Escrow.String()}})
}

func printOfferLine(w io.Writer, o *Offer) {
	fmt.Fprintf(w, "offer %d  %q  price %d  stock %d  seller %s\n", o.ID, o.Item, o.Price, o.Stock, o.Seller)
}

func printOrderLine(w io.Writer, o *Order) {
	fmt.Fprintf(w, "order %d  %-20s  %d x %q = %d  escrow %s  buyer %s  seller %s\n",
		o.ID, o.Status, o.Quantity, o.Item, o.Total, o.Escrow.State, o.Buyer, o.Seller)
}

func printOrder(w io.Writer, a *OrderAnswer) {
	o := &a.Order
	fmt.Fprintf(w, "order %d: %s\n", o.ID, o.Status)
	fmt.Fprintf(w, "  %d x %q (offer %d) at %d = %d\n", o.Quantity, o.Item, o.Offer, o.Price, o.Total)
	switch o.Escrow.State {
	case EscrowHeld:
		fmt.Fprintf(w, "  escrow  %d held\n", o.Escrow.Amount)
	case EscrowReleased:
		fmt.Fprintln(w, "  escrow  released to the seller")
	case EscrowRefunded:
		fmt.Fprintln(w, "  escrow  refunded to the buyer")
	}
	fmt.Fprintf(w, "  buyer   %s\n  seller  %s\n", o.Buyer, o.Seller)
	if o.Tracking != "" {
		fmt.Fprintf(w, "  tracking %s\n", o.Tracking)
	}
	if o.ReleaseHeight != 0 {
		fmt.Fprintf(w, "  pays the seller at the end of block %d unless confirmed or disputed first\n", o.ReleaseHeight)
	}
	if d := o.Dispute; d != nil {
		fmt.Fprintf(w, "  dispute opened by the %s at height %d: %s\n", d.Role, d.Height, d.Reason)
		if d.Outcome != "" {
			fmt.Fprintf(w, "  settled at height %d: %s\n", d.SettledHeight, strings.TrimSpace(d.Outcome+" "+d.Note))
		}
	}
	fmt.Fprintln(w, "  history:")
	for _, e := range o.History {
		move := cmp.Or(string(e.From), "-") + " -> " + string(e.To)
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("    %6d  %s  %-13s %-8s %-40s %s", e.Height, e.Time, e.Step, e.By, move, e.Note), " "))
	}
	if len(a.Next) == 0 {
		fmt.Fprintln(w, "  final: nothing more can happen")
	}
	for _, m := range a.Next {
		fmt.Fprintf(w, "  next: the %s may %s -> %s\n", m.By, m.Step, m.To)
	}
}
