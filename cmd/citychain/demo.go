package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/spf13/cobra"
)

// The workshop story: a tea cooperative harvests and processes tea
// (trace), registers its packaging design (copyright), a shop sells the
// tea online (commerce), and the delivery van passes the traffic lights
// and streetlights of the district (city). Every step is real
// transactions, signed with the public development keys, committed and
// read back.

// Who is who in the story (development keys).
const (
	actorCityHall = 0 // dev0: trace administrator, city operator, commerce arbiter
	actorCoop     = 1 // dev1: the tea cooperative
	actorShop     = 2 // dev2: the buyer
	actorVan      = 3 // dev3: the delivery company's gateway
)

func newDemoCmd(g *globals) *cobra.Command {
	var step bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the workshop story across all four modules against a running chain",
		Long: `Tell the CityChain story against the node at --node (a "citychain dev" or a
devnet): a tea cooperative records its harvest and processing (trace, GS1
EPCIS), registers its packaging design (copyright, ISCC), sells tea to a shop
online (commerce, escrow), and the delivery van crosses the district's traffic
lights and streetlights (city, FIWARE). Each step prints what happens and why,
sends real signed transactions with the development accounts dev0 to dev3, and
waits for them to commit. It ends with links to everything it made.

With --step it waits for Enter before each step, for a teacher at a projector.`,
		Example: `  citychain demo
  citychain demo --step --node http://127.0.0.1:8701`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := newDemo(cmd, g.node, step)
			if err != nil {
				return err
			}
			return d.run()
		},
	}
	cmd.Flags().BoolVar(&step, "step", false, "wait for Enter before each step")
	return cmd
}

type demo struct {
	ctx     context.Context
	cl      *client.Client
	api     string
	chainID string
	out     io.Writer
	step    bool
	in      *bufio.Reader
	run_    string // makes identifiers unique to this run
	links   []string
	pages   []string // explorer pages of what the story made
	n       int
	order   uint64 // the shop's order
}

func newDemo(cmd *cobra.Command, api string, step bool) (*demo, error) {
	cl := client.New(api)
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &demo{ctx: ctx, cl: cl, api: strings.TrimRight(api, "/"), chainID: st.ChainID, out: cmd.OutOrStdout(),
		step: step, in: bufio.NewReader(cmd.InOrStdin()), run_: fmt.Sprintf("%06d", time.Now().UnixMicro()%1_000_000)}, nil
}

// stage announces a step of the story.
func (d *demo) stage(title, why string) {
	d.n++
	fmt.Fprintf(d.out, "\n== %d. %s\n", d.n, title)
	for _, line := range strings.Split(strings.TrimSpace(why), "\n") {
		fmt.Fprintf(d.out, "   %s\n", strings.TrimSpace(line))
	}
	if d.step {
		fmt.Fprint(d.out, "   [Enter] ")
		_, _ = d.in.ReadString('\n')
	}
}

// send signs a transaction with development key `from`, sends it and
// waits for its receipt, which must be ok.
func (d *demo) send(from int, app, action string, payload any) (*node.TxView, error) {
	p, err := chain.EncodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", app, action, err)
	}
	key := node.DevKey(from)
	acct, err := d.cl.Account(d.ctx, chain.AddressOf(key.PublicKey()))
	if err != nil {
		return nil, err
	}
	tx := &chain.Tx{ChainID: d.chainID, App: app, Action: action, Payload: p, Nonce: acct.PendingNonce}
	tx.Sign(key)
	ctx, cancel := context.WithTimeout(d.ctx, 60*time.Second)
	defer cancel()
	ans, err := d.cl.Submit(ctx, tx, true)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", app, action, err)
	}
	r := ans.Receipt
	if r == nil || r.Status != chain.StatusOK {
		msg := "no receipt"
		if r != nil {
			msg = r.Error
		}
		return nil, fmt.Errorf("%s %s failed: %s", app, action, msg)
	}
	fmt.Fprintf(d.out, "   -> %s.%s by dev%d committed in block %d (tx %s…)\n", app, action, from, r.Height, r.Hash.String()[:12])
	return r, nil
}

// get reads an app query and prints a short form of it.
func (d *demo) get(path string, out any) error {
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	return d.cl.Get(ctx, path, out)
}

func (d *demo) link(what, path string) {
	d.links = append(d.links, fmt.Sprintf("%-28s %s%s", what, d.api, path))
}

// page notes an explorer page (a #/ route) of something the story made.
func (d *demo) page(what, route string) {
	d.pages = append(d.pages, fmt.Sprintf("%-28s %s/%s", what, d.api, route))
}

func (d *demo) addr(i int) chain.Address { return chain.AddressOf(node.DevKey(i).PublicKey()) }

func (d *demo) run() error {
	fmt.Fprintf(d.out, "CityChain workshop story on chain %s at %s\n", d.chainID, d.api)
	fmt.Fprintf(d.out, "Cast: dev0 city hall (operator, arbiter, trace admin) %s\n      dev1 tea cooperative %s\n      dev2 tea shop %s\n      dev3 delivery van %s\n",
		d.addr(0), d.addr(1), d.addr(2), d.addr(3))
	steps := []func() error{d.traceStory, d.copyrightStory, d.commerceOrder, d.cityStory, d.commerceDelivered}
	steps = append(steps, d.moduleSteps()...)
	for _, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("demo step %d: %w", d.n, err)
		}
	}
	fmt.Fprintf(d.out, "\n== The end. Everything above is on chain; look at it:\n")
	for _, l := range d.links {
		fmt.Fprintf(d.out, "   %s\n", l)
	}
	fmt.Fprintf(d.out, "\n   In the explorer:\n")
	for _, p := range d.pages {
		fmt.Fprintf(d.out, "   %s\n", p)
	}
	fmt.Fprintf(d.out, "   %-28s %s/#/\n", "the dashboard", d.api)
	fmt.Fprintf(d.out, "   %-28s %s/#/network\n", "the nodes (stop one there)", d.api)
	return nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
