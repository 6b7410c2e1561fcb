package sdktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/citychain/citychain/chain/crypto"
	"github.com/spf13/cobra"
)

// Client signs with Key and applies each transaction in a block of its
// own on Chain.
type Client struct {
	Chain *chaintest.Chain
	Key   *crypto.PrivateKey
	// Node holds the answers of the node's own routes that Block and
	// Validators read ("/v1/blocks/12", "/v1/validators"), as a test
	// builds them; they go through JSON as the wire would.
	Node map[string]any
}

var _ sdk.Client = Client{}

// Submit sends one transaction and returns its failure, if any.
func (c Client) Submit(_ *cobra.Command, app, action string, payload any) error {
	_, err := c.Chain.Do(c.Key, app, action, payload)
	return err
}

// Query splits "app/path?args" the way the node's router does, asks the
// app, and passes the answer through JSON as the wire would.
func (c Client) Query(_ *cobra.Command, path string, out any) error {
	app, rest, _ := strings.Cut(path, "/")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return err
	}
	args := map[string]string{}
	for k, v := range vals {
		args[k] = v[0]
	}
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	a, err := c.Chain.Query(app, rest, args)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// Block answers Node["/v1/blocks/{height}"].
func (c Client) Block(_ *cobra.Command, height uint64, out any) error {
	return c.node(fmt.Sprintf("/v1/blocks/%d", height), out)
}

// Validators answers Node["/v1/validators"].
func (c Client) Validators(_ *cobra.Command, out any) error { return c.node("/v1/validators", out) }

func (c Client) node(path string, out any) error {
	a, ok := c.Node[path]
	if !ok {
		return fmt.Errorf("%w: GET %s", chain.ErrNotFound, path)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// Print writes the text form to the command's output.
func (c Client) Print(cmd *cobra.Command, _ any, text func(w io.Writer)) error {
	text(cmd.OutOrStdout())
	return nil
}

// Run executes the command among cmds named args[0] with the rest of args
// and returns what it printed. It fails the test if there is no such
// command.
func Run(t testing.TB, cmds []*cobra.Command, args ...string) (string, error) {
	t.Helper()
	for _, cmd := range cmds {
		if cmd.Name() == args[0] {
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(io.Discard)
			cmd.SetArgs(args[1:])
			err := cmd.Execute()
			return out.String(), err
		}
	}
	t.Fatalf("no command %q", args[0])
	return "", nil
}
