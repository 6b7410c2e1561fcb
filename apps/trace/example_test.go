package trace_test

import (
	"fmt"

	"github.com/citychain/citychain/apps/trace"
)

// An EPC URI and a GS1 Digital Link of the same packet have one key.
func ExampleParseEPC() {
	urn, _ := trace.ParseEPC("urn:epc:id:sgtin:9521111.054321.P1001")
	link, _ := trace.ParseEPC("https://shop.example/01/09521111543213/21/P1001?linkType=all")
	fmt.Println(urn.Key)
	fmt.Println(link.Key == urn.Key, urn.Prefix, link.Digits)
	// Output:
	// https://id.gs1.org/01/09521111543213/21/P1001
	// true 9521111 952111154321
}

// CBV words may be written bare, as URNs or as web URIs.
func ExampleBizSteps() {
	for _, s := range []string{"shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ns.gs1.org/cbv/BizStep-shipping", "shiping"} {
		w, err := trace.BizSteps.Normalize(s)
		fmt.Println(w, err)
	}
	// Output:
	// shipping <nil>
	// shipping <nil>
	// shipping <nil>
	//  "shiping" is not a standard CBV 2.0 bizStep (did you mean "shipping"?), nor a user-defined URI
}
