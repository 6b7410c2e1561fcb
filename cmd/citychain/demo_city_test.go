package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citychain/citychain/apps/city"
	"github.com/citychain/citychain/apps/city/sdmtest"
	"github.com/citychain/citychain/chain"
	"github.com/citychain/citychain/chain/chaintest"
	"github.com/citychain/citychain/node"
	"github.com/citychain/citychain/node/client"
)

// TestDemoDistrictConformsToSmartDataModels registers the demo's
// district as the demo does, on a test chain, and checks the NGSI-LD
// exports of its devices against the official Smart Data Models schemas,
// in both forms, before and after the van's readings.
func TestDemoDistrictConformsToSmartDataModels(t *testing.T) {
	cityHall := chaintest.Key("city hall")
	c, err := chaintest.New([]chain.App{city.New()}, map[string]any{city.Name: city.DevGenesis(chaintest.Addr("city hall"))})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sdmtest.New(sdmtest.Dir(), nil, sdmtest.Extensions...)
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{run_: "000042", chainID: chaintest.ChainID}
	devs := d.districtDevices()
	var ids []string
	for _, dev := range devs {
		reg := dev.registration(chaintest.Addr("city hall"))
		if _, err := c.Do(cityHall, city.Name, city.ActionRegister, &reg); err != nil {
			t.Fatalf("register %s: %v", dev.id, err)
		}
		ids = append(ids, dev.id)
	}
	if n := ch.Devices(t, c, ids...); n != 2*len(devs) {
		t.Errorf("%d documents checked before the readings, want %d", n, 2*len(devs))
	}
	report, err := d.vanReport(devs, c.Time)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(chaintest.Key("van"), city.Name, city.ActionReport, &report); err != nil {
		t.Fatal(err)
	}
	if n := ch.Devices(t, c, ids...); n != 2*len(devs) {
		t.Errorf("%d documents checked after the readings, want %d", n, 2*len(devs))
	}
}

// TestDemoStreetlightServedAsNGSILD asks a running node for the demo's
// streetlight as an NGSI-LD client would: as application/ld+json with
// the @context in the body, and as application/json with the context in
// a Link header, which the node serves too. Both check out against the
// Smart Data Models schema, with the contexts read from the node itself.
func TestDemoStreetlightServedAsNGSILD(t *testing.T) {
	home := t.TempDir()
	if _, err := node.InitDevHome(home, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Listen = "127.0.0.1:0"
	n, err := node.New(node.Options{Home: home, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	api := "http://" + n.APIAddr()

	d := &demo{run_: "000042", chainID: n.ChainID()}
	lamp := d.districtDevices()[1]
	payload, err := chain.EncodePayload(lamp.registration(d.addr(actorCityHall)))
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{ChainID: n.ChainID(), App: city.Name, Action: city.ActionRegister, Payload: payload}
	tx.Sign(node.DevKey(actorCityHall))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := client.New(api).Submit(ctx, tx, true)
	if err != nil || a.Receipt == nil || a.Receipt.Status != "ok" {
		t.Fatalf("register the lamp: %v %+v", err, a)
	}

	get := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, body)
		}
		return resp, body
	}
	fromNode := func(ref string) ([]byte, error) { // the contexts, from the node that named them
		if !strings.HasPrefix(ref, api+"/") {
			return nil, fmt.Errorf("%s is not on the node under test", ref)
		}
		resp, body := get(strings.TrimPrefix(ref, api), "")
		if ct := resp.Header.Get("Content-Type"); ct != "application/ld+json" {
			t.Errorf("context %s served as %q", ref, ct)
		}
		return body, nil
	}
	ch, err := sdmtest.New(sdmtest.Dir(), fromNode, sdmtest.Extensions...)
	if err != nil {
		t.Fatal(err)
	}

	path := "/v1/apps/city/ngsi/" + lamp.id
	for _, options := range []string{"", "?options=keyValues"} {
		check := ch.Normalized
		if options != "" {
			check = ch.KeyValues
		}
		resp, body := get(path+options, "application/ld+json")
		if ct := resp.Header.Get("Content-Type"); ct != "application/ld+json" {
			t.Errorf("asked for JSON-LD, got %q", ct)
		}
		if err := check(body); err != nil {
			t.Errorf("as JSON-LD: %v\n%s", err, body)
		}

		resp, body = get(path+options, "")
		var e map[string]any
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatal(err)
		}
		link := resp.Header.Get("Link")
		ctxURL, _, _ := strings.Cut(strings.TrimPrefix(link, "<"), ">")
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" || e["@context"] != nil ||
			ctxURL != api+city.ContextPath(city.TypeStreetlight) || !strings.Contains(link, `rel="http://www.w3.org/ns/json-ld#context"`) {
			t.Errorf("as plain JSON: %q, Link %q, @context %v", ct, link, e["@context"])
		}
		// A client puts the linked context after the core one, as
		// NGSI-LD has it; the document then checks out the same.
		e["@context"] = []string{city.NGSIContext, ctxURL}
		doc, _ := json.Marshal(e)
		if err := check(doc); err != nil {
			t.Errorf("as plain JSON with its Link: %v\n%s", err, doc)
		}
	}
}
