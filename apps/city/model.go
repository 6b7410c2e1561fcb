package city

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/citychain/citychain/chain"
)

// The device types are entity types of the FIWARE Smart Data Models
// (smartdatamodels.org). Attribute names are the models' own; units are
// UN/CEFACT common codes, as NGSI-LD's unitCode expects.
const (
	TypeStreetlight = "Streetlight"         // dataModel.Streetlighting
	TypeTrafficFlow = "TrafficFlowObserved" // dataModel.Transportation
	TypeAirQuality  = "AirQualityObserved"  // dataModel.Environment
	TypeDevice      = "Device"              // dataModel.Device
)

// Device categories (FIWARE deviceCategory). In this city the only
// actuator is a traffic signal head: its "value" is the lamp it shows.
const (
	CategorySensor   = "sensor"
	CategoryActuator = "actuator"
)

// Signal states of a traffic light (a Device of category actuator).
var SignalStates = []string{"red", "amber", "green", "flashing", "off"}

// Kind is what sort of value an attribute holds.
type Kind string

// The kinds of attribute value.
const (
	KindNumber Kind = "number" // a decimal with at most Scale fractional digits, within [Min, Max]
	KindEnum   Kind = "enum"   // one of Enum
	KindText   Kind = "text"   // printable text of at most MaxLen bytes
	KindBool   Kind = "bool"   // true or false
	KindList   Kind = "list"   // one or more of Enum, each once; as text, comma-separated in the order of Enum
)

// Attr is one attribute of a model. Numbers are fixed-point: Min and Max
// are scaled by 10^Scale (decimal.go).
type Attr struct {
	Name     string
	Kind     Kind
	Unit     string // UN/CEFACT common code, "" when the model names none
	Scale    int
	Min, Max int64
	Enum     []string
	MaxLen   int
	// Install marks an attribute that describes the installation (a
	// lantern's height) rather than an observation. It may be reported
	// like any other; the FIWARE importer puts it in the registration.
	Install bool
	// Default is the value a registration records when it does not give
	// the attribute, and Required makes a registration give it: the
	// attributes the Smart Data Model requires (Streetlight's status,
	// Device's controlledProperty) are then in the state from the
	// registration on.
	Default  string
	Required bool
	About    string
}

// CommandSpec is an action an operator may send to a device. The
// command's value is checked as a value of Attr, and once the device
// acknowledges it as done, Attr takes that value in the device's state.
// Attr is empty for commands that change no attribute (reboot).
type CommandSpec struct {
	Action string `json:"action"`
	Attr   string `json:"attr,omitempty"`
	About  string `json:"about"`
}

// Model is the schema readings of one device type are checked against.
type Model struct {
	Type     string        `json:"type"`
	Category string        `json:"category,omitempty"`
	About    string        `json:"about"`
	Attrs    []Attr        `json:"attrs"`
	Commands []CommandSpec `json:"commands"`
}

func num(name, unit string, scale int, min, max int64, about string) Attr {
	return Attr{Name: name, Kind: KindNumber, Unit: unit, Scale: scale, Min: min, Max: max, About: about}
}

func enum(name, about string, values ...string) Attr {
	return Attr{Name: name, Kind: KindEnum, Enum: values, About: about}
}

func text(name string, maxLen int, about string) Attr {
	return Attr{Name: name, Kind: KindText, MaxLen: maxLen, About: about}
}

func flag(name, about string) Attr { return Attr{Name: name, Kind: KindBool, About: about} }

func install(a Attr) Attr { a.Install = true; return a }

func listOf(name, about string, values ...string) Attr {
	return Attr{Name: name, Kind: KindList, Enum: values, About: about}
}

// byDefault returns a with the value a registration records without it.
func byDefault(a Attr, v string) Attr { a.Default = v; return a }

// required returns a as an attribute every registration must give.
func required(a Attr) Attr { a.Required = true; return a }

// controlledProperties are what a Device may sense or control: the
// ControlledPropertyType of the Smart Data Models' device-schema.json.
var controlledProperties = []string{"airPollution", "atmosphericPressure", "averageVelocity", "batteryLife",
	"batterySupply", "cdom", "conductance", "conductivity", "depth", "eatingActivity", "electricityConsumption",
	"energy", "fillingLevel", "freeChlorine", "gasConsumption", "gateOpening", "heading", "humidity", "light",
	"location", "milking", "motion", "movementActivity", "noiseLevel", "occupancy", "orp", "pH", "power",
	"precipitation", "pressure", "refractiveIndex", "salinity", "smoke", "soilMoisture", "solarRadiation", "speed",
	"tds", "temperature", "trafficFlow", "tss", "turbidity", "uvLampIntensity", "uvOrganicLoad", "waterConsumption",
	"waterFlow", "waterLevel", "waterPollution", "weatherConditions", "weight", "windDirection", "windSpeed"}

// renamed maps the attribute names older chains stored to the names the
// models use now. The NGSI-LD export reads a stored value under its old
// name as the new one; a payload must use the new name.
var renamed = map[string]string{
	"typeOfLocation": "typeofLocation", // the AirQualityObserved schema's spelling; its examples write typeOfLocation
}

var reboot = CommandSpec{Action: "reboot", About: "restart the device; changes no attribute"}

// models are the device types this module knows, with the attributes it
// checks. Ranges are the FIWARE models' where they give one, and sane
// physical bounds where they do not. Attributes a model has but this table
// leaves out are refused in readings (and skipped by the FIWARE importer).
// The table is consensus: changing a range changes which transactions
// succeed, so it changes only with a new chain (or a planned upgrade).
var models = []Model{
	{
		Type:  TypeStreetlight,
		About: "a street lamp that reports its power state and takes dim and switch commands",
		Attrs: []Attr{
			enum("powerState", "power state", "on", "off", "low", "bootingUp"),
			// A lamp is registered in service: "ok" unless the registration
			// says otherwise (the model requires a status).
			byDefault(enum("status", "overall status", "ok", "defectiveLamp", "columnIssue", "brokenLantern"), "ok"),
			num("illuminanceLevel", "C62", 3, 0, 1_000, "relative illuminance level, 0 (dark) to 1 (full)"),
			num("powerConsumption", "WTT", 1, 0, 50_000, "power drawn by the lamp, in watts"),
			num("voltage", "VLT", 1, 0, 10_000, "supply voltage, in volts"),
			num("powerFactor", "C62", 3, 0, 1_000, "ratio of real to apparent power"),
			install(num("lanternHeight", "MTR", 2, 0, 5_000, "height of the lantern, in metres")),
			install(enum("locationCategory", "where the lamp stands", "bridge", "centralIsland", "facade", "garden",
				"park", "parking", "pedestrianPath", "playground", "road", "sidewalk", "tunnel")),
			install(enum("controllingMethod", "how the lamp is controlled", "group", "individual")),
		},
		Commands: []CommandSpec{
			{Action: "dim", Attr: "illuminanceLevel", About: "set the illuminance level, 0 to 1"},
			{Action: "switch", Attr: "powerState", About: "switch on, off or low"},
			reboot,
		},
	},
	{
		Type:  TypeTrafficFlow,
		About: "a traffic counter on one lane: vehicles per observation period, speed and occupancy",
		Attrs: []Attr{
			num("intensity", "", 0, 0, 100_000, "vehicles counted in the observation period"),
			num("occupancy", "C62", 3, 0, 1_000, "fraction of the period the detector was occupied, 0 to 1"),
			num("averageVehicleSpeed", "KMH", 1, 0, 3_000, "mean speed, in km/h (0 to 300)"),
			num("averageVehicleLength", "MTR", 2, 0, 3_000, "mean vehicle length, in metres"),
			num("averageHeadwayTime", "SEC", 2, 0, 360_000, "mean time between vehicles, in seconds"),
			num("averageGapDistance", "MTR", 2, 0, 1_000_000, "mean gap between vehicles, in metres"),
			flag("congested", "whether the lane is congested"),
			install(num("laneId", "", 0, 1, 99, "lane number, from 1 as the model counts lanes")),
			install(enum("laneDirection", "direction of travel", "forward", "backward")),
			flag("reversedLane", "whether the lane runs against its usual direction"),
		},
		Commands: []CommandSpec{reboot},
	},
	{
		Type:  TypeAirQuality,
		About: "an air-quality station: pollutant concentrations and weather",
		Attrs: []Attr{
			num("no2", "GQ", 1, 0, 20_000, "nitrogen dioxide, µg/m³"),
			num("no", "GQ", 1, 0, 20_000, "nitrogen monoxide, µg/m³"),
			num("nox", "GQ", 1, 0, 20_000, "nitrogen oxides, µg/m³"),
			num("o3", "GQ", 1, 0, 20_000, "ozone, µg/m³"),
			num("so2", "GQ", 1, 0, 20_000, "sulphur dioxide, µg/m³"),
			num("pm10", "GQ", 1, 0, 20_000, "particulate matter under 10 µm, µg/m³"),
			num("pm25", "GQ", 1, 0, 20_000, "particulate matter under 2.5 µm, µg/m³"),
			num("pm1", "GQ", 1, 0, 20_000, "particulate matter under 1 µm, µg/m³"),
			num("co", "GP", 3, 0, 1_000_000, "carbon monoxide, mg/m³"),
			num("temperature", "CEL", 1, -600, 600, "air temperature, °C"),
			num("relativeHumidity", "C62", 3, 0, 1_000, "relative humidity, 0 to 1"),
			num("windSpeed", "MTS", 2, 0, 10_000, "wind speed, m/s"),
			num("windDirection", "DD", 1, -1_800, 1_800, "wind direction, degrees from north, -180 to 180"),
			num("precipitation", "", 1, 0, 5_000, "rain, litres per square metre"),
			num("airQualityIndex", "", 0, 0, 1_000, "air quality index"),
			enum("airQualityLevel", "qualitative level (US EPA names)", "good", "moderate",
				"unhealthyForSensitiveGroups", "unhealthy", "veryUnhealthy", "hazardous"),
			num("reliability", "C62", 3, 0, 1_000, "reliability of the observation, 0 to 1"),
			install(enum("typeofLocation", "where the station samples (the model's spelling)", "indoor", "outdoor")),
		},
		Commands: []CommandSpec{reboot},
	},
	{
		Type:     TypeDevice,
		Category: CategorySensor,
		About:    "a generic sensor whose value is opaque text",
		Attrs: []Attr{
			text("value", 256, "the last value the sensor reported"),
			// Only the registration knows what a generic sensor senses.
			required(install(listOf("controlledProperty", "what the sensor senses, one or more of the model's words",
				controlledProperties...))),
			text("deviceState", 64, "state of the device, e.g. ok"),
			num("batteryLevel", "C62", 3, 0, 1_000, "battery level, 0 to 1"),
			// dBm (decibel-milliwatts), as the model asks. A received
			// signal is below a milliwatt, so the range stops short of 0,
			// which also keeps a 0..1 ratio stored by older chains from
			// ever reading as dBm.
			num("rssi", "DBM", 1, -1_500, -1, "received signal strength, dBm (-150 to -0.1)"),
		},
		Commands: []CommandSpec{reboot},
	},
	{
		Type:     TypeDevice,
		Category: CategoryActuator,
		About:    "a traffic signal head: its value is the lamp it shows",
		Attrs: []Attr{
			enum("value", "the lamp shown", SignalStates...),
			byDefault(install(listOf("controlledProperty", "what the signal controls: the traffic flow",
				controlledProperties...)), "trafficFlow"),
			text("signalPlan", 64, "the timing plan the signal follows (a city extension to Device)"),
			text("deviceState", 64, "state of the device, e.g. ok"),
			num("batteryLevel", "C62", 3, 0, 1_000, "battery level, 0 to 1"),
		},
		Commands: []CommandSpec{
			{Action: "set-signal", Attr: "value", About: "force a lamp: red, amber, green, flashing or off"},
			{Action: "set-plan", Attr: "signalPlan", About: "switch to a named signal plan"},
			reboot,
		},
	},
}

// Models returns a copy of the model table, for documentation and tools.
func Models() []Model { return append([]Model(nil), models...) }

// ModelFor returns the model of a device type and category. Category
// matters only for Device; other types take none.
func ModelFor(typ, category string) (*Model, error) {
	if typ != TypeDevice && category != "" {
		return nil, fmt.Errorf("%w: category: only a Device has a category, not a %s", chain.ErrBadPayload, typ)
	}
	if m, ok := find(models, func(m Model) bool { return m.Type == typ && m.Category == category }); ok {
		c := *m // the table is consensus: callers get a copy
		return &c, nil
	}
	if typ == TypeDevice {
		return nil, fmt.Errorf("%w: category: a Device is %q or %q, not %q", chain.ErrBadPayload, CategorySensor, CategoryActuator, category)
	}
	return nil, fmt.Errorf("%w: type: %q is not one of %s, %s, %s, %s", chain.ErrBadPayload, typ,
		TypeStreetlight, TypeTrafficFlow, TypeAirQuality, TypeDevice)
}

// Attr returns the model's attribute with that name.
func (m *Model) Attr(name string) (*Attr, bool) {
	return find(m.Attrs, func(a Attr) bool { return a.Name == name })
}

// Command returns the model's command with that action.
func (m *Model) Command(action string) (*CommandSpec, bool) {
	return find(m.Commands, func(c CommandSpec) bool { return c.Action == action })
}

// find returns the first element of list that matches.
func find[T any](list []T, match func(T) bool) (*T, bool) {
	i := slices.IndexFunc(list, match)
	if i < 0 {
		return nil, false
	}
	return &list[i], true
}

// Normalize checks one value against the attribute and returns it in its
// canonical text form: numbers as the shortest decimal ("0.75"), booleans
// as "true"/"false". v is what a payload decodes to: a string, an integer
// or a boolean. The error wraps ErrOutOfRange when the value is
// well-formed but outside the model; the caller adds the field's path and
// the chain's error kind.
func (a *Attr) Normalize(v any) (string, error) {
	s, isText := v.(string)
	switch a.Kind {
	case KindNumber:
		var n int64
		var err error
		switch t := v.(type) {
		case string:
			n, err = parseFixed(t, a.Scale)
		case int64:
			n, err = scaleInt(t, a.Scale)
		case uint64:
			n, err = scaleInt(t, a.Scale)
		default:
			return "", fmt.Errorf("want a number (an integer or a decimal string), got %s", typeName(v))
		}
		if err != nil {
			return "", err
		}
		if n < a.Min || n > a.Max {
			return "", fmt.Errorf("%w: %s is outside %s..%s%s", ErrOutOfRange,
				formatFixed(n, a.Scale), formatFixed(a.Min, a.Scale), formatFixed(a.Max, a.Scale), a.unitSuffix())
		}
		return formatFixed(n, a.Scale), nil
	case KindBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		if s != "true" && s != "false" {
			return "", fmt.Errorf("want true or false, got %s", typeName(v))
		}
		return s, nil
	case KindEnum, KindText:
		switch {
		case !isText:
			return "", fmt.Errorf("want a string, got %s", typeName(v))
		case a.Kind == KindEnum && !slices.Contains(a.Enum, s):
			return "", fmt.Errorf("%w: %q is not one of %s", ErrOutOfRange, s, strings.Join(a.Enum, ", "))
		case a.Kind == KindText && len(s) > a.MaxLen:
			return "", fmt.Errorf("%w: %d bytes, at most %d", ErrOutOfRange, len(s), a.MaxLen)
		case a.Kind == KindText:
			if err := printable(s); err != nil {
				return "", err
			}
		}
		return s, nil
	case KindList:
		return a.normalizeList(v)
	}
	panic(fmt.Sprintf("city: attribute %s has no kind", a.Name)) // model tables are code
}

// normalizeList checks words of the enumeration, given as a list or as
// text separated by commas, and returns them in the order of Enum.
func (a *Attr) normalizeList(v any) (string, error) {
	var words []string
	switch t := v.(type) {
	case string:
		words = strings.Split(t, ",")
	case []any:
		for _, w := range t {
			s, ok := w.(string)
			if !ok {
				return "", fmt.Errorf("want a list of words, got %s in it", typeName(w))
			}
			words = append(words, s)
		}
	default:
		return "", fmt.Errorf("want words separated by commas, or a list of them, got %s", typeName(v))
	}
	if len(words) == 0 {
		return "", fmt.Errorf("want at least one word")
	}
	seen := make([]bool, len(a.Enum))
	for _, w := range words {
		i := slices.Index(a.Enum, w)
		switch {
		case i < 0:
			return "", fmt.Errorf("%w: %q is not one of %s", ErrOutOfRange, w, strings.Join(a.Enum, ", "))
		case seen[i]:
			return "", fmt.Errorf("%q is listed twice", w)
		}
		seen[i] = true
	}
	out := make([]string, 0, len(words))
	for i, ok := range seen {
		if ok {
			out = append(out, a.Enum[i])
		}
	}
	return strings.Join(out, ","), nil
}

func (a *Attr) unitSuffix() string {
	if a.Unit == "" {
		return ""
	}
	return " (" + a.Unit + ")"
}

// MarshalJSON shows an attribute with its range as decimal text, for the
// models query.
func (a Attr) MarshalJSON() ([]byte, error) {
	type view struct {
		Name     string   `json:"name"`
		Kind     Kind     `json:"kind"`
		Unit     string   `json:"unit,omitempty"`
		Scale    int      `json:"decimals,omitempty"`
		Min      string   `json:"min,omitempty"`
		Max      string   `json:"max,omitempty"`
		Enum     []string `json:"enum,omitempty"`
		MaxLen   int      `json:"max_len,omitempty"`
		Install  bool     `json:"install,omitempty"`
		Default  string   `json:"default,omitempty"`
		Required bool     `json:"required,omitempty"`
		About    string   `json:"about"`
	}
	v := view{Name: a.Name, Kind: a.Kind, Unit: a.Unit, Enum: a.Enum, MaxLen: a.MaxLen, Install: a.Install,
		Default: a.Default, Required: a.Required, About: a.About}
	if a.Kind == KindNumber {
		v.Scale, v.Min, v.Max = a.Scale, formatFixed(a.Min, a.Scale), formatFixed(a.Max, a.Scale)
	}
	return json.Marshal(v)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, uint64:
		return "an integer"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case []any:
		return "a list"
	case map[any]any, map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// printable refuses control characters and invalid UTF-8 in text that
// ends up in explorers and terminals.
func printable(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("text has a control character %U", r)
		}
	}
	return nil
}
