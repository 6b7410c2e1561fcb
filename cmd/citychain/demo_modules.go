package main

import (
	"strings"

	"github.com/citychain/citychain/apps"
	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// The steps modules add to the story (sdk.DemoStep), after its own: the
// demo is the sdk.Demo they run against.

// moduleSteps returns a step for each module of apps.All() that has one.
func (d *demo) moduleSteps() []func() error {
	var steps []func() error
	for _, a := range apps.All() {
		m, ok := a.(sdk.DemoStep)
		if !ok {
			continue
		}
		s := m.DemoStep()
		steps = append(steps, func() error {
			d.stage(s.Title, s.Why)
			return s.Run(d)
		})
	}
	return steps
}

// Account implements sdk.Demo.
func (d *demo) Account(i int) chain.Address { return d.addr(i) }

// Send implements sdk.Demo.
func (d *demo) Send(from int, app, action string, payload any) (uint64, error) {
	r, err := d.send(from, app, action, payload)
	if err != nil {
		return 0, err
	}
	return r.Height, nil
}

// Query implements sdk.Demo.
func (d *demo) Query(path string, out any) error { return d.get("/v1/apps/"+path, out) }

// Link implements sdk.Demo: explorer pages and API addresses are listed
// apart at the end.
func (d *demo) Link(what, path string) {
	if strings.HasPrefix(path, "#/") {
		d.page(what, path)
		return
	}
	d.link(what, path)
}

// Unique implements sdk.Demo.
func (d *demo) Unique() string { return d.run_ }
