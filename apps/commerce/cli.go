package commerce

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// TxCommands returns "citychain tx commerce list-offer|place-order|ship|
// mark-pickup|confirm|cancel|dispute|settle".
func (*App) TxCommands(c sdk.Client) []*cobra.Command {
	// submit validates m the way Check will, so a mistake is reported
	// before anything is signed.
	submit := func(cmd *cobra.Command, action string, m validator) error {
		if err := m.Validate(); err != nil {
			return err
		}
		return c.Submit(cmd, Name, action, m)
	}
	var cmds []*cobra.Command
	add := func(use, short, example, action string, m validator, flags func(*cobra.Command)) {
		cmd := &cobra.Command{
			Use: use, Short: short, Example: example, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return submit(cmd, action, m) },
		}
		flags(cmd)
		cmds = append(cmds, cmd)
	}
	orderFlag := func(cmd *cobra.Command, id *uint64) {
		cmd.Flags().Uint64Var(id, "order", 0, "the order's id")
		_ = cmd.MarkFlagRequired("order")
	}

	var lo ListOffer
	add("list-offer --item TEXT --price N --stock N", "Offer an item for sale at a unit price in the native token",
		`  citychain tx commerce list-offer --from dev1 --item "Coffee beans 1 kg" --price 12 --stock 40 --wait`,
		ActionListOffer, &lo, func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&lo.Item, "item", "", "what is for sale")
			cmd.Flags().Uint64Var(&lo.Price, "price", 0, "price of one unit, in whole tokens")
			cmd.Flags().Uint64Var(&lo.Stock, "stock", 0, "how many units are for sale")
			_ = cmd.MarkFlagRequired("item")
			_ = cmd.MarkFlagRequired("price")
			_ = cmd.MarkFlagRequired("stock")
		})
	var po PlaceOrder
	add("place-order --offer ID --qty N", "Order units of an offer and pay price*qty into escrow",
		`  citychain tx commerce place-order --from dev2 --offer 1 --qty 2 --wait`,
		ActionPlaceOrder, &po, func(cmd *cobra.Command) {
			cmd.Flags().Uint64Var(&po.Offer, "offer", 0, "the offer's id")
			cmd.Flags().Uint64Var(&po.Quantity, "qty", 0, "how many units")
			_ = cmd.MarkFlagRequired("offer")
			_ = cmd.MarkFlagRequired("qty")
		})
	var sh Ship
	add("ship --order ID --tracking REF", "Mark an order shipped (seller); starts the auto-release timer",
		`  citychain tx commerce ship --from dev1 --order 1 --tracking "PARCEL-0042" --wait`,
		ActionShip, &sh, func(cmd *cobra.Command) {
			orderFlag(cmd, &sh.Order)
			cmd.Flags().StringVar(&sh.Tracking, "tracking", "", "the carrier's tracking reference")
			_ = cmd.MarkFlagRequired("tracking")
		})
	var mp MarkPickup
	add("mark-pickup --order ID [--location TEXT]", "Say a shipped order waits at a pickup point (seller)",
		`  citychain tx commerce mark-pickup --from dev1 --order 1 --location "Kiosk, Station Square" --wait`,
		ActionMarkPickup, &mp, func(cmd *cobra.Command) {
			orderFlag(cmd, &mp.Order)
			cmd.Flags().StringVar(&mp.Location, "location", "", "where the buyer collects it")
		})
	var co Confirm
	add("confirm --order ID", "Confirm delivery (buyer): the escrow goes to the seller",
		`  citychain tx commerce confirm --from dev2 --order 1 --wait`,
		ActionConfirm, &co, func(cmd *cobra.Command) { orderFlag(cmd, &co.Order) })
	var ca Cancel
	add("cancel --order ID [--reason TEXT]", "Call off an order before it ships (buyer or seller): full refund",
		`  citychain tx commerce cancel --from dev2 --order 1 --reason "ordered twice" --wait`,
		ActionCancel, &ca, func(cmd *cobra.Command) {
			orderFlag(cmd, &ca.Order)
			cmd.Flags().StringVar(&ca.Reason, "reason", "", "why, for the order's history")
		})
	var di OpenDispute
	add("dispute --order ID --reason TEXT", "Ask the arbiter to decide a shipped order (buyer or seller)",
		`  citychain tx commerce dispute --from dev2 --order 1 --reason "parcel arrived empty" --wait`,
		ActionDispute, &di, func(cmd *cobra.Command) {
			orderFlag(cmd, &di.Order)
			cmd.Flags().StringVar(&di.Reason, "reason", "", "what went wrong")
			_ = cmd.MarkFlagRequired("reason")
		})
	cmds = append(cmds, settleCommand(submit))
	return cmds
}

// settleCommand is "settle --order ID --refund|--pay": the two flags pick
// the outcome, so it does not fit the pattern of the others.
func settleCommand(submit func(*cobra.Command, string, validator) error) *cobra.Command {
	var m Settle
	var refund, pay bool
	cmd := &cobra.Command{
		Use:   "settle --order ID (--refund | --pay) [--note TEXT]",
		Short: "Decide a dispute (arbiter): refund the buyer or pay the seller",
		Example: `  citychain tx commerce settle --from dev0 --order 1 --refund --note "carrier confirms loss" --wait
  citychain tx commerce settle --from dev0 --order 2 --pay --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case refund && !pay:
				m.Outcome = OutcomeRefund
			case pay && !refund:
				m.Outcome = OutcomePay
			default:
				return fmt.Errorf("give exactly one of --refund or --pay")
			}
			return submit(cmd, ActionSettle, &m)
		},
	}
	cmd.Flags().Uint64Var(&m.Order, "order", 0, "the disputed order's id")
	cmd.Flags().BoolVar(&refund, "refund", false, "give the escrow back to the buyer (OrderReturned)")
	cmd.Flags().BoolVar(&pay, "pay", false, "give the escrow to the seller (OrderDelivered)")
	cmd.Flags().StringVar(&m.Note, "note", "", "the decision in words, for the order's history")
	_ = cmd.MarkFlagRequired("order")
	return cmd
}

// QueryCommands returns "citychain query commerce order|orders|offer|
// offers|params".
func (*App) QueryCommands(c sdk.Client) []*cobra.Command {
	order := &cobra.Command{
		Use:   "order ID",
		Short: "Show an order, its history and who may do what next",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseID("order", args[0]); err != nil {
				return err
			}
			var a OrderAnswer
			if err := c.Query(cmd, Name+"/order/"+args[0], &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) { printOrder(w, &a) })
		},
	}

	var buyer, seller, status string
	var after uint64
	orders := &cobra.Command{
		Use:   "orders [--buyer ADDRESS] [--seller ADDRESS] [--status STATUS]",
		Short: "List orders, filtered by buyer, seller and schema.org OrderStatus",
		Example: `  citychain query commerce orders --seller city1... --status OrderProcessing
  citychain query commerce orders --buyer city1...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := url.Values{}
			for _, f := range []struct{ name, value string }{{"buyer", buyer}, {"seller", seller}} {
				if f.value != "" {
					if _, err := chain.ParseAddress(f.value); err != nil {
						return fmt.Errorf("--%s: %w", f.name, err)
					}
					v.Set(f.name, f.value)
				}
			}
			if status != "" {
				s, err := ParseStatus(status)
				if err != nil {
					return err
				}
				v.Set("status", string(s))
			}
			if after > 0 {
				v.Set("after", fmt.Sprint(after))
			}
			var a OrdersAnswer
			if err := c.Query(cmd, withArgs(Name+"/orders", v), &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				if len(a.Orders) == 0 {
					fmt.Fprintln(w, "no orders")
				}
				for i := range a.Orders {
					printOrderLine(w, &a.Orders[i])
				}
				if a.Truncated {
					fmt.Fprintf(w, "... more: add --after %d\n", a.Orders[len(a.Orders)-1].ID)
				}
			})
		},
	}
	orders.Flags().StringVar(&buyer, "buyer", "", "only orders by this buyer")
	orders.Flags().StringVar(&seller, "seller", "", "only orders to this seller")
	orders.Flags().StringVar(&status, "status", "", "only orders in this status (OrderProcessing, OrderInTransit, ...)")
	orders.Flags().Uint64Var(&after, "after", 0, "start after this order id (paging)")

	offer := &cobra.Command{
		Use:   "offer ID",
		Short: "Show an offer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseID("offer", args[0]); err != nil {
				return err
			}
			var a OfferAnswer
			if err := c.Query(cmd, Name+"/offer/"+args[0], &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) { printOfferLine(w, &a.Offer) })
		},
	}

	var offSeller string
	var offAfter uint64
	offers := &cobra.Command{
		Use:   "offers [--seller ADDRESS]",
		Short: "List offers with their price and stock left",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := url.Values{}
			if offSeller != "" {
				if _, err := chain.ParseAddress(offSeller); err != nil {
					return fmt.Errorf("--seller: %w", err)
				}
				v.Set("seller", offSeller)
			}
			if offAfter > 0 {
				v.Set("after", fmt.Sprint(offAfter))
			}
			var a OffersAnswer
			if err := c.Query(cmd, withArgs(Name+"/offers", v), &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				if len(a.Offers) == 0 {
					fmt.Fprintln(w, "no offers")
				}
				for i := range a.Offers {
					printOfferLine(w, &a.Offers[i])
				}
				if a.Truncated {
					fmt.Fprintf(w, "... more: add --after %d\n", a.Offers[len(a.Offers)-1].ID)
				}
			})
		},
	}
	offers.Flags().StringVar(&offSeller, "seller", "", "only offers by this merchant")
	offers.Flags().Uint64Var(&offAfter, "after", 0, "start after this offer id (paging)")

	params := &cobra.Command{
		Use:   "params",
		Short: "Show the arbiter, the auto-release timeout and the escrow account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a ParamsAnswer
			if err := c.Query(cmd, Name+"/params", &a); err != nil {
				return err
			}
			return c.Print(cmd, a, func(w io.Writer) {
				arbiter := "none (disputes are refused)"
				if !a.Arbiter.IsZero() {
					arbiter = a.Arbiter.String()
				}
				fmt.Fprintf(w, "arbiter               %s\n", arbiter)
				fmt.Fprintf(w, "release_after_blocks  %d\n", a.ReleaseAfterBlocks)
				fmt.Fprintf(w, "max_price             %d\n", a.MaxPrice)
				fmt.Fprintf(w, "max_stock             %d\n", a.MaxStock)
				fmt.Fprintf(w, "escrow account        %s\n", a.Escrow)
			})
		},
	}
	return []*cobra.Command{order, orders, offer, offers, params}
}

func withArgs(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
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
		from := string(e.From)
		if from == "" {
			from = "-"
		}
		move := from + " -> " + string(e.To)
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("    %6d  %s  %-13s %-8s %-40s %s", e.Height, e.Time, e.Step, e.By, move, e.Note), " "))
	}
	if len(a.Next) == 0 {
		fmt.Fprintln(w, "  final: nothing more can happen")
	}
	for _, m := range a.Next {
		fmt.Fprintf(w, "  next: the %s may %s -> %s\n", m.By, m.Step, m.To)
	}
}
