package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/consensus"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// How the fault matrix brings its faults about, and the checks that are
// a fault's own (the guard of a wiped validator, the evidence against a
// twin key, a clean stop on a full disk). faults_e2e_test.go runs them.

// skewed restarts node i with its clock moved by skew for a while, then
// restarts it with the right clock. It checks that block times never go
// backwards and that the chain goes on meanwhile.
func (f *faultRun) skewed(t *testing.T, i int, skew string) time.Duration {
	t.Helper()
	t0 := time.Now()
	f.ctl(t, "stop", fmt.Sprint(i))
	f.crash(i)
	p := f.d.startNodeEnv(t, i, node.EnvClockSkew+"="+skew)
	// Long enough for the skewed node to propose at least once (a round
	// robin of four) and to vote on the others' blocks.
	f.progress(t, 8, f.others(i)...)
	f.d.waitHeight(t, f.d.height(0)-1, recoverWithin, i)
	p.kill()
	f.ctl(t, "start", fmt.Sprint(i))
	return time.Since(t0)
}

// twin starts a second process with node i's validator key: a copy of
// its home with its own data, peer key, ports and an empty double-sign
// guard, so the two sign independently.
func (f *faultRun) twin(t *testing.T, i int) (*proc, *client.Client) {
	t.Helper()
	src := f.d.net.Nodes[i].Home
	home := filepath.Join(t.TempDir(), "twin")
	port := freeBasePort(t, 1)
	run(t, "init", "--home", home, "--moniker", "twin", "--base-port", fmt.Sprint(port),
		"--genesis", filepath.Join(src, node.GenesisFile), "--bootstrap", f.d.net.Nodes[(i+1)%4].P2P)
	for _, name := range []string{"validator_key.json", "keystore"} {
		if err := os.RemoveAll(filepath.Join(home, name)); err != nil {
			t.Fatal(err)
		}
		if err := copyTree(filepath.Join(src, name), filepath.Join(home, name)); err != nil {
			t.Fatalf("copy %s: %v", name, err)
		}
	}
	p := startProc(t, port, "node", "--home", home)
	return p, client.New(fmt.Sprintf("http://127.0.0.1:%d", port))
}

// smallDisk puts node i's data folder on a small disk of its own (a
// 256 MiB tmpfs, so it needs root) and makes the node keep 64 MiB of it
// free.
func (f *faultRun) smallDisk(t *testing.T, i int) {
	t.Helper()
	if os.Geteuid() != 0 {
		f.skip(t, "a full disk is made with a tmpfs mount, which needs root")
	}
	// Root in a container may still be refused mounts: try one first,
	// before anything of the node is touched.
	probe := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe).CombinedOutput(); err != nil {
		f.skip(t, fmt.Sprintf("this machine refuses tmpfs mounts even to root (%v %s)", err, bytes.TrimSpace(out)))
	}
	if out, err := exec.Command("umount", probe).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v %s", probe, err, bytes.TrimSpace(out))
	}
	name := fmt.Sprint(i)
	home := f.d.net.Nodes[i].Home
	data := filepath.Join(home, node.DataDir)
	f.ctl(t, "stop", name)
	moved := data + ".moved"
	if err := os.Rename(data, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// Mounts work here (the probe above), and the node is stopped with its
	// data moved aside: a mount that fails now is a failure.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Fatalf("running as root (uid %d), cannot mount a tmpfs for the full disk: %v %s", os.Geteuid(), err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", data).Run() })
	if err := copyTree(moved, data); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil || !strings.Contains(string(cfg), "min_free_mb = 0") {
		t.Fatalf("config.toml has no min_free_mb = 0 to change (%v)", err)
	}
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), "min_free_mb = 0", "min_free_mb = 64", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	f.ctl(t, "start", name)
	f.d.waitHeight(t, f.d.height(0), recoverWithin, i)
}

// fillDisk fills node i's small disk under load and checks that the node
// stops cleanly, that a start on the full disk waits, and that the node
// carries on once space is back. The stop is not a crash: whatever the
// node accepted before it stopped must reach the chain.
func (f *faultRun) fillDisk(t *testing.T, i int) time.Duration {
	t.Helper()
	name := fmt.Sprint(i)
	home := f.d.net.Nodes[i].Home
	data := filepath.Join(home, node.DataDir)
	t0 := time.Now()
	free, err := node.FreeMB(data)
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(data, "filler")
	if out, err := exec.Command("fallocate", "-l", fmt.Sprintf("%dM", free-40), filler).CombinedOutput(); err != nil {
		t.Fatalf("fallocate: %v %s", err, out)
	}
	// The node stops by itself, cleanly, while the others go on.
	f.at("a clean stop on a full disk")
	f.d.waitView(t, "node"+name+" stopped by the full disk", 10*time.Second, func(v node.DevnetView) bool {
		return state(v, "node"+name).State == "exited"
	})
	f.progress(t, 2, f.others(i)...)
	logPath := filepath.Join(home, "node.log")
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "stopping cleanly before the store runs out of space") {
		f.fail(t, "a clean stop on a full disk", "node%s's log does not say why it stopped", name)
	}
	// Started on the full disk, it waits for space rather than open
	// its store; once space is back it starts and catches up.
	f.ctl(t, "start", name)
	time.Sleep(2 * time.Second)
	f.at("a start on a full disk waits")
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "waiting for disk space") {
		f.fail(t, "a start on a full disk waits", "node%s started on a full disk without waiting for space", name)
	}
	if h := f.d.height(i); h != 0 {
		f.fail(t, "a start on a full disk waits", "node%s serves its API (height %d) on a full disk", name, h)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	f.at("a start once space is back")
	f.d.waitHeight(t, f.d.height(0), recoverWithin, i)
	return time.Since(t0)
}

// readGuard reads a validator's double-sign guard file.
func readGuard(t *testing.T, home string) []byte {
	t.Helper()
	b, err := node.ReadVault(home, node.SignStateFile)
	if err != nil {
		t.Fatalf("the validator's double-sign guard: %v", err)
	}
	if _, err := consensus.DecodeDoubleSignGuard(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// guardHolds checks node i's double-sign guard after its data folder was
// wiped. The guard lives in the home, beside the data folder, so the wipe
// must leave it as it was (before). Then the node is started cut off from
// everyone (no bootstrap peers, libp2p on ports nobody dials), with an
// empty chain: it starts at height 1 and, alone, times out round after
// round, asking its signer for votes far below what it signed before the
// wipe. The guard must refuse every one of them and stay as it was; a
// guard lost or reset would sign them, and a validator that does so
// while its peers are at the same heights equivocates.
func (f *faultRun) guardHolds(t *testing.T, i int, before []byte) {
	t.Helper()
	const check = "the wiped validator's guard holds"
	home := f.d.net.Nodes[i].Home
	if b, err := node.ReadVault(home, node.SignStateFile); err != nil || !bytes.Equal(b, before) {
		f.fail(t, check, "the wipe of %s took the double-sign guard with it (%v)", node.DataDir, err)
	}
	g, _ := consensus.DecodeDoubleSignGuard(before)
	cfgPath := filepath.Join(home, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.WriteFile(cfgPath, orig, 0o600); err != nil {
			t.Errorf("restore %s: %v", cfgPath, err)
		}
	}()
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	port := freeBasePort(t, 1) + 1000
	cfg.P2P.Bootstrap = nil
	cfg.P2P.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	if err := cfg.Save(home); err != nil {
		t.Fatal(err)
	}
	p := f.d.startNodeEnv(t, i)
	refused := false
	for deadline := time.Now().Add(20 * time.Second); !refused && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		refused = strings.Contains(p.output(), "refused to sign")
	}
	p.kill()
	if after, err := node.ReadVault(home, node.SignStateFile); err != nil || !bytes.Equal(after, before) {
		got := "unreadable"
		if g2, err := consensus.DecodeDoubleSignGuard(after); err == nil {
			got = fmt.Sprintf("a prevote at height %d and a precommit at height %d", g2.Prevote.Height, g2.Precommit.Height)
		}
		f.fail(t, check, "alone on a wiped folder, node%d signed again below its last precommit at height %d: its guard now holds %s (%v)",
			i, g.Precommit.Height, got, err)
	}
	if !refused {
		f.fail(t, check, "alone on a wiped folder, node%d never asked to sign within 20 s, so its guard was not put to the test:\n%s", i, p.output())
	}
}

// signsAgain checks that node i, back after a wipe, takes its place
// again: its precommit is in the commit of a block above height from
// within recoverWithin.
func (f *faultRun) signsAgain(t *testing.T, i int, from uint64) {
	t.Helper()
	v, err := chain.ParseAddress(f.d.net.Nodes[i].Validator)
	if err != nil {
		t.Fatal(err)
	}
	next := from + 1
	for deadline := time.Now().Add(recoverWithin); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for ; next <= f.d.height(0); next++ {
			if signedBy(t, f.d, next, v) {
				return
			}
		}
	}
	f.fail(t, "the wiped validator signs again", "node%d's precommit is in no commit of heights %d to %d", i, from+1, next-1)
}

// evidenceAgainst waits until a block of node0's chain above height from
// carries evidence against offender, and logs it.
func (f *faultRun) evidenceAgainst(t *testing.T, offender chain.Address, from uint64, limit time.Duration) {
	t.Helper()
	const check = "evidence against the twin key committed"
	f.at(check)
	ctx := context.Background()
	next := from + 1
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for ; next <= f.d.height(0); next++ {
			b, err := f.d.nodes[0].Block(ctx, fmt.Sprint(next))
			if err != nil {
				t.Fatalf("node0 block %d: %v", next, err)
			}
			for _, ev := range b.Evidence {
				if ev.Offender == offender {
					t.Logf("block %d carries %s evidence against %s (offence at %d/%d)", next, ev.Kind, offender, ev.Height, ev.Round)
					return
				}
			}
		}
	}
	f.fail(t, check, "no block from height %d to %d carries evidence against %s, which signed in two processes for %s", from+1, next-1, offender, limit)
}

// removed waits until node0's validator set no longer lists v.
func (f *faultRun) removed(t *testing.T, v chain.Address, limit time.Duration) {
	t.Helper()
	const check = "the twin key removed by its evidence"
	f.at(check)
	for deadline := time.Now().Add(limit); ; time.Sleep(500 * time.Millisecond) {
		var vv node.ValidatorsView
		err := f.d.nodes[0].Get(context.Background(), "/v1/validators", &vv)
		if err == nil && !slices.ContainsFunc(vv.Validators, func(x chain.Validator) bool { return x.Address == v }) {
			return
		}
		if time.Now().After(deadline) {
			f.fail(t, check, "%s is still a validator %s after the evidence against it (%v)", v, limit, err)
		}
	}
}

// sameAsTwin checks that the twin process committed the same block as
// node0 at every height both have: two processes with one key must not
// have led any node to commit a second block for a height.
func (f *faultRun) sameAsTwin(t *testing.T, cl *client.Client) {
	t.Helper()
	const check = "no height with two blocks"
	f.at(check)
	ctx := context.Background()
	st, err := cl.Status(ctx)
	if err != nil {
		t.Fatalf("the twin's status: %v", err)
	}
	top := min(st.Height, f.d.height(0))
	for h := uint64(1); h <= top; h++ {
		a, err := f.d.nodes[0].Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("node0 block %d: %v", h, err)
		}
		b, err := cl.Block(ctx, fmt.Sprint(h))
		if err != nil {
			t.Fatalf("the twin's block %d: %v", h, err)
		}
		if a.Hash != b.Hash || a.StateRoot != b.StateRoot {
			f.fail(t, check, "FORK at height %d: node0 has %s/%s, the twin %s/%s", h, a.Hash, a.StateRoot, b.Hash, b.StateRoot)
		}
	}
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
}

// startNodeEnv starts node i of the devnet outside its supervisor, with
// extra environment variables; the test's cleanup kills it.
func (d *devnetProc) startNodeEnv(t testing.TB, i int, env ...string) *proc {
	t.Helper()
	api := d.net.Nodes[i].API
	port := 0
	if _, err := fmt.Sscanf(api[strings.LastIndex(api, ":")+1:], "%d", &port); err != nil {
		t.Fatalf("api %q: %v", api, err)
	}
	p := startProcEnv(t, port, env, "node", "--home", d.net.Nodes[i].Home)
	return p
}
