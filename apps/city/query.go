package city

import (
	"errors"
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

var errStop = errors.New("stop")

// Query serves:
//
//	info                          chain id, operators, params
//	models                        the device models: attributes, units, ranges, commands
//	devices?prefix=P&limit=N      devices whose id starts with P
//	device/{id}                   a device and its latest state
//	history/{id}?limit=N          its stored readings, newest first
//	bbox?min_lon=&min_lat=&max_lon=&max_lat=&limit=N
//	district/{name}               a district's devices and summary
//	ngsi/{id}                     a device as an NGSI-LD entity
//	ngsi?district=NAME            a district's devices as NGSI-LD entities
//	command/{n}                   one command and its acknowledgement
//	commands/{id}                 a device's commands
//	commands?status=pending&prefix=P  commands not yet acknowledged
func (*App) Query(q *chain.QueryContext, path []string, args map[string]string) (any, error) {
	st := q.Store()
	limit, err := limitArg(args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(path) == 1 && path[0] == "info":
		return info(q)
	case len(path) == 1 && path[0] == "models":
		return Models(), nil
	case len(path) == 1 && path[0] == "devices":
		out := []DeviceView{}
		err := st.Iterate([]byte("dev/"+args["prefix"]), func(_, v []byte) error {
			if len(out) == limit {
				return errStop
			}
			dv, err := viewOf(st, v)
			if err != nil {
				return err
			}
			out = append(out, *dv)
			return nil
		})
		return out, ignoreStop(err)
	case len(path) == 2 && path[0] == "device":
		d, err := loadDevice(st, "device", path[1])
		if err != nil {
			return nil, err
		}
		s, err := loadState(st, d.ID)
		if err != nil {
			return nil, err
		}
		return DeviceView{Device: *d, State: *s}, nil
	case len(path) == 2 && path[0] == "history":
		return history(q, path[1], limit)
	case len(path) == 1 && path[0] == "bbox":
		b, err := ParseBBox(args["min_lon"], args["min_lat"], args["max_lon"], args["max_lat"])
		if err != nil {
			return nil, err
		}
		devs, err := inBBox(st, b, limit)
		return BBoxAnswer{Height: q.Height, Devices: devs}, err
	case len(path) == 2 && path[0] == "district":
		return district(q, path[1], limit)
	case len(path) == 2 && path[0] == "ngsi":
		d, err := loadDevice(st, "device", path[1])
		if err != nil {
			return nil, err
		}
		s, err := loadState(st, d.ID)
		if err != nil {
			return nil, err
		}
		return Entity(d, s), nil
	case len(path) == 1 && path[0] == "ngsi":
		if args["district"] == "" {
			return nil, fmt.Errorf("%w: ngsi: give a device (ngsi/{id}) or ?district=NAME", chain.ErrBadPayload)
		}
		a, err := district(q, args["district"], limit)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(a.Devices))
		for i := range a.Devices {
			out[i] = Entity(&a.Devices[i].Device, &a.Devices[i].State)
		}
		return out, nil
	case len(path) == 2 && path[0] == "command":
		n, err := strconv.ParseUint(path[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: command: %q is not a number", chain.ErrBadPayload, path[1])
		}
		var rec CommandRecord
		found, err := st.GetObject(keyCommand(n), &rec)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("%w: command %d", chain.ErrNotFound, n)
		}
		return rec, nil
	case len(path) == 2 && path[0] == "commands":
		return commands(st, prefixDeviceCommands(path[1]), "", args["status"], limit)
	case len(path) == 1 && path[0] == "commands":
		if args["status"] != StatusPending {
			return nil, fmt.Errorf("%w: commands: list a device's commands (commands/{id}) or the pending ones (?status=pending)", chain.ErrBadPayload)
		}
		return commands(st, []byte("pending/"), args["prefix"], "", limit)
	}
	return nil, fmt.Errorf("%w: city has queries info, models, devices, device/{id}, history/{id}, bbox, district/{name}, ngsi/{id}, ngsi?district=, command/{n}, commands/{id}, commands?status=pending", chain.ErrNotFound)
}

func info(q *chain.QueryContext) (InfoAnswer, error) {
	st := q.Store()
	p, err := loadParams(st)
	if err != nil {
		return InfoAnswer{}, err
	}
	a := InfoAnswer{ChainID: q.ChainID, Height: q.Height, Time: formatTime(q.Time),
		Operators: []chain.Address{}, HistoryLimit: p.HistoryLimit}
	err = st.Iterate([]byte("op/"), func(k, _ []byte) error {
		var addr chain.Address
		copy(addr[:], k[len("op/"):])
		a.Operators = append(a.Operators, addr)
		return nil
	})
	return a, err
}

func history(q *chain.QueryContext, id string, limit int) (HistoryAnswer, error) {
	st := q.Store()
	if _, err := loadDevice(st, "device", id); err != nil {
		return HistoryAnswer{}, err
	}
	var all []HistoryEntry
	err := st.Iterate(prefixHistory(id), func(_, v []byte) error {
		var e HistoryEntry
		if err := chain.Decode(v, &e); err != nil {
			return err
		}
		all = append(all, e)
		return nil
	})
	if err != nil {
		return HistoryAnswer{}, err
	}
	out := make([]HistoryEntry, 0, min(limit, len(all)))
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i])
	}
	return HistoryAnswer{Device: id, Height: q.Height, Entries: out}, nil
}

// inBBox walks the grid cells the box touches, or every device when the
// box is too large for that to pay, and keeps the devices inside.
func inBBox(st *chain.Store, b BBox, limit int) ([]DeviceView, error) {
	out := []DeviceView{}
	keep := func(v []byte) error {
		if len(out) == limit {
			return errStop
		}
		dv, err := viewOf(st, v)
		if err != nil {
			return err
		}
		lon, lat, err := dv.Location.microDegrees()
		if err != nil {
			return err
		}
		if b.Contains(lon, lat) {
			out = append(out, *dv)
		}
		return nil
	}
	if b.cells() > maxBBoxCells {
		err := st.Iterate([]byte("dev/"), func(_, v []byte) error { return keep(v) })
		return out, ignoreStop(err)
	}
	for la := cell(b.MinLat); la <= cell(b.MaxLat); la++ {
		for lo := cell(b.MinLon); lo <= cell(b.MaxLon); lo++ {
			prefix := cellPrefix(la, lo)
			err := st.Iterate(prefix, func(k, _ []byte) error {
				return keep(st.Get(keyDevice(string(k[len(prefix):]))))
			})
			if errors.Is(err, errStop) {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func district(q *chain.QueryContext, name string, limit int) (DistrictAnswer, error) {
	st := q.Store()
	if err := checkDistrict(name); err != nil {
		return DistrictAnswer{}, err
	}
	a := DistrictAnswer{District: name, Height: q.Height, Devices: []DeviceView{},
		Summary: DistrictSummary{ByType: map[string]int{}, Signals: map[string]int{}}}
	var intensity, no2, pm10 int64 = 0, -1, -1
	prefix := prefixDistrict(name)
	err := st.Iterate(prefix, func(k, _ []byte) error {
		dv, err := viewOf(st, st.Get(keyDevice(string(k[len(prefix):]))))
		if err != nil {
			return err
		}
		s := &a.Summary
		s.Devices++
		if len(a.Devices) < limit {
			a.Devices = append(a.Devices, *dv)
		}
		m, err := ModelFor(dv.Type, dv.Category)
		if err != nil {
			return err
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
		return nil
	})
	if err != nil {
		return DistrictAnswer{}, err
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
	out := []CommandRecord{}
	err := st.Iterate(prefix, func(k, _ []byte) error {
		if len(out) == limit {
			return errStop
		}
		n, err := sdk.BytesUint64(k[len(k)-8:])
		if err != nil {
			return err
		}
		var rec CommandRecord
		if _, err := st.GetObject(keyCommand(n), &rec); err != nil {
			return err
		}
		if strings.HasPrefix(rec.Device, devicePrefix) && (status == "" || rec.Status == status) {
			out = append(out, rec)
		}
		return nil
	})
	return out, ignoreStop(err)
}

func viewOf(st *chain.Store, raw []byte) (*DeviceView, error) {
	if raw == nil {
		return nil, fmt.Errorf("index points at a missing device") // broken invariant
	}
	var dv DeviceView
	if err := chain.Decode(raw, &dv.Device); err != nil {
		return nil, err
	}
	s, err := loadState(st, dv.ID)
	if err != nil {
		return nil, err
	}
	dv.State = *s
	return &dv, nil
}

func limitArg(args map[string]string) (int, error) {
	s, ok := args["limit"]
	if !ok {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("%w: limit: %q, want 1 to %d", chain.ErrBadPayload, s, maxLimit)
	}
	return n, nil
}

func ignoreStop(err error) error {
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
