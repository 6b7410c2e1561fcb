package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/node"
)

// TestDevnetPrintoutWarnsTheKeysArePublic checks that devnet's table is
// followed by the warning that dev prints too: the funded keys are public.
func TestDevnetPrintoutWarnsTheKeysArePublic(t *testing.T) {
	d := &node.Devnet{ChainID: node.DevnetChainID}
	for i, name := range []string{"node0", "node1", "node2", "node3"} {
		d.Nodes = append(d.Nodes, node.DevnetNode{Name: name, PID: 100 + i, Home: filepath.Join("dir", name),
			API: "http://127.0.0.1:870" + string(rune('0'+i)), Validator: "city1x"})
	}
	var devnet, dev bytes.Buffer
	printDevnet(&devnet, d, "dir", true, time.Second)
	printDevBanner(&dev, "home", "http://127.0.0.1:8700", nil, true)

	out := devnet.String()
	for _, want := range []string{
		"\nWARNING: the dev0..dev9 keys in every keystore are published in the CityChain source. Anyone can spend\n",
		"\nfrom these accounts. Use them for local development only, never for value.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("devnet's printout lacks %q:\n%s", want, out)
		}
	}
	// The warning comes after the table, before the rest.
	if strings.Index(out, "WARNING") < strings.Index(out, "node3") || strings.Index(out, "WARNING") > strings.Index(out, "Fault tolerance") {
		t.Errorf("the warning is out of place:\n%s", out)
	}
	if !strings.Contains(dev.String(), "\n  WARNING: these keys are published in the CityChain source. Anyone can spend\n"+
		"  from these accounts. Use them for local development only, never for value.\n") {
		t.Errorf("dev's banner lost its warning:\n%s", dev.String())
	}
}

// TestDevnetRefusesAnotherBasePortForAnExistingFolder checks that a
// --base-port given for a folder whose devnet was made on other ports is
// an error naming both ports, before any node is started.
func TestDevnetRefusesAnotherBasePortForAnExistingFolder(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := node.PrepareDevnet(dir, 2, 19300, time.Now()); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"devnet", "--nodes", "2", "--dir", dir, "--base-port", "19400"})
	err := root.Execute()
	if err == nil {
		t.Fatal("devnet accepted --base-port 19400 for a folder made with 19300")
	}
	for _, want := range []string{"--base-port 19300", "--base-port 19400 cannot move it", "leave out --base-port", "another --dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, node.DevnetFile)); err == nil {
		t.Error("devnet.json was written: something started")
	}
}
