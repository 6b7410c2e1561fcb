package commerce

import (
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// This file holds what each action does. Every change of status goes
// through move, which asks the status table (Next) and writes the
// history; the handlers only add the money, stock and index changes that
// belong to their step. A handler that fails leaves no trace: the chain
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
	id, err := nextID(st, keyOfferSeq)
	if err != nil {
		return err
	}
	sdk.Save(st, keyOffer(id), &Offer{ID: id, Seller: ctx.Sender, Item: m.Item, Price: m.Price, Stock: m.Stock, Height: ctx.Height})
	st.Set(keyOfferBy(ctx.Sender, id), present)
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
	total, err := mul(offer.Price, m.Quantity)
	if err != nil {
		return err
	}
	id, err := nextID(st, keyOrderSeq)
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
	st.Set(keyBuyer(o.Buyer, id), present)
	st.Set(keySeller(o.Seller, id), present)
	saveOrder(st, o, "")
	return nil
}

// ship records the tracking reference and starts the release timer: at
// the end of block height+ReleaseAfterBlocks, EndBlock pays the seller
// unless the order has left transit by then.
func ship(ctx *chain.Context, m *Ship) error {
	st := ctx.Store()
	o, was, p, err := act(ctx, st, m.Order, StepShip, m.Tracking)
	if err != nil {
		return err
	}
	due, err := sdk.Add(ctx.Height, p.ReleaseAfterBlocks)
	if err != nil {
		return err
	}
	o.Tracking = m.Tracking
	o.ReleaseHeight = due
	st.Set(keyRelease(due, o.ID), present)
	saveOrder(st, o, was)
	return nil
}

// markPickup notes that the goods wait at a pickup point. The release
// timer keeps running from shipping.
func markPickup(ctx *chain.Context, m *MarkPickup) error {
	st := ctx.Store()
	o, was, _, err := act(ctx, st, m.Order, StepMarkPickup, m.Location)
	if err != nil {
		return err
	}
	saveOrder(st, o, was)
	return nil
}

// confirm pays the escrow to the seller.
func (a *App) confirm(ctx *chain.Context, m *Confirm) error {
	st := ctx.Store()
	o, was, _, err := act(ctx, st, m.Order, StepConfirm, "")
	if err != nil {
		return err
	}
	unschedule(st, o)
	if err := a.payOut(ctx, o, EscrowReleased); err != nil {
		return err
	}
	saveOrder(st, o, was)
	return nil
}

// cancel refunds the buyer and gives the units back to the offer.
func (a *App) cancel(ctx *chain.Context, m *Cancel) error {
	st := ctx.Store()
	o, was, _, err := act(ctx, st, m.Order, StepCancel, m.Reason)
	if err != nil {
		return err
	}
	if err := a.payOut(ctx, o, EscrowRefunded); err != nil {
		return err
	}
	offer, err := loadOffer(st, o.Offer)
	if err != nil {
		return err
	}
	if offer.Stock, err = sdk.Add(offer.Stock, o.Quantity); err != nil {
		return err
	}
	sdk.Save(st, keyOffer(offer.ID), offer)
	saveOrder(st, o, was)
	return nil
}

// openDispute stops the release timer and puts the order before the
// arbiter. Without an arbiter in genesis nobody could settle it, so it
// is refused.
func openDispute(ctx *chain.Context, m *OpenDispute) error {
	st := ctx.Store()
	o, was, p, err := act(ctx, st, m.Order, StepDispute, m.Reason)
	if err != nil {
		return err
	}
	if p.Arbiter.IsZero() {
		return fmt.Errorf("order %d: %w: %s -> %s by %s: genesis names no arbiter to settle it",
			o.ID, ErrNoArbiter, was, o.Status, StepDispute)
	}
	unschedule(st, o)
	o.Dispute = &Dispute{OpenedBy: ctx.Sender, Role: roleOf(o, &p, ctx.Sender), Reason: m.Reason, Height: ctx.Height}
	saveOrder(st, o, was)
	return nil
}

// settle carries out the arbiter's decision: the escrow back to the
// buyer (OrderReturned) or on to the seller (OrderDelivered).
func (a *App) settle(ctx *chain.Context, m *Settle) error {
	st := ctx.Store()
	o, was, _, err := act(ctx, st, m.Order, m.step(), m.Note)
	if err != nil {
		return err
	}
	if o.Dispute == nil { // every OrderProblem has one
		return fmt.Errorf("order %d is %s without a dispute record", o.ID, was)
	}
	state := EscrowReleased
	if m.Outcome == OutcomeRefund {
		state = EscrowRefunded
	}
	if err := a.payOut(ctx, o, state); err != nil {
		return err
	}
	o.Dispute.Outcome, o.Dispute.Note, o.Dispute.SettledHeight = m.Outcome, m.Note, ctx.Height
	saveOrder(st, o, was)
	return nil
}

// releaseDue pays the seller of every order whose timer ends in this
// block. It reads only the release index at this height, so its cost
// grows with the orders due now, not with all the orders there are.
// Every key it finds belongs to an order in transit or waiting for
// pickup, since the steps out of those statuses delete it; finding
// anything else is a broken invariant and fails the block.
func (a *App) releaseDue(ctx *chain.Context) error {
	st := ctx.Store()
	var ids []uint64
	err := st.Iterate(prefixReleaseAt(ctx.Height), func(k, _ []byte) error {
		id, err := idAtEnd(k)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		o, err := loadOrder(st, id)
		if err != nil {
			return fmt.Errorf("release index at height %d: %w", ctx.Height, err)
		}
		was := o.Status
		if err := move(ctx, o, StepAutoRelease, RoleChain, fmt.Sprintf("not confirmed by height %d", ctx.Height)); err != nil {
			return err
		}
		unschedule(st, o)
		if err := a.payOut(ctx, o, EscrowReleased); err != nil {
			return err
		}
		saveOrder(st, o, was)
	}
	return nil
}

// act loads an order for an action by the transaction's sender and moves
// it one step. It returns the changed order, not yet saved, with its
// status before the step and the params.
func act(ctx *chain.Context, st *chain.Store, id uint64, step Step, note string) (*Order, Status, Params, error) {
	p, err := loadParams(st)
	if err != nil {
		return nil, "", p, err
	}
	o, err := loadOrder(st, id)
	if err != nil {
		return nil, "", p, err
	}
	was := o.Status
	if err := move(ctx, o, step, roleOf(o, &p, ctx.Sender), note); err != nil {
		return nil, "", p, err
	}
	return o, was, p, nil
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
	e := Entry{Step: step, From: from, To: to, By: role, Note: note, Height: ctx.Height, Time: formatTime(ctx.Time)}
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
