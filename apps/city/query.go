package city

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// InfoAnswer is the answer to GET /v1/apps/city/info. Clients read the
// chain id from it to sign readings.
type InfoAnswer struct {
	ChainID      string          `json:"chain_id"`
	Height       uint64          `json:"height"`
	Time         string          `json:"time"`
	Operators    []chain.Address `json:"operators"`
	HistoryLimit uint64          `json:"history_limit"`
}

// DeviceView is a device with its latest state.
type DeviceView struct {
	Device
	State State `json:"state"`
}

// MarshalJSON writes the view with its location as GeoJSON: coordinates
// as numbers.
func (v DeviceView) MarshalJSON() ([]byte, error) {
	type fields DeviceView // the same fields without this method
	return json.Marshal(struct {
		fields
		Location map[string]any `json:"location"`
	}{fields(v), v.Location.GeoJSON()})
}

// HistoryAnswer is a device's stored readings, newest first.
type HistoryAnswer struct {
	Device  string         `json:"device"`
	Height  uint64         `json:"height"`
	Entries []HistoryEntry `json:"entries"`
}

// BBoxAnswer lists the devices inside a bounding box.
type BBoxAnswer struct {
	Height  uint64       `json:"height"`
	Devices []DeviceView `json:"devices"`
}

// DistrictAnswer is the current state of a district: its devices and a
// summary over them.
type DistrictAnswer struct {
	District string          `json:"district"`
	Height   uint64          `json:"height"`
	Summary  DistrictSummary `json:"summary"`
	Devices  []DeviceView    `json:"devices"`
}

// DistrictSummary condenses a district's latest state.
type DistrictSummary struct {
	Devices          int            `json:"devices"`
	ByType           map[string]int `json:"by_type"`
	StreetlightsLit  int            `json:"streetlights_lit"`  // powerState on or low
	Signals          map[string]int `json:"signals"`           // traffic lights by lamp shown
	TrafficIntensity string         `json:"traffic_intensity"` // sum of the counters' latest intensity
	MaxNO2           string         `json:"max_no2,omitempty"` // µg/m³, highest latest value
	MaxPM10          string         `json:"max_pm10,omitempty"`
}

// Query limits: lists are cut at the limit argument, at most maxLimit.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// list is a query that answers at most limit items, from its "limit"
// argument (defaultLimit when absent, at most maxLimit).
func list(fn func(q *chain.QueryContext, p sdk.Params, limit int) (any, error)) func(*chain.QueryContext, sdk.Params) (any, error) {
	return func(q *chain.QueryContext, p sdk.Params) (any, error) {
		limit, err := p.Limit(defaultLimit, maxLimit)
		if err != nil {
			return nil, err
		}
		return fn(q, p, limit)
	}
}

// routes is the query table, served at /v1/apps/city/{path}.
func routes() []sdk.Route {
	return []sdk.Route{
		sdk.Query("info", "chain id, operators, params", info),
		sdk.Query("models", "the device models: attributes, units, ranges, commands",
			func(*chain.QueryContext, sdk.Params) (any, error) { return Models(), nil }),
		sdk.Query("devices", "devices whose id starts with prefix, in id order", list(devices), "prefix", "limit"),
		sdk.Query("device/{id}", "a device and its latest state", func(q *chain.QueryContext, p sdk.Params) (any, error) {
			return loadView(q.Store(), "device", p.Path("id"))
		}),
		sdk.Query("history/{id}", "a device's stored readings, newest first", list(history), "limit"),
		sdk.Query("bbox", "the devices inside a bounding box, edges included", list(bbox),
			"min_lon", "min_lat", "max_lon", "max_lat", "limit"),
		sdk.Query("district/{name}", "a district's devices and a summary over them", list(func(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
			return district(q, p.Path("name"), limit)
		}), "limit"),
		sdk.Query("ngsi/{id}", "a device as an NGSI-LD entity (options=keyValues: the simplified form); JSON-LD with Accept: application/ld+json",
			func(q *chain.QueryContext, p sdk.Params) (any, error) {
				form, err := ParseForm(p.Arg("options"))
				if err != nil {
					return nil, err
				}
				dv, err := loadView(q.Store(), "device", p.Path("id"))
				if err != nil {
					return nil, err
				}
				return sdk.Document(Entity(&dv.Device, &dv.State, form)), nil
			}, "options"),
		sdk.Query("ngsi", "a district's devices as NGSI-LD entities, of one type if type is given", list(ngsiDistrict),
			"district", "type", "options", "limit"),
		sdk.Query("context/{file}", "the Smart Data Models JSON-LD context of an entity type: context/{type}.jsonld",
			func(_ *chain.QueryContext, p sdk.Params) (any, error) {
				doc, err := Context(p.Path("file"))
				if err != nil {
					return nil, err
				}
				return sdk.Typed{MediaType: sdk.MediaJSONLD, Body: doc}, nil
			}),
		sdk.Query("command/{n}", "one command and its acknowledgement", sdk.ByNumber("n", func(q *chain.QueryContext, n uint64) (any, error) {
			return sdk.Load[CommandRecord](q.Store(), keyCommand(n), fmt.Sprintf("command %d", n))
		})),
		sdk.Query("commands/{id}", "a device's commands, or those with the given status", list(func(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
			return commands(q.Store(), prefixDeviceCommands(p.Path("id")), "", p.Arg("status"), limit)
		}), "status", "limit"),
		sdk.Query("commands", "with status=pending: the commands not yet acknowledged, of devices whose id starts with prefix",
			list(func(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
				if p.Arg("status") != StatusPending {
					return nil, fmt.Errorf("%w: commands: list a device's commands (commands/{id}) or the pending ones (?status=pending)", chain.ErrBadPayload)
				}
				return commands(q.Store(), []byte("pending/"), p.Arg("prefix"), "", limit)
			}), "status", "prefix", "limit"),
	}
}

func info(q *chain.QueryContext, _ sdk.Params) (any, error) {
	st := q.Store()
	p, err := loadParams(st)
	if err != nil {
		return nil, err
	}
	a := InfoAnswer{ChainID: q.ChainID, Height: q.Height, Time: formatTime(q.Time),
		Operators: []chain.Address{}, HistoryLimit: p.HistoryLimit}
	a.Operators, _, err = sdk.List(st, []byte("op/"), nil, 0, func(op, _ []byte) (*chain.Address, error) {
		return (*chain.Address)(op), nil
	})
	return a, err
}

// devicesUnder lists the devices filed under an index whose keys end in
// the device id (dev/, dist/{name}/, a grid cell), in id order: those
// whose ids start with idPrefix and that keep takes (every one when keep
// is nil), up to limit of them (no limit when it is 0).
func devicesUnder(st *chain.Store, index []byte, idPrefix string, limit int, keep func(dv *DeviceView) (bool, error)) ([]DeviceView, error) {
	list, _, err := sdk.List(st, sdk.Key(index, []byte(idPrefix)), nil, limit, func(rest, _ []byte) (*DeviceView, error) {
		dv, err := loadView(st, "device", idPrefix+string(rest))
		if err != nil || keep == nil {
			return dv, err
		}
		if ok, err := keep(dv); !ok || err != nil {
			return nil, err
		}
		return dv, nil
	})
	return list, err
}

func devices(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
	return devicesUnder(q.Store(), []byte("dev/"), p.Arg("prefix"), limit, nil)
}

// history reads the device's entries from the newest back: they are
// numbered without gaps up to the device's reading count.
func history(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
	st, id := q.Store(), p.Path("id")
	dv, err := loadView(st, "device", id)
	if err != nil {
		return nil, err
	}
	a := HistoryAnswer{Device: id, Height: q.Height, Entries: []HistoryEntry{}}
	for n := dv.State.Readings; n > 0 && len(a.Entries) < limit; n-- {
		e, err := sdk.Find[HistoryEntry](st, keyHistory(id, n))
		if err != nil || e == nil { // nil: the older ones fell out of the window
			return a, err
		}
		a.Entries = append(a.Entries, *e)
	}
	return a, nil
}

// bbox walks the grid cells the box touches, or every device when the
// box is too large for that to pay, and keeps the devices inside.
func bbox(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
	b, err := ParseBBox(p.Arg("min_lon"), p.Arg("min_lat"), p.Arg("max_lon"), p.Arg("max_lat"))
	if err != nil {
		return nil, err
	}
	st, a := q.Store(), BBoxAnswer{Height: q.Height, Devices: []DeviceView{}}
	keep := func(prefix []byte) error {
		ds, err := devicesUnder(st, prefix, "", limit-len(a.Devices), func(dv *DeviceView) (bool, error) {
			lon, lat, err := dv.Location.microDegrees()
			return err == nil && b.Contains(lon, lat), err
		})
		a.Devices = append(a.Devices, ds...)
		return err
	}
	if b.cells() > maxBBoxCells {
		err := keep([]byte("dev/"))
		return a, err
	}
	for la := cell(b.MinLat); la <= cell(b.MaxLat); la++ {
		for lo := cell(b.MinLon); lo <= cell(b.MaxLon) && len(a.Devices) < limit; lo++ {
			if err := keep(cellPrefix(la, lo)); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// ngsiDistrict exports a district's devices, in id order, keeping those
// of the type given (NGSI-LD's type filter): a list of one type shares
// one context, which a plain JSON answer can name in its Link header.
func ngsiDistrict(q *chain.QueryContext, p sdk.Params, limit int) (any, error) {
	name, typ := p.Arg("district"), p.Arg("type")
	form, err := ParseForm(p.Arg("options"))
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("%w: ngsi: give a device (ngsi/{id}) or ?district=NAME", chain.ErrBadPayload)
	}
	if err := checkName("district", name, MaxDistrictLen, districtChars); err != nil {
		return nil, err
	}
	if _, known := contextFiles[typ]; typ != "" && !known {
		return nil, fmt.Errorf("%w: type: %q is not one of %s, %s, %s, %s", chain.ErrBadPayload, typ,
			TypeStreetlight, TypeTrafficFlow, TypeAirQuality, TypeDevice)
	}
	ds, err := devicesUnder(q.Store(), prefixDistrict(name), "", limit, func(dv *DeviceView) (bool, error) {
		return typ == "" || dv.Type == typ, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(ds))
	for i := range ds {
		out[i] = Entity(&ds[i].Device, &ds[i].State, form)
	}
	return sdk.Documents(out), nil
}

func district(q *chain.QueryContext, name string, limit int) (*DistrictAnswer, error) {
	if err := checkName("district", name, MaxDistrictLen, districtChars); err != nil {
		return nil, err
	}
	all, err := devicesUnder(q.Store(), prefixDistrict(name), "", 0, nil)
	if err != nil {
		return nil, err
	}
	a := &DistrictAnswer{District: name, Height: q.Height, Devices: all[:min(limit, len(all))],
		Summary: DistrictSummary{Devices: len(all), ByType: map[string]int{}, Signals: map[string]int{}}}
	var intensity, no2, pm10 int64 = 0, -1, -1
	for i := range all {
		dv, s := &all[i], &a.Summary
		m, err := ModelFor(dv.Type, dv.Category)
		if err != nil {
			return nil, err
		}
		s.ByType[modelName(m)]++
		attrs := dv.State.Attrs
		switch {
		case dv.Type == TypeStreetlight:
			if p := attrs["powerState"].Value; p == "on" || p == "low" {
				s.StreetlightsLit++
			}
		case dv.Type == TypeDevice && dv.Category == CategoryActuator:
			if v, ok := attrs["value"]; ok {
				s.Signals[v.Value]++
			}
		case dv.Type == TypeTrafficFlow:
			intensity += fixedOf(m, attrs, "intensity", 0)
		case dv.Type == TypeAirQuality:
			no2 = max(no2, fixedOf(m, attrs, "no2", -1))
			pm10 = max(pm10, fixedOf(m, attrs, "pm10", -1))
		}
	}
	a.Summary.TrafficIntensity = strconv.FormatInt(intensity, 10)
	if no2 >= 0 {
		a.Summary.MaxNO2 = formatFixed(no2, 1)
	}
	if pm10 >= 0 {
		a.Summary.MaxPM10 = formatFixed(pm10, 1)
	}
	return a, nil
}

// fixedOf returns an attribute's stored value as a fixed-point number,
// or def when the device has not reported it.
func fixedOf(m *Model, attrs map[string]Value, name string, def int64) int64 {
	v, ok := attrs[name]
	a, known := m.Attr(name)
	if !ok || !known {
		return def
	}
	n, err := parseFixed(v.Value, a.Scale)
	if err != nil {
		return def
	}
	return n
}

// commands lists command records whose numbers are the last 8 bytes of
// the keys under prefix, keeping those of devices starting with
// devicePrefix and with the given status ("" for any).
func commands(st *chain.Store, prefix []byte, devicePrefix, status string, limit int) ([]CommandRecord, error) {
	out, _, err := sdk.List(st, prefix, nil, limit, func(rest, _ []byte) (*CommandRecord, error) {
		n, err := sdk.IDAtEnd(rest)
		if err != nil {
			return nil, err
		}
		rec, err := sdk.Load[CommandRecord](st, keyCommand(n), fmt.Sprintf("command %d", n))
		if err != nil || !strings.HasPrefix(rec.Device, devicePrefix) || status != "" && rec.Status != status {
			return nil, err
		}
		return rec, nil
	})
	return out, err
}
