package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/citychain/citychain/apps/copyright"
	"github.com/citychain/citychain/apps/trace"
)

// Identifiers of the story, unique per run: GS1 prefix 9521111 (a demo
// prefix), the farm and the factory as SGLN locations.
func (d *demo) epc(item, serial string) string {
	return fmt.Sprintf("urn:epc:id:sgtin:9521111.%s.%s%s", item, serial, d.run_)
}

const (
	demoFarm    = "urn:epc:id:sgln:9521111.00001.0"
	demoFactory = "urn:epc:id:sgln:9521111.00002.0"
)

// traceDocument is the cooperative's EPCIS 2.0 document for this run:
// two sacks of leaves commissioned at the farm, turned into two packets at
// the factory, packed into a case, and the case shipped.
func (d *demo) traceDocument(now time.Time) []byte {
	ts := func(m int) string { return now.Add(time.Duration(m) * time.Minute).UTC().Format(time.RFC3339) }
	sack1, sack2 := d.epc("012345", "S1-"), d.epc("012345", "S2-")
	pack1, pack2 := d.epc("054321", "P1-"), d.epc("054321", "P2-")
	caseID := fmt.Sprintf("urn:epc:id:sscc:9521111.0%09s", d.run_)
	events := []map[string]any{
		{"type": "ObjectEvent", "eventTime": ts(0), "eventTimeZoneOffset": "+08:00", "action": "ADD",
			"epcList": []string{sack1, sack2}, "bizStep": "commissioning", "disposition": "active",
			"readPoint": map[string]any{"id": demoFarm}, "bizLocation": map[string]any{"id": demoFarm}},
		{"type": "TransformationEvent", "eventTime": ts(60), "eventTimeZoneOffset": "+08:00",
			"inputEPCList": []string{sack1, sack2}, "outputEPCList": []string{pack1, pack2},
			"bizStep": "commissioning", "disposition": "active",
			"readPoint": map[string]any{"id": demoFactory}, "bizLocation": map[string]any{"id": demoFactory}},
		{"type": "AggregationEvent", "eventTime": ts(90), "eventTimeZoneOffset": "+08:00", "action": "ADD",
			"parentID": caseID, "childEPCs": []string{pack1, pack2}, "bizStep": "packing", "disposition": "in_progress",
			"readPoint": map[string]any{"id": demoFactory}, "bizLocation": map[string]any{"id": demoFactory}},
		{"type": "ObjectEvent", "eventTime": ts(120), "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
			"epcList": []string{caseID}, "bizStep": "shipping", "disposition": "in_transit",
			"readPoint": map[string]any{"id": demoFactory}},
	}
	doc := map[string]any{
		"@context":      []string{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"},
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  ts(121),
		"epcisBody":     map[string]any{"eventList": events},
	}
	b, _ := json.Marshal(doc)
	return b
}

func (d *demo) traceStory() error {
	d.stage("Harvest and processing: traceability with GS1 EPCIS 2.0",
		`The tea cooperative records what happens to its tea as EPCIS 2.0 events, the
		standard of the GS1 supply-chain world: sacks of leaves commissioned at the farm,
		turned into packets at the factory (a transformation), packed into a case (an
		aggregation), and the case shipped. City hall (dev0) is the demo administrator
		that may speak for every GS1 prefix and location.`)
	doc, err := trace.ParseDocument(d.traceDocument(time.Now()))
	if err != nil {
		return err
	}
	batches, err := doc.Batches(0)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if _, err := d.send(actorCityHall, trace.Name, trace.ActionCapture, b); err != nil {
			return err
		}
	}
	pack := d.epc("054321", "P1-")
	var prov map[string]any
	if err := d.get("/v1/apps/trace/epcs/"+pack+"/provenance", &prov); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   The packet %s was made from two sacks and packed in a case:\n", pack)
	fmt.Fprintf(d.out, "   provenance: %d upstream links\n", countLinks(prov["upstream"]))
	d.link("packet provenance", "/v1/apps/trace/epcs/"+pack+"/provenance")
	d.page("the packet, with its QR code", "#/trace/"+pack)
	return nil
}

func countLinks(v any) int {
	list, ok := v.([]any)
	if !ok {
		if m, ok := v.(map[string]any); ok {
			n := 0
			for _, c := range m {
				n += countLinks(c)
			}
			return n
		}
		return 0
	}
	n := len(list)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			for _, c := range m {
				n += countLinks(c)
			}
		}
	}
	return n
}

// designFile is the cooperative's packaging design for this run: an SVG.
func (d *demo) designFile() []byte {
	return []byte(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="400" height="240">
<rect width="400" height="240" fill="#e8f3e0"/><circle cx="80" cy="120" r="50" fill="#4c8c2b"/>
<text x="150" y="110" font-size="28" fill="#24401a">Mountain Green Tea</text>
<text x="150" y="150" font-size="16" fill="#24401a">Tea Cooperative, harvest %s</text></svg>
`, d.run_))
}

func (d *demo) copyrightStory() error {
	d.stage("The packaging design: copyright registration with ISCC codes",
		`The cooperative registers its packaging design. The file never goes on chain:
		only its fingerprints do, a SHA-256, an ISCC Instance-Code (BLAKE3) and an ISCC
		Data-Code that stays close for near-identical files (ISO 24138). First to file
		wins; anyone can later prove who registered it and when.`)
	fp, err := copyright.Fingerprint(bytesReader(d.designFile()))
	if err != nil {
		return err
	}
	reg := copyright.Register{SHA256: fp.SHA256, InstanceCode: fp.InstanceCode, DataCode: fp.DataCode, Size: fp.Size,
		Title: "Mountain Green Tea packaging " + d.run_, Creator: "Tea Cooperative", MediaType: "image/svg+xml", License: "CC-BY-NC-4.0"}
	if _, err := d.send(actorCoop, copyright.Name, copyright.ActionRegister, reg); err != nil {
		return err
	}
	var ans copyright.VerifyAnswer
	if err := d.get("/v1/apps/copyright/verify/"+fp.SHA256, &ans); err != nil {
		return err
	}
	sum := sha256.Sum256(d.designFile())
	fmt.Fprintf(d.out, "   work %s\n   registered at height %d; the answer carries a Merkle proof of it (sha256 %x…)\n",
		fp.InstanceCode, ans.Proof.Height, sum[:6])
	d.link("design registration", "/v1/apps/copyright/verify/"+fp.SHA256)
	// A copy of the file to drop on the explorer's verify page, which
	// hashes it in the browser.
	path := filepath.Join(os.TempDir(), "citychain-design-"+d.run_+".svg")
	if err := os.WriteFile(path, d.designFile(), 0o644); err == nil {
		d.page("check the design: drop "+filepath.Base(path), "#/verify")
		fmt.Fprintf(d.out, "   the design file, to check on the explorer's Verify page: %s\n", path)
	}
	return nil
}
