package commerce

import (
	"encoding/json"
	"strconv"
)

// This file says an order in schema.org's vocabulary. The order answers
// are JSON-LD documents: their @context is schema.org's, their schema.org
// properties describe the order as an Order node, and the module's own
// fields (the plain record the CLI and the explorer read) sit beside
// them under names that the context maps to null, which JSON-LD
// processors leave out. Expanded, an answer holds schema.org terms only;
// the test in schema_test.go checks each of them against schema.org's
// vocabulary file.

// Context is the @context of the order answers: schema.org's context,
// then four terms of the module's own:
//   - orderStatus and paymentStatus take IRIs. Their values are members
//     of schema.org enumerations, written as IRIs
//     ("https://schema.org/OrderDelivered"); schema.org's context leaves
//     both untyped, which would read the IRI as a string.
//   - orderDate is a DateTime: the order is dated with its block's time.
//     schema.org's context types it as a Date, the first kind its range
//     allows.
//   - order, orders, next, truncated and query_height are null: they are
//     the module's own fields, outside schema.org, and a JSON-LD
//     processor drops them.
var Context = json.RawMessage(`["https://schema.org",{` +
	`"orderStatus":{"@id":"schema:orderStatus","@type":"@id"},` +
	`"paymentStatus":{"@id":"schema:paymentStatus","@type":"@id"},` +
	`"orderDate":{"@id":"schema:orderDate","@type":"schema:DateTime"},` +
	`"order":null,"orders":null,"next":null,"truncated":null,"query_height":null}]`)

// SchemaOrder is an order as a schema.org Order node: the schema.org
// properties of the order answers.
type SchemaOrder struct {
	Type          string          `json:"@type"`       // always "Order"
	OrderNumber   string          `json:"orderNumber"` // the order's id
	OrderStatus   string          `json:"orderStatus"` // Status.IRI
	OrderDate     string          `json:"orderDate,omitempty"`
	Customer      SchemaAccount   `json:"customer"`
	Seller        SchemaAccount   `json:"seller"`
	AcceptedOffer SchemaOffer     `json:"acceptedOffer"`
	OrderedItem   SchemaOrderItem `json:"orderedItem"`
	PartOfInvoice SchemaInvoice   `json:"partOfInvoice"`
	OrderDelivery *SchemaDelivery `json:"orderDelivery,omitempty"` // once shipped
}

// SchemaAccount is a party to an order: an account, named by its
// address. The chain cannot tell a Person from an Organization, the
// two types schema.org allows there, so the node has no type.
type SchemaAccount struct {
	Identifier string `json:"identifier"`
}

// SchemaOffer is the offer an order accepted.
type SchemaOffer struct {
	Type        string        `json:"@type"`      // "Offer"
	Identifier  string        `json:"identifier"` // the offer's id
	ItemOffered SchemaProduct `json:"itemOffered"`
	Price       uint64        `json:"price"` // per unit, as ordered, in the native token
}

// SchemaProduct is what is sold: the offer's item text.
type SchemaProduct struct {
	Type string `json:"@type"` // "Product"
	Name string `json:"name"`
}

// SchemaOrderItem is the one line of an order: how many of what.
type SchemaOrderItem struct {
	Type          string        `json:"@type"` // "OrderItem"
	OrderQuantity uint64        `json:"orderQuantity"`
	OrderedItem   SchemaProduct `json:"orderedItem"`
}

// SchemaInvoice is the bill of an order. Order has no total of its own
// in schema.org (totalPaymentDue is the Invoice's, totalPrice a
// Reservation's or a Ticket's); the order is part of an invoice whose
// total is price times quantity. The buyer pays it into escrow in the
// transaction that places the order, so every invoice here is
// PaymentComplete; where the money went afterwards is the order's
// escrow field.
type SchemaInvoice struct {
	Type            string      `json:"@type"` // "Invoice"
	TotalPaymentDue SchemaPrice `json:"totalPaymentDue"`
	PaymentStatus   string      `json:"paymentStatus"` // https://schema.org/PaymentComplete
}

// SchemaPrice is an amount in the native token. It has no
// priceCurrency: the token has neither an ISO 4217 code nor a ticker.
type SchemaPrice struct {
	Type  string `json:"@type"` // "PriceSpecification"
	Price uint64 `json:"price"`
}

// SchemaDelivery is the parcel of a shipped order.
type SchemaDelivery struct {
	Type           string `json:"@type"` // "ParcelDelivery"
	TrackingNumber string `json:"trackingNumber"`
}

// Schema returns o as a schema.org Order.
func (o *Order) Schema() SchemaOrder {
	item := SchemaProduct{Type: "Product", Name: o.Item}
	s := SchemaOrder{
		Type:        "Order",
		OrderNumber: strconv.FormatUint(o.ID, 10),
		OrderStatus: o.Status.IRI(),
		Customer:    SchemaAccount{Identifier: o.Buyer.String()},
		Seller:      SchemaAccount{Identifier: o.Seller.String()},
		AcceptedOffer: SchemaOffer{Type: "Offer", Identifier: strconv.FormatUint(o.Offer, 10),
			ItemOffered: item, Price: o.Price},
		OrderedItem: SchemaOrderItem{Type: "OrderItem", OrderQuantity: o.Quantity, OrderedItem: item},
		PartOfInvoice: SchemaInvoice{Type: "Invoice", TotalPaymentDue: SchemaPrice{Type: "PriceSpecification", Price: o.Total},
			PaymentStatus: SchemaOrg + "PaymentComplete"},
	}
	if len(o.History) > 0 {
		s.OrderDate = o.History[0].Time
	}
	if o.Tracking != "" {
		s.OrderDelivery = &SchemaDelivery{Type: "ParcelDelivery", TrackingNumber: o.Tracking}
	}
	return s
}
