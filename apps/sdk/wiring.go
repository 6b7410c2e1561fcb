package sdk

import (
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/spf13/cobra"
)

// More optional interfaces (see optional.go): what the node, the
// explorer, `citychain sim` and `citychain demo` ask of a module, each
// found by type assertion on the modules of apps.All(). A module that
// implements none of them still gets its transactions, its queries, its
// index at GET /v1/apps/{module}/ and its page in the explorer.

// Balances is implemented by the module that keeps the native token's
// balances (the bank). The node shows the balance beside the nonce on
// GET /v1/accounts/{address}; with no such module it shows 0.
type Balances interface {
	// Balance returns what addr holds in the state q reads.
	Balance(q *chain.QueryContext, addr chain.Address) (uint64, error)
}

// Explorer is implemented by modules that describe themselves in the
// explorer. The explorer's module list (#/apps) shows every module with
// its index; a module with this interface adds a title and links to its
// own pages there. GET /v1/apps answers the list.
type Explorer interface {
	Explorer() ExplorerEntry
}

// ExplorerEntry is how the explorer's module list shows a module.
type ExplorerEntry struct {
	Title string `json:"title"` // one line: what the module keeps
	Links []Link `json:"links"`
}

// Link is a page about a module: an explorer page ("#/trace") or one of
// the module's queries without parameters ("/v1/apps/bank/supply"),
// which the explorer shows as JSON.
type Link struct {
	Title string `json:"title"`
	Href  string `json:"href"`
}

// Simulators is implemented by modules that feed a running chain with
// made-up traffic: their commands go under "citychain sim", which
// carries the signing flags (--from, --passphrase-file, --chain-id) that
// c reads when it submits. now is the wall clock.
type Simulators interface {
	SimCommands(c Client, now func() time.Time) []*cobra.Command
}

// DemoStep is implemented by modules that add a step to the workshop
// story, `citychain demo`: after the story's own steps, each module's
// step runs in the order of apps.All().
type DemoStep interface {
	DemoStep() Step
}

// Step is one step of `citychain demo`.
type Step struct {
	Title string // one line: what happens
	Why   string // a few lines for the room: what the step shows, and why
	Run   func(d Demo) error
}

// Demo is what a step of the story uses: the development accounts,
// signed transactions that must commit, queries, and the addresses
// printed at the end.
type Demo interface {
	// Account returns the address of development account i (dev{i}).
	Account(i int) chain.Address
	// Send signs payload as app/action with the development key dev{from},
	// sends it and waits until it is committed. A refused transaction or
	// a failed receipt is an error. It returns the block height.
	Send(from int, app, action string, payload any) (uint64, error)
	// Query reads GET /v1/apps/{path} into out.
	Query(path string, out any) error
	// Link adds an address to the list printed at the end of the story:
	// an API path ("/v1/apps/...") or an explorer page ("#/...").
	Link(what, path string)
	// Unique returns a short text that differs from run to run, for the
	// identifiers of what this run makes.
	Unique() string
}
