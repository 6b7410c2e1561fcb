package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
	"github.com/citychain/citychain/node/labs"
)

// The lab tests do each lab the way a student does: the lab's commands
// against real nodes, and `citychain lab check N` before (it must fail
// and say what is missing) and after (it must pass). Files the labs give
// a student (the EPCIS document, the block-checking program) are taken
// from the lab documents themselves, so a test fails when a document's
// copy stops working.

// labCheck runs citychain with args and returns what it printed
// (standard output and error) and its exit status.
func labCheck(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(citychainBin(t), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=", "LC_MESSAGES=", "LANG=C.UTF-8")
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("citychain %s: %v", strings.Join(args, " "), err)
	return "", 0
}

// mustFail checks that a lab check exits with status 1 and prints each of
// want (the step it lacks, and the hint).
func mustFail(t *testing.T, out string, code int, want ...string) {
	t.Helper()
	if code != 1 {
		t.Fatalf("lab check exited with %d, want 1 (not done):\n%s", code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("lab check does not say %q:\n%s", w, out)
		}
	}
}

func mustPass(t *testing.T, out string, code int, want ...string) {
	t.Helper()
	if code != 0 {
		t.Fatalf("lab check exited with %d, want 0 (done):\n%s", code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("lab check does not say %q:\n%s", w, out)
		}
	}
}

// labDoc reads a lab document of the repository.
func labDoc(t *testing.T, lang, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", lang, "labs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// heredoc returns the text a document's shell block writes into target
// with cat > target <<'EOF' ... EOF.
func heredoc(t *testing.T, doc, target string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)cat > ` + regexp.QuoteMeta(target) + ` <<'EOF'\n(.*?)\nEOF\n`)
	m := re.FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("the document writes no %s", target)
	}
	return m[1] + "\n"
}

// waitHeightAPI waits until the node at cl is at height h or more.
func waitHeightAPI(t *testing.T, cl *client.Client, h uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cl.Status(ctx)
		cancel()
		if err == nil && st.Height >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not reach height %d within %s", h, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nodeLabs returns the node's own view of the labs (GET /v1/labs).
func nodeLabs(t *testing.T, api string) node.LabsView {
	t.Helper()
	var v node.LabsView
	getJSONTest(t, api+"/v1/labs", &v)
	return v
}

func TestLabCheckRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lab", "check", "9"}, "the labs are 1 to 7"},
		{[]string{"lab", "check", "three"}, `lab "three": give the lab's number`},
		{[]string{"lab", "check", "1", "--lang", "fr"}, `--lang: language "fr": want en or zh`},
		{[]string{"lab", "list", "--lang", "de"}, `want en or zh`},
		{[]string{"lab", "check", "1", "--node", "http://127.0.0.1:1"}, "cannot reach node at http://127.0.0.1:1"},
	} {
		out, code := labCheck(t, nil, tc.args...)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("citychain %s: exit %d, want 1 and %q:\n%s", strings.Join(tc.args, " "), code, tc.want, out)
		}
	}
}

// TestLab1KeysAndTransfer follows lab 1 on a dev chain: a key of one's
// own, tokens from dev0, tokens sent back with the new key.
func TestLab1KeysAndTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	startDev(t, home, port)

	out, code := labCheck(t, nil, "lab", "check", "1", "--home", home, "--node", api)
	mustFail(t, out, code, "✗ a key of your own in the keystore", "only development keys", "hint: Create one: citychain keys new",
		"lab 1 is not done yet: 0 of 3 steps")
	// The locale picks Chinese, and --lang overrides it.
	out, code = labCheck(t, []string{"LANG=zh_CN.UTF-8"}, "lab", "check", "1", "--home", home, "--node", api)
	mustFail(t, out, code, "✗ 密钥库里有一把你自己的密钥", "提示：新建一把", "实验 1 尚未完成")
	out, code = labCheck(t, []string{"LANG=zh_CN.UTF-8"}, "lab", "check", "1", "--home", home, "--node", api, "--lang", "en")
	mustFail(t, out, code, "✗ a key of your own")

	pass := filepath.Join(t.TempDir(), "pass.txt")
	if err := os.WriteFile(pass, []byte("a passphrase for the lab only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var alice struct{ Address string }
	if err := json.Unmarshal([]byte(run(t, "keys", "new", "alice", "--home", home, "--passphrase-file", pass, "--output", "json")), &alice); err != nil {
		t.Fatal(err)
	}
	out, code = labCheck(t, nil, "lab", "check", "1", "--home", home, "--node", api)
	mustFail(t, out, code, "✓ a key of your own", "has a balance of 0", "✗ your account received tokens")

	run(t, "tx", "bank", "send", "--home", home, "--node", api, "--from", "dev0", "--to", alice.Address, "--amount", "10", "--wait")
	out, code = labCheck(t, nil, "lab", "check", "1", "--home", home, "--node", api)
	mustFail(t, out, code, "alice holds 10 tokens", "✗ a transfer signed with your key", "its nonce is 0")

	dev0 := node.DevAccounts()[0].Address.String()
	run(t, "tx", "bank", "send", "--home", home, "--node", api, "--from", "alice", "--passphrase-file", pass,
		"--to", dev0, "--amount", "3", "--wait")
	out, code = labCheck(t, nil, "lab", "check", "1", "--home", home, "--node", api)
	mustPass(t, out, code, "alice holds 7 tokens", "✓ a transfer signed with your key", "Lab 1 is done")

	out, code = labCheck(t, nil, "lab", "check", "1", "--home", home, "--node", api, "--output", "json")
	var v struct {
		Lab       int    `json:"lab"`
		Done      bool   `json:"done"`
		StepsDone int    `json:"steps_done"`
		Doc       string `json:"doc"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || !v.Done || v.StepsDone != 3 || v.Doc != "docs/en/labs/01-keys-and-transfer.md" {
		t.Errorf("--output json: %+v (%v), exit %d:\n%s", v, err, code, out)
	}

	// The node sees the transfer from a key that is not a development
	// key; the steps that need the keystore are left to the student.
	l1 := nodeLabs(t, api).Labs[0]
	if l1.Steps[0].State != labs.StateLocal || l1.Steps[2].State != labs.StateDone {
		t.Errorf("GET /v1/labs, lab 1: %+v", l1.Steps)
	}
	out = run(t, "lab", "list", "--home", home, "--node", api)
	if !regexp.MustCompile(`(?m)^1\s+done\s+Keys, accounts and a transfer$`).MatchString(out) {
		t.Errorf("lab list does not show lab 1 done:\n%s", out)
	}
}

// TestLab2VerifyBlock runs the Go program of lab 2, as the English and
// the Chinese document give it, against a dev chain, and hands its output
// to the check; and the Python variant where Python and its ecdsa
// package are installed.
func TestLab2VerifyBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	startDev(t, home, port)
	transfer(t, client.New(api), 0, 1, true) // a block with a transaction and a state change
	waitHeightAPI(t, client.New(api), 3, 30*time.Second)

	out, code := labCheck(t, nil, "lab", "check", "2", "--node", api)
	mustFail(t, out, code, "✗ your program's output", "no --answer given", "hint: Run the lab's program")
	out, code = labCheck(t, nil, "lab", "check", "2", "--node", api, "--answer", "block 2 hash "+strings.Repeat("ab", 32))
	mustFail(t, out, code, "✓ your program's output", "✗ the block hash you computed", "the chain's block 2 has another hash")

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	en := heredoc(t, labDoc(t, "en", "02-verify-a-block.md"), "/tmp/citylab/blockcheck.go")
	zh := heredoc(t, labDoc(t, "zh", "02-verify-a-block.md"), "/tmp/citylab/blockcheck.go")
	if en != zh {
		t.Errorf("the English and the Chinese lab 2 give different Go programs")
	}
	prog := filepath.Join(t.TempDir(), "blockcheck.go")
	if err := os.WriteFile(prog, []byte(en), 0o644); err != nil {
		t.Fatal(err)
	}
	// Run from the repository, as the lab says, so that Go finds the
	// secp256k1 package in CityChain's module.
	goRun := exec.Command("go", "run", prog, "-node", api, "2")
	goRun.Dir = root
	printed, err := goRun.CombinedOutput()
	if err != nil {
		t.Fatalf("go run blockcheck.go: %v\n%s", err, printed)
	}
	if bytes.Contains(printed, []byte("DIFFERS")) || bytes.Contains(printed, []byte("BAD")) {
		t.Errorf("the lab's program finds fault with a good block:\n%s", printed)
	}
	answer := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(answer, printed, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = labCheck(t, nil, "lab", "check", "2", "--node", api, "--answer", answer)
	mustPass(t, out, code, "✓ the block hash you computed", "✓ the link to the parent block", "✓ the commit signatures you verified")

	// The same output through a pipe, as --answer - reads it.
	cmd := exec.Command(citychainBin(t), "lab", "check", "2", "--node", api, "--answer", "-", "--lang", "zh")
	cmd.Stdin = bytes.NewReader(printed)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "实验 2 已完成") {
		t.Errorf("--answer -: %v\n%s", err, b)
	}

	// A tampered output: a signature line of a validator that did not sign.
	forged := string(printed) + "precommit " + node.DevAccounts()[5].Address.String() + " ok\n"
	out, code = labCheck(t, nil, "lab", "check", "2", "--node", api, "--answer", forged)
	mustFail(t, out, code, "✗ the commit signatures you verified", "did not sign block 2's commit")

	t.Run("python", func(t *testing.T) {
		py := pythonWithECDSA(t)
		script := filepath.Join(t.TempDir(), "blockcheck.py")
		src := heredoc(t, labDoc(t, "en", "02-verify-a-block.md"), "/tmp/citylab/blockcheck.py")
		if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		printed, err := exec.Command(py, script, "--node", api, "2").CombinedOutput()
		if err != nil {
			t.Fatalf("python3 blockcheck.py: %v\n%s", err, printed)
		}
		out, code := labCheck(t, nil, "lab", "check", "2", "--node", api, "--answer", string(printed))
		mustPass(t, out, code, "Lab 2 is done")
	})
}

// pythonWithECDSA returns a Python 3 that imports ecdsa. Without one the
// test is skipped on a laptop, but fails in CI, which installs Debian's
// python3-ecdsa.
func pythonWithECDSA(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if err := exec.Command(py, "-c", "import ecdsa").Run(); err == nil {
			return py
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no python3 with the ecdsa package; CI must install Debian's python3-ecdsa")
	}
	t.Skip("no python3 with the ecdsa package (pip install ecdsa, or apt install python3-ecdsa)")
	return ""
}

// TestLab3Consensus stops one validator of a 4-node devnet, then a
// second, brings them back, and checks that the lab's check reads the
// whole story from the chain. About 50 s.
func TestLab3Consensus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	api := d.net.Nodes[0].API
	cl := d.nodes[0]

	out, code := labCheck(t, nil, "lab", "check", "3", "--node", api)
	mustFail(t, out, code, "✓ a network of four validators or more", "4 validators: a block needs 3 precommits",
		"✗ one validator down: the chain goes on", "hint: Stop one validator")

	if out, ok := d.ctl(t, "stop", "node3"); !ok {
		t.Fatalf("stop node3: %s", out)
	}
	for range 8 {
		transfer(t, cl, 1, 1, true)
	}
	out, code = labCheck(t, nil, "lab", "check", "3", "--node", api)
	mustFail(t, out, code, "✓ one validator down: the chain goes on", "were committed without", "✗ two down")

	if out, ok := d.ctl(t, "stop", "node2"); !ok {
		t.Fatalf("stop node2: %s", out)
	}
	halted := d.height(0)
	time.Sleep(14 * time.Second)
	if h := d.height(0); h > halted+1 {
		t.Fatalf("two of four validators down, yet the chain went from %d to %d", halted, h)
	}
	if out, ok := d.ctl(t, "start", "node2"); !ok {
		t.Fatalf("start node2: %s", out)
	}
	transfer(t, cl, 1, 1, true)
	if out, ok := d.ctl(t, "start", "node3"); !ok {
		t.Fatalf("start node3: %s", out)
	}
	d.waitAPI(t, 3, 30*time.Second)

	deadline := time.Now().Add(40 * time.Second)
	for {
		for range 3 {
			transfer(t, cl, 1, 1, true)
		}
		out, code = labCheck(t, nil, "lab", "check", "3", "--node", api)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab 3 not done after every validator came back:\n%s", out)
		}
	}
	mustPass(t, out, code, "✓ two down: the chain halts, and resumes when one returns", "✓ every validator signs again")
	d.checkSameChain(t, 0, 1, 2, 3)

	// Each node judges from the commit certificates it stored, and any
	// three of the four precommits make one: node1's certificates of the
	// last heights may all lack node3 when node0's have it. So node1 gets
	// the same few more blocks node0 may have needed.
	deadline = time.Now().Add(30 * time.Second)
	for {
		l3 := nodeLabs(t, d.net.Nodes[1].API).Labs[2]
		if l3.Done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/labs of node1: lab 3 not done: %+v", l3.Steps)
		}
		transfer(t, cl, 1, 1, true)
	}
}

// TestLab4Trace captures the lab's EPCIS document (taken from the lab)
// on a dev chain and follows the batch the way the lab does.
func TestLab4Trace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	startDev(t, home, port)

	out, code := labCheck(t, nil, "lab", "check", "4", "--node", api, "--answer", "urn:epc:id:sgln:9523333.00002.0")
	mustFail(t, out, code, "✗ the batch's events are on the chain", "no event names "+labs.Lab4Batch, "citychain tx trace capture")

	doc := filepath.Join(t.TempDir(), "tea.json")
	if err := os.WriteFile(doc, []byte(heredoc(t, labDoc(t, "en", "04-trace-a-batch.md"), "/tmp/citylab/tea.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "tx", "trace", "capture", doc, "--home", home, "--node", api, "--from", "dev0", "--wait")

	out, code = labCheck(t, nil, "lab", "check", "4", "--node", api)
	mustFail(t, out, code, "✓ the batch went into products", "3 product(s)", "✓ the products arrived somewhere", "no --answer given")
	// The first case received went to the other shop.
	out, code = labCheck(t, nil, "lab", "check", "4", "--node", api, "--answer", "urn:epc:id:sgln:9523333.00001.0", "--lang", "zh")
	mustFail(t, out, code, "✗ 你的答案：这批货去了哪里", "不是这批货的去向")

	// The lab's way: the packet's state names its case, the case's state
	// where it was received.
	var packet, box struct {
		State struct {
			Container   string `json:"container"`
			BizLocation string `json:"biz_location"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(run(t, "query", "trace", "state", "urn:epc:id:sgtin:9521111.054321.P701", "--node", api, "-o", "json")), &packet); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(run(t, "query", "trace", "state", packet.State.Container, "--node", api, "-o", "json")), &box); err != nil {
		t.Fatal(err)
	}
	out, code = labCheck(t, nil, "lab", "check", "4", "--node", api, "--answer", box.State.BizLocation)
	mustPass(t, out, code, "yes: the batch's products were received at "+box.State.BizLocation)
	out, code = labCheck(t, nil, "lab", "check", "4", "--node", api, "--answer", "urn:epc:id:sgln:9523333.00002.0")
	mustPass(t, out, code, "Lab 4 is done")

	// The node never names the place: that is the student's answer.
	raw, err := json.Marshal(nodeLabs(t, api).Labs[3])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "9523333") {
		t.Errorf("GET /v1/labs gives lab 4's answer away: %s", raw)
	}
}

// TestLab5Certificate registers a file, writes its certificate, and has
// the check verify it; a certificate of another chain of the same name
// verifies offline but is refused as this chain's.
func TestLab5Certificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	startDev(t, home, port)
	dir := t.TempDir()
	poem := filepath.Join(dir, "poem.txt")
	if err := os.WriteFile(poem, []byte("Morning fog over the river,\nthe first tram hums across the bridge.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "poem-cert.json")

	out, code := labCheck(t, nil, "lab", "check", "5", "--node", api, "--cert", cert)
	mustFail(t, out, code, "✗ a work registered on this chain", "✗ a certificate that verifies offline", "cannot read the certificate")

	run(t, "tx", "copyright", "register", poem, "--title", "Morning tram", "--creator", "A student", "--license", "CC-BY-4.0",
		"--home", home, "--node", api, "--from", "dev1", "--wait")
	out, code = labCheck(t, nil, "lab", "check", "5", "--node", api)
	mustFail(t, out, code, "✓ a work registered on this chain", "✗ a certificate that verifies offline", "no --cert given")

	run(t, "query", "copyright", "verify", poem, "--cert", cert, "--node", api)
	out, code = labCheck(t, nil, "lab", "check", "5", "--node", api, "--cert", cert)
	mustPass(t, out, code, `"Morning tram" is registered at height`, "✓ the certificate belongs to this chain", "Lab 5 is done")

	// A forged copy fails offline.
	b, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(dir, "forged.json")
	if err := os.WriteFile(forged, bytes.Replace(b, []byte(`"title": "Morning tram"`), []byte(`"title": "Evening tram"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = labCheck(t, nil, "lab", "check", "5", "--node", api, "--cert", forged)
	mustFail(t, out, code, "✗ a certificate that verifies offline", "citychain verify refused it")

	// Another dev chain, the same chain id, the same file: the
	// certificate verifies offline, but its block is not this chain's.
	home2 := t.TempDir()
	port2 := freePort(t)
	api2 := fmt.Sprintf("http://127.0.0.1:%d", port2)
	startDev(t, home2, port2)
	transfer(t, client.New(api2), 2, 1, true) // another history than the first chain's
	run(t, "tx", "copyright", "register", poem, "--creator", "Someone else", "--license", "CC0-1.0",
		"--home", home2, "--node", api2, "--from", "dev1", "--wait")
	other := filepath.Join(dir, "other-cert.json")
	run(t, "query", "copyright", "verify", poem, "--cert", other, "--node", api2)
	out, code = labCheck(t, nil, "lab", "check", "5", "--node", api, "--cert", other)
	mustFail(t, out, code, "✓ a certificate that verifies offline", "✗ the certificate belongs to this chain", "another chain with the same name")
}

// TestLab6AddValidator has a fifth node join a 4-node devnet as a full
// node, three validators vote it in, and the check waits for its first
// signature. About 40 s.
func TestLab6AddValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	d := startDevnet(t, 4)
	api := d.net.Nodes[0].API
	out, code := labCheck(t, nil, "lab", "check", "6", "--node", api)
	mustFail(t, out, code, "✗ a proposal to add a validator", "no proposal to add a validator yet", "citychain tx poa propose")

	joinFullNode(t, d) // node index 4
	vk, err := node.LoadValidatorKey(filepath.Join(d.net.Nodes[4].Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	addr := chain.AddressOf(vk.PublicKey()).String()
	pub := hex.EncodeToString(vk.PublicKey().Bytes())
	vote := func(i int) {
		run(t, "tx", "poa", "propose", "--home", d.net.Nodes[i].Home, "--node", d.net.Nodes[i].API, "--from", "validator",
			"--add", addr, "--pubkey", pub, "--wait")
	}
	vote(0)
	vote(1)
	out, code = labCheck(t, nil, "lab", "check", "6", "--node", api)
	mustFail(t, out, code, "✓ a proposal to add a validator", "(2 vote(s))", "✗ the vote passed", "not yet more than 2/3")
	vote(2)

	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		out, code = labCheck(t, nil, "lab", "check", "6", "--node", api)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab 6 not done within 60 s of the third vote:\n%s", out)
		}
		transfer(t, d.nodes[i%3], i%3, 1, true)
	}
	mustPass(t, out, code, "decided at height", "is one of 5 validators", "✓ the newcomer signs blocks")
}

// TestLab7OwnModule checks lab 7's check against a real chain, where it
// must fail (only the built-in modules), and against a node whose API is
// that of a chain running a module "parking": a proxy in front of the
// real node lists the module and shows a committed transaction of it.
// Building a scaffolded module into a binary takes minutes on a busy
// machine; TestLab7ScaffoldedModule does it with -args -labs-long.
func TestLab7OwnModule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	home := t.TempDir()
	port := freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	startDev(t, home, port)
	transfer(t, client.New(api), 0, 1, true)

	out, code := labCheck(t, nil, "lab", "check", "7", "--node", api)
	mustFail(t, out, code, "✗ the network runs a module of your own", "citychain scaffold module")
	out, code = labCheck(t, nil, "lab", "check", "7", "--node", api, "--module", "parking")
	mustFail(t, out, code, "the node does not run a module parking")
	l7 := nodeLabs(t, api).Labs[6]
	if l7.Done || l7.Steps[0].State != labs.StateTodo {
		t.Errorf("GET /v1/labs: lab 7 on a chain of built-in modules: %+v", l7.Steps)
	}

	proxy := parkingProxy(t, api)
	out, code = labCheck(t, nil, "lab", "check", "7", "--node", proxy, "--module", "parking")
	mustPass(t, out, code, "✓ the network runs a module of your own", "the node runs module parking",
		"✓ a transaction of your module was committed", "Lab 7 is done")
}
