package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/citychain/citychain/node"
	"github.com/spf13/cobra"
)

func newDevnetCtlCmd(g *globals, dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "ctl status | ACTION NODE|all | split NODES",
		Short: "Drive a running devnet: stop, pause, resume, start, restart, cut, heal or split nodes",
		Long: `Ask the supervisor of the devnet in --dir (the running "citychain devnet") to
act on one of its nodes, or show every node with its state, height and links.

  status          each node: state, pid, height, peers
  stop NODE       SIGKILL: the node dies at once, as if it lost power
  pause NODE      SIGSTOP: the process freezes, its connections stay open
  resume NODE     SIGCONT: a paused node goes on where it stopped
  start NODE      start a stopped node again; it catches up by block sync
  restart NODE    stop it cleanly (SIGTERM) and start it again
  cut NODE        partition: the node closes every link and refuses new ones
  heal NODE       end the partition; the node reconnects and catches up
  split NODES     partition the devnet in two: the listed nodes (node0,node1)
                  on one side, the rest on the other; each side keeps its
                  own links; "heal all" ends it

NODE "all" applies an action to every node in turn: "stop all" then
"start all" is a power cut of the whole devnet, "heal all" ends every cut
and split. A cut or split lasts as long as the node's process: restart (or
stop and start) ends it.

NODE is a name (node2) or a number (2). The explorer's network page
(/#/network) has the same controls. They exist only for a devnet started on
this machine: the supervisor listens on 127.0.0.1 and obeys holders of
DIR/control.token.`,
		Example: `  citychain devnet ctl status
  citychain devnet ctl --dir /tmp/citynet stop node3
  citychain devnet ctl cut 1 && sleep 10 && citychain devnet ctl heal 1
  citychain devnet ctl split node0,node1 && sleep 10 && citychain devnet ctl heal all`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadControl(*dir)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			out := cmd.OutOrStdout()
			if args[0] == "status" {
				if len(args) != 1 {
					return fmt.Errorf("status takes no node")
				}
				v, err := c.status(ctx)
				if err != nil {
					return err
				}
				return g.printOut(out, v, func(w io.Writer) { printDevnetView(w, v) })
			}
			if len(args) != 2 {
				return fmt.Errorf("%s needs a node: citychain devnet ctl %s node1", args[0], args[0])
			}
			if !validAction(args[0]) && args[0] != "split" {
				return fmt.Errorf("unknown action %q; want status, split or one of %s", args[0], strings.Join(node.DevnetActions, ", "))
			}
			res, err := c.action(ctx, args[1], args[0])
			if err != nil {
				return err
			}
			return g.printOut(out, res, func(w io.Writer) { fmt.Fprintln(w, res.Message) })
		},
	}
}

func validAction(a string) bool {
	for _, x := range node.DevnetActions {
		if x == a {
			return true
		}
	}
	return false
}

// ctlClient talks to a devnet's supervisor.
type ctlClient struct {
	url, token string
	httpc      *http.Client
}

// loadControl finds the supervisor of the devnet in dir from devnet.json
// and the token file.
func loadControl(dir string) (*ctlClient, error) {
	b, err := os.ReadFile(filepath.Join(dir, node.DevnetFile))
	if err != nil {
		return nil, fmt.Errorf("no devnet in %s (%v); start one with: citychain devnet --dir %s", dir, err, dir)
	}
	var d node.Devnet
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, node.DevnetFile), err)
	}
	tok, err := os.ReadFile(filepath.Join(dir, node.ControlTokenFile))
	if d.Control == "" || err != nil {
		return nil, fmt.Errorf("the devnet in %s is not running under `citychain devnet` now; start it with: citychain devnet --dir %s", dir, dir)
	}
	return &ctlClient{url: d.Control, token: strings.TrimSpace(string(tok)), httpc: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (c *ctlClient) do(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("the devnet supervisor at %s does not answer (was `citychain devnet` stopped?): %w", c.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e node.APIError
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return errors.New(e.Error.Message)
		}
		return fmt.Errorf("supervisor: %s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

func (c *ctlClient) status(ctx context.Context) (node.DevnetView, error) {
	var v node.DevnetView
	err := c.do(ctx, http.MethodGet, "/v1/devnet", &v)
	return v, err
}

func (c *ctlClient) action(ctx context.Context, name, action string) (node.ActionResult, error) {
	var r node.ActionResult
	err := c.do(ctx, http.MethodPost, "/v1/devnet/nodes/"+url.PathEscape(name)+"/"+url.PathEscape(action), &r)
	return r, err
}

func printDevnetView(w io.Writer, v node.DevnetView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tPID\tHEIGHT\tLINKS\tAPI")
	for _, n := range v.Nodes {
		pid, height := "-", "-"
		if n.PID != 0 {
			pid = fmt.Sprint(n.PID)
		}
		if n.Reachable {
			height = fmt.Sprint(n.Height)
		}
		state := n.State
		if n.Exit != "" {
			state += " (" + n.Exit + ")"
		}
		links := strings.Join(n.Peers, ",")
		if links == "" {
			links = "-"
		}
		if n.Others > 0 {
			links += fmt.Sprintf(" +%d", n.Others)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, state, pid, height, links, n.API)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d links between %d nodes; chain %s in %s\n", len(v.Links), len(v.Nodes), v.ChainID, v.Dir)
}
