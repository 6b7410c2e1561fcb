package commerce

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// This file holds what each action does. Every change of status goes
// through move, which asks the status table (Next) and writes the
// history; moveOrder loads, moves and saves an existing order, and the
// handlers only add the money, stock and index changes that belong to
// their step. A handler that fails leaves no trace: the chain
// drops a failed transaction's writes, bank transfers included.

// listOffer stores a new offer by the sender.
func listOffer(ctx *chain.Context, m *ListOffer) error {
	st := ctx.Store()
	p, err := loadParams(st)
	if err != nil {
		return err
	}
	switch {
	case isArbiter(&p, ctx.Sender):
		return fmt.Errorf("%w: %s is the arbiter, who settles disputes and may not trade", chain.ErrUnauthorized, ctx.Sender)
	case m.Price > p.MaxPrice:
		return fmt.Errorf("%w: price: %d is above max_price %d", chain.ErrBadPayload, m.Price, p.MaxPrice)
	case m.Stock > p.MaxStock:
		return fmt.Errorf("%w: stock: %d is above max_stock %d", chain.ErrBadPayload, m.Stock, p.MaxStock)
	}
	id, err := sdk.NextID(st, keyOfferSeq)
	if err != nil {
		return err
	}
	sdk.Save(st, keyOffer(id), &Offer{ID: id, Seller: ctx.Sender, Item: m.Item, Price: m.Price, Stock: m.Stock, Height: ctx.Height})
	st.Set(keyOfferBy(ctx.Sender, id), sdk.Present)
	ctx.Emit("offer_listed", chain.A("offer", id), chain.A("seller", ctx.Sender), chain.A("item", m.Item),
		chain.A("price", m.Price), chain.A("stock", m.Stock))
	return nil
}

// placeOrder creates an order in OrderPaymentDue, takes its units from
// the offer's stock and pays price*quantity into escrow, which makes it
// OrderProcessing. If the buyer cannot pay, the transaction fails and
// leaves neither an order nor a change of stock.
func (a *App) placeOrder(ctx *chain.Context, m *PlaceOrder) error {
	st := ctx.Store()
	p, err := loadParams(st)
	if err != nil {
		return err
	}
	offer, err := loadOffer(st, m.Offer)
	if err != nil {
		return err
	}
	switch {
	case ctx.Sender == offer.Seller:
		return fmt.Errorf("%w: offer %d is the sender's own", chain.ErrUnauthorized, offer.ID)
	case isArbiter(&p, ctx.Sender):
		return fmt.Errorf("%w: %s is the arbiter, who settles disputes and may not trade", chain.ErrUnauthorized, ctx.Sender)
	case m.Quantity > offer.Stock:
		return fmt.Errorf("%w: offer %d has %d left, the order asks for %d", ErrOutOfStock, offer.ID, offer.Stock, m.Quantity)
	}
	total, err := sdk.Mul(offer.Price, m.Quantity)
	if err != nil {
		return err
	}
	id, err := sdk.NextID(st, keyOrderSeq)
	if err != nil {
		return err
	}
	o := &Order{ID: id, Offer: offer.ID, Item: offer.Item, Seller: offer.Seller, Buyer: ctx.Sender,
		Quantity: m.Quantity, Price: offer.Price, Total: total, Status: OrderPaymentDue}
	record(ctx, o, StepPlace, "", OrderPaymentDue, RoleBuyer, fmt.Sprintf("%d x %d", m.Quantity, offer.Price))

	if err := a.escrow.Collect(ctx, total); err != nil {
		return fmt.Errorf("order %d: pay %d into escrow: %w", id, total, err)
	}
	o.Escrow = Escrow{Amount: total, State: EscrowHeld}
	if err := move(ctx, o, StepPay, RoleBuyer, fmt.Sprintf("%d into escrow", total)); err != nil {
		return err
	}
	offer.Stock -= m.Quantity // checked against the stock above
	sdk.Save(st, keyOffer(offer.ID), offer)
	st.Set(keyBuyer(o.Buyer, id), sdk.Present)
	st.Set(keySeller(o.Seller, id), sdk.Present)
	saveOrder(st, o, "")
	return nil
}

// change is an order that a transaction or EndBlock is moving: loaded,
// taken one step along the status table and recorded in its history,
// but not yet saved.
type change struct {
	ctx  *chain.Context
	st   *chain.Store
	p    Params
	o    *Order
	was  Status // the status before the step
	role Role   // who makes the step
}

// moveOrder loads order id and takes it one step: made by the
// transaction's sender in the role the sender has, or by the chain in
// EndBlock, which has no sender. then, unless nil, adds what belongs to
// the step (money, stock, indexes) before the order is saved.
func moveOrder(ctx *chain.Context, id uint64, step Step, note string, then func(c *change) error) error {
	st := ctx.Store()
	p, err := loadParams(st)
	if err != nil {
		return err
	}
	o, err := loadOrder(st, id)
	if err != nil {
		return err
	}
	c := &change{ctx: ctx, st: st, p: p, o: o, was: o.Status, role: RoleChain}
	if !ctx.Sender.IsZero() {
		c.role = roleOf(o, &p, ctx.Sender)
	}
	if err := move(ctx, o, step, c.role, note); err != nil {
		return err
	}
	if then != nil {
		if err := then(c); err != nil {
			return err
		}
	}
	saveOrder(st, o, c.was)
	return nil
}

// ship records the tracking reference and starts the release timer: at
// the end of block height+ReleaseAfterBlocks, EndBlock pays the seller
// unless the order has left transit by then.
func ship(ctx *chain.Context, m *Ship) error {
	return moveOrder(ctx, m.Order, StepShip, m.Tracking, func(c *change) error {
		due, err := sdk.Add(ctx.Height, c.p.ReleaseAfterBlocks)
		if err != nil {
			return err
		}
		c.o.Tracking, c.o.ReleaseHeight = m.Tracking, due
		c.st.Set(keyRelease(due, c.o.ID), sdk.Present)
		return nil
	})
}

// markPickup only moves the order: the goods wait at a pickup point, and
// the release timer keeps running from shipping.
func markPickup(ctx *chain.Context, m *MarkPickup) error {
	return moveOrder(ctx, m.Order, StepMarkPickup, m.Location, nil)
}

// confirm pays the escrow to the seller.
func (a *App) confirm(ctx *chain.Context, m *Confirm) error {
	return moveOrder(ctx, m.Order, StepConfirm, "", a.release)
}

// release takes the order off the release index and pays its escrow to
// the seller.
func (a *App) release(c *change) error {
	unschedule(c.st, c.o)
	return a.payOut(c.ctx, c.o, EscrowReleased)
}

// cancel refunds the buyer and gives the units back to the offer.
func (a *App) cancel(ctx *chain.Context, m *Cancel) error {
	return moveOrder(ctx, m.Order, StepCancel, m.Reason, func(c *change) error {
		if err := a.payOut(ctx, c.o, EscrowRefunded); err != nil {
			return err
		}
		offer, err := loadOffer(c.st, c.o.Offer)
		if err != nil {
			return err
		}
		if offer.Stock, err = sdk.Add(offer.Stock, c.o.Quantity); err != nil {
			return err
		}
		sdk.Save(c.st, keyOffer(offer.ID), offer)
		return nil
	})
}

// openDispute stops the release timer and puts the order before the
// arbiter. Without an arbiter in genesis nobody could settle it, so it
// is refused.
func openDispute(ctx *chain.Context, m *OpenDispute) error {
	return moveOrder(ctx, m.Order, StepDispute, m.Reason, func(c *change) error {
		if c.p.Arbiter.IsZero() {
			return fmt.Errorf("order %d: %w: %s -> %s by %s: genesis names no arbiter to settle it",
				c.o.ID, ErrNoArbiter, c.was, c.o.Status, StepDispute)
		}
		unschedule(c.st, c.o)
		c.o.Dispute = &Dispute{OpenedBy: ctx.Sender, Role: c.role, Reason: m.Reason, Height: ctx.Height}
		return nil
	})
}

// settle carries out the arbiter's decision: the escrow back to the
// buyer (OrderRefunded) or on to the seller (OrderDelivered).
func (a *App) settle(ctx *chain.Context, m *Settle) error {
	step, state := StepSettlePay, EscrowReleased
	if m.Outcome == OutcomeRefund {
		step, state = StepSettleRefund, EscrowRefunded
	}
	return moveOrder(ctx, m.Order, step, m.Note, func(c *change) error {
		if c.o.Dispute == nil { // every OrderProblem has one
			return fmt.Errorf("order %d is %s without a dispute record", c.o.ID, c.was)
		}
		if err := a.payOut(ctx, c.o, state); err != nil {
			return err
		}
		c.o.Dispute.Outcome, c.o.Dispute.Note, c.o.Dispute.SettledHeight = m.Outcome, m.Note, ctx.Height
		return nil
	})
}

// EndBlock pays the seller of every order whose timer ends in this
// block. It reads only the release index at this height, so its cost
// grows with the orders due now, not with all the orders there are.
// Every key it finds belongs to an order in transit or waiting for
// pickup, since the steps out of those statuses delete it; finding
// anything else is a broken invariant and fails the block.
func (a *App) EndBlock(ctx *chain.Context) error {
	st := ctx.Store()
	ids, _, err := sdk.List(st, prefixReleaseAt(ctx.Height), nil, 0, func(k, _ []byte) (*uint64, error) {
		id, err := sdk.IDAtEnd(k)
		return &id, err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := moveOrder(ctx, id, StepAutoRelease, fmt.Sprintf("not confirmed by height %d", ctx.Height), a.release); err != nil {
			return fmt.Errorf("release at height %d: %w", ctx.Height, err)
		}
	}
	return nil
}

// move takes o one step along the status table, made by role, and
// writes the step into its history. It changes o only.
func move(ctx *chain.Context, o *Order, step Step, role Role, note string) error {
	to, err := Next(o.Status, step, role)
	if err != nil {
		return fmt.Errorf("order %d: %w", o.ID, err)
	}
	record(ctx, o, step, o.Status, to, role, note)
	o.Status = to
	return nil
}

// record appends a history entry and emits it as an event.
func record(ctx *chain.Context, o *Order, step Step, from, to Status, role Role, note string) {
	e := Entry{Step: step, From: from, To: to, By: role, Note: note, Height: ctx.Height, Time: sdk.FormatTime(ctx.Time)}
	if role != RoleChain {
		e.Actor = ctx.Sender
	}
	o.History = append(o.History, e)
	ctx.Emit("order", chain.A("order", o.ID), chain.A("step", string(step)), chain.A("from", string(from)),
		chain.A("to", string(to)), chain.A("by", string(role)))
}

// unschedule takes o off the release index once it leaves transit.
func unschedule(st *chain.Store, o *Order) {
	if o.ReleaseHeight != 0 {
		st.Delete(keyRelease(o.ReleaseHeight, o.ID))
		o.ReleaseHeight = 0
	}
}

func isArbiter(p *Params, a chain.Address) bool { return !p.Arbiter.IsZero() && a == p.Arbiter }
