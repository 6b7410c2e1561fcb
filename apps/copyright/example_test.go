package copyright_test

import (
	"fmt"
	"strings"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
)

// A client computes a file's fingerprints; the registry sees only these.
func ExampleFingerprint() {
	fp, err := copyright.Fingerprint(strings.NewReader("A poem about the harbour at dawn.\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(fp.InstanceCode)
	fmt.Println(fp.DataCode)
	fmt.Println(fp.SHA256)
	fmt.Println(fp.Size)
	// Output:
	// ISCC:IAD35ZYJNWZGFXEUDOUIWB6QBLXC253BAEW2XDMTWEOMI627QSWE7QY
	// ISCC:GAAR6SN7J3EH4PVH
	// 95a40f66d203c87940dc4be8012424511c36f37680ce155c2b8072a7f8ace937
	// 34
}

// Alice files a poem; Bob's copy of it is refused, the first to file wins.
func Example() {
	c, _ := chaintest.New([]chain.App{copyright.New()}, map[string]any{copyright.Name: copyright.DefaultGenesis()})
	fp, _ := copyright.Fingerprint(strings.NewReader("A poem about the harbour at dawn.\n"))
	poem := copyright.Register{SHA256: fp.SHA256, InstanceCode: fp.InstanceCode, DataCode: fp.DataCode, Size: fp.Size,
		Title: "Harbour at dawn", Creator: "Ada Ruiz", MediaType: "text/plain", License: "CC-BY-4.0"}

	if _, err := c.Do(chaintest.Key("alice"), copyright.Name, copyright.ActionRegister, poem); err != nil {
		panic(err)
	}
	_, err := c.Do(chaintest.Key("bob"), copyright.Name, copyright.ActionRegister, poem)
	fmt.Println("bob:", err != nil && strings.Contains(err.Error(), "already registered"))

	a, _ := c.Query(copyright.Name, "work/"+fp.InstanceCode, nil)
	w := a.(*copyright.WorkAnswer).Work
	fmt.Println("holder is alice:", w.Holder == chaintest.Addr("alice"))
	fmt.Println("registered at height", w.Height, "on", w.Time)
	// Output:
	// bob: true
	// holder is alice: true
	// registered at height 1 on 2026-01-01T08:00:01.000Z
}
