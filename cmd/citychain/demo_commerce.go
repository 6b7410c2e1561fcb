package main

import (
	"fmt"
	"strconv"

	"github.com/citychain/citychain/apps/commerce"
	"github.com/citychain/citychain/node"
)

// eventAttr returns the value of key in the first event of type typ.
func eventAttr(r *node.TxView, typ, key string) (string, error) {
	for _, e := range r.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == key {
				return a.Value, nil
			}
		}
	}
	return "", fmt.Errorf("the receipt has no %s event with %s", typ, key)
}

func (d *demo) commerceOrder() error {
	d.stage("The shop orders tea online: escrow in the commerce module",
		`The cooperative (dev1) lists its tea as an offer. The shop (dev2) orders two
		packets and pays at once; the money does not go to the cooperative yet but into
		an escrow account that only the module's code controls. The order's status
		uses schema.org's OrderStatus words: it is now OrderProcessing.`)
	r, err := d.send(actorCoop, commerce.Name, commerce.ActionListOffer,
		commerce.ListOffer{Item: "Mountain Green Tea, 100 g packet (harvest " + d.run_ + ")", Price: 12, Stock: 50})
	if err != nil {
		return err
	}
	offer, err := eventAttr(r, "offer_listed", "offer")
	if err != nil {
		return err
	}
	offerID, _ := strconv.ParseUint(offer, 10, 64)
	r, err = d.send(actorShop, commerce.Name, commerce.ActionPlaceOrder, commerce.PlaceOrder{Offer: offerID, Quantity: 2})
	if err != nil {
		return err
	}
	order, err := eventAttr(r, "order", "order")
	if err != nil {
		return err
	}
	d.order, _ = strconv.ParseUint(order, 10, 64)
	if err := d.showOrder(); err != nil {
		return err
	}
	d.stage("The cooperative ships the case",
		`The cooperative hands the case to the delivery van and records the shipment
		with a tracking reference: OrderInTransit. If the shop never confirms, the
		escrow is released to the seller by itself after a number of blocks.`)
	if _, err := d.send(actorCoop, commerce.Name, commerce.ActionShip, commerce.Ship{Order: d.order, Tracking: "VAN-" + d.run_}); err != nil {
		return err
	}
	return d.showOrder()
}

func (d *demo) commerceDelivered() error {
	d.stage("Delivered: the shop confirms and the escrow pays the cooperative",
		`The shop confirms that the tea arrived. The module releases the escrow to the
		cooperative: OrderDelivered. The money moved buyer -> escrow -> seller, and the
		order's history shows every step with its block height.`)
	var a commerce.OrderAnswer
	if err := d.get(fmt.Sprintf("/v1/apps/commerce/order/%d", d.order), &a); err != nil {
		return err
	}
	if a.Order.Status == commerce.OrderDelivered {
		// A slow class: the release timer ran out first and the escrow
		// paid the cooperative by itself, which the history shows.
		fmt.Fprintf(d.out, "   the shop took longer than the release timer: the escrow already paid the cooperative by itself\n")
	} else if _, err := d.send(actorShop, commerce.Name, commerce.ActionConfirm, commerce.Confirm{Order: d.order}); err != nil {
		return err
	}
	if err := d.showOrder(); err != nil {
		return err
	}
	d.link("the order and its history", fmt.Sprintf("/v1/apps/commerce/order/%d", d.order))
	d.page("the order", fmt.Sprintf("#/order/%d", d.order))
	return nil
}

func (d *demo) showOrder() error {
	var a commerce.OrderAnswer
	if err := d.get(fmt.Sprintf("/v1/apps/commerce/order/%d", d.order), &a); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   order %d: %s\n", d.order, a.Order.Status)
	return nil
}
