package node

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain/store"
	"github.com/citychain/citychain/node/keystore"
)

// A fresh devnet decides its first height in round 0: every node waits
// for its peers before the first round, and judges the messages of peers
// that were quicker to start instead of dropping them, so the first
// proposal reaches everyone in time. A start-up that loses the first
// proposal (a node proposing into a network that is not there yet, or
// ignoring what came early) shows here as a first commit in round 1 or
// later, however fast the machine.
func TestFreshDevnetDecidesHeightOneInRoundZero(t *testing.T) {
	if testing.Short() {
		t.Skip("starts libp2p hosts")
	}
	dir := t.TempDir()
	d, _, err := PrepareDevnet(dir, 4, freeBase(t, 4), time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*Node
	for _, nd := range d.Nodes { // one after the other, as the supervisor does
		nodes = append(nodes, startHome(t, nd.Home))
	}
	waitFor(t, 30*time.Second, "every node stores height 1", func() bool {
		for _, n := range nodes {
			if n.Store().Latest().Height < 1 {
				return false
			}
		}
		return true
	})
	first, err := nodes[0].Store().Block(1)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		b, err := n.Store().Block(1)
		if err != nil {
			t.Fatal(err)
		}
		if b.Hash() != first.Hash() {
			t.Fatalf("node%d stored another block 1", i)
		}
		c, err := n.Store().Commit(1)
		if err != nil {
			t.Fatal(err)
		}
		if c.Round != 0 {
			t.Errorf("node%d: height 1 was decided in round %d, want round 0", i, c.Round)
		}
	}
}

// The development keys are sealed once and copied into every home: the
// files of dev0..dev9 are the same bytes everywhere, each home's
// "validator" is its own key, and every key opens with the empty
// passphrase. Filling again changes nothing.
func TestFillDevKeystoresSealsEachDevKeyOnce(t *testing.T) {
	dir := t.TempDir()
	d, created, err := InitDevnet(dir, 3, 19950, time.Now())
	if err != nil || !created {
		t.Fatalf("created %v, err %v", created, err)
	}
	read := func(home, name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(home, KeystoreDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := 0; i < DevKeyCount; i++ {
		name := fmt.Sprintf("dev%d", i)
		want := read(d.Nodes[0].Home, name)
		for _, nd := range d.Nodes[1:] {
			if !bytes.Equal(read(nd.Home, name), want) {
				t.Errorf("%s of %s differs from node0's", name, nd.Name)
			}
		}
	}
	for i, nd := range d.Nodes {
		ks, err := keystore.Open(filepath.Join(nd.Home, KeystoreDir))
		if err != nil {
			t.Fatal(err)
		}
		k, err := ks.Load("dev3", "")
		if err != nil || !bytes.Equal(k.Bytes(), DevKey(3).Bytes()) {
			t.Fatalf("%s: dev3: %v", nd.Name, err)
		}
		v, err := ks.Load("validator", "")
		if err != nil || !bytes.Equal(v.Bytes(), DevValidatorKey(i).Bytes()) {
			t.Fatalf("%s: validator: %v", nd.Name, err)
		}
	}
	before := read(d.Nodes[2].Home, "dev0")
	if err := FillDevKeystores(d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(d.Nodes[2].Home, "dev0"), before) {
		t.Error("filling again rewrote a key")
	}
}

// A devnet folder remembers its base port: PrepareDevnet with another one
// resumes the saved ports, and CheckBasePort says so, naming both.
func TestDevnetCheckBasePort(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := PrepareDevnet(dir, 2, 19500, time.Now()); err != nil {
		t.Fatal(err)
	}
	d, created, err := PrepareDevnet(dir, 2, 19600, time.Now())
	if err != nil || created {
		t.Fatalf("resume: created %v, err %v", created, err)
	}
	if p, err := d.BasePort(); err != nil || p != 19500 {
		t.Fatalf("BasePort = %d, %v; want the saved 19500", p, err)
	}
	if err := d.CheckBasePort(dir, 19500); err != nil {
		t.Errorf("the saved port: %v", err)
	}
	err = d.CheckBasePort(dir, 19600)
	if err == nil {
		t.Fatal("another port accepted")
	}
	for _, want := range []string{dir, "--base-port 19500", "libp2p on 20500", "--base-port 19600 cannot move it", "start afresh on 19600"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := (&Devnet{}).BasePort(); err == nil {
		t.Error("BasePort of a devnet without nodes gave no error")
	}
	if _, err := (&Devnet{Nodes: []DevnetNode{{Name: "node0", API: "http://127.0.0.1"}}}).BasePort(); err == nil {
		t.Error("BasePort of an API address without a port gave no error")
	}
}

// The nodes of a new devnet have memtables of different sizes, none under
// the default, so that they do not all flush at once; every one of them
// fits blocks to the same bound.
func TestDevnetMemtablesDiffer(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := InitDevnet(dir, 5, 29500, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, home := range DevnetHomes(dir) {
		cfg, err := LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cfg.Store.MemtableMB)
	}
	def := store.DefaultMemTableSize >> 20
	if want := []int{def, def + 1, def + 2, def + 3, def}; !reflect.DeepEqual(got, want) {
		t.Fatalf("memtables of the five nodes %v MiB, want %v", got, want)
	}
}
