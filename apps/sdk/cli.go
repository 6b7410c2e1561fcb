package sdk

import (
	"io"

	"github.com/spf13/cobra"
)

// Client is what a module's CLI commands use to reach a node. The
// citychain binary implements it; it takes care of keys, nonces, signing,
// the --wait, --offline and --output flags, and printing receipts.
type Client interface {
	// Submit signs payload as app/action with the --from key and sends it.
	Submit(cmd *cobra.Command, app, action string, payload any) error
	// Query reads GET /v1/apps/{path} from the --node and decodes the JSON
	// answer into out.
	Query(cmd *cobra.Command, path string, out any) error
	// Print writes v as JSON under --output json, else calls text.
	Print(cmd *cobra.Command, v any, text func(w io.Writer)) error
}

// CLI is implemented by modules that add commands: TxCommands go under
// "citychain tx {app}", QueryCommands under "citychain query {app}".
type CLI interface {
	TxCommands(c Client) []*cobra.Command
	QueryCommands(c Client) []*cobra.Command
}
