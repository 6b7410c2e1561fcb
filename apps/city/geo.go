package city

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/citychain/citychain/apps/sdk"
	"github.com/citychain/citychain/chain"
)

// Point is a GeoJSON Point (RFC 7946): longitude first, then latitude.
// GeoJSON writes coordinates as numbers; a payload has no fractional
// numbers, so in payloads and in the state they are decimal text with at
// most 6 decimal places (a millionth of a degree, about 11 cm):
// {"type": "Point", "coordinates": ["-3.712247", "40.423853"]}. The
// answers of the API write them as JSON numbers (GeoJSON), straight from
// that text, and a Point reads either form back from JSON.
type Point struct {
	Type        string   `json:"type"`
	Coordinates []string `json:"coordinates"`
}

// GeoJSON returns the point as RFC 7946 has it: coordinates as numbers,
// written from their decimal text without a float in between.
func (p Point) GeoJSON() map[string]any {
	coords := make([]json.Number, len(p.Coordinates))
	for i, c := range p.Coordinates {
		coords[i] = json.Number(c)
	}
	return map[string]any{"type": p.Type, "coordinates": coords}
}

// UnmarshalJSON reads a point whose coordinates are numbers (GeoJSON, as
// the API answers) or decimal text (as payloads have them), keeping each
// as the text it was written in.
func (p *Point) UnmarshalJSON(b []byte) error {
	var w struct {
		Type        string `json:"type"`
		Coordinates []any  `json:"coordinates"`
	}
	if err := sdk.DecodeNumbers(b, &w); err != nil {
		return err
	}
	p.Type, p.Coordinates = w.Type, make([]string, len(w.Coordinates))
	for i, c := range w.Coordinates {
		switch v := c.(type) {
		case string:
			p.Coordinates[i] = v
		case json.Number:
			p.Coordinates[i] = v.String()
		default:
			return fmt.Errorf("location.coordinates[%d]: want a number, got %s", i, typeName(c))
		}
	}
	if w.Coordinates == nil {
		p.Coordinates = nil
	}
	return nil
}

// coordScale is the precision of coordinates: micro-degrees.
const coordScale = 6

// NewPoint returns the point at a longitude and latitude given as text.
func NewPoint(lon, lat string) Point { return Point{Type: "Point", Coordinates: []string{lon, lat}} }

// microDegrees parses the point into fixed-point longitude and latitude
// and checks that they are on Earth.
func (p Point) microDegrees() (lon, lat int64, err error) {
	if err := sdk.FirstError(sdk.Check(p.Type == "Point", "location.type: %q, want \"Point\"", p.Type),
		sdk.Check(len(p.Coordinates) == 2, "location.coordinates: want [longitude, latitude], got %d values", len(p.Coordinates))); err != nil {
		return 0, 0, err
	}
	lon, lonErr := parseFixed(p.Coordinates[0], coordScale)
	lat, latErr := parseFixed(p.Coordinates[1], coordScale)
	return lon, lat, sdk.FirstError(sdk.Check(lonErr == nil, "location.coordinates[0]: %v", lonErr),
		sdk.Check(latErr == nil, "location.coordinates[1]: %v", latErr),
		sdk.Check(lon >= -180_000_000 && lon <= 180_000_000, "location.coordinates[0]: %w: longitude %s is outside -180..180", ErrOutOfRange, p.Coordinates[0]),
		sdk.Check(lat >= -90_000_000 && lat <= 90_000_000, "location.coordinates[1]: %w: latitude %s is outside -90..90", ErrOutOfRange, p.Coordinates[1]))
}

// normalized returns the point with its coordinates in canonical text.
func (p Point) normalized() (Point, error) {
	lon, lat, err := p.microDegrees()
	if err != nil {
		return Point{}, err
	}
	return NewPoint(formatFixed(lon, coordScale), formatFixed(lat, coordScale)), nil
}

// The spatial index files every device under the grid cell that holds
// it. A cell is a hundredth of a degree square (about 1.1 km north to
// south), so a district's bounding box spans a handful of cells and the
// query reads only those cells' keys instead of every device.
const cellSize = 10_000 // micro-degrees

// maxBBoxCells bounds the cells one bounding-box query walks; a larger
// box scans the device list instead, which is then cheaper.
const maxBBoxCells = 1024

// cell returns the grid cell of a coordinate: floor(v / cellSize), also
// for negative v.
func cell(v int64) int64 {
	c := v / cellSize
	if v%cellSize < 0 {
		c--
	}
	return c
}

// cellPrefix is the key prefix of one cell. Cell numbers are shifted to
// be positive, so that keys sort like the numbers.
func cellPrefix(latCell, lonCell int64) []byte {
	const shift = 1 << 20
	k := append([]byte(nil), "grid/"...)
	k = binary.BigEndian.AppendUint32(k, uint32(latCell+shift))
	return binary.BigEndian.AppendUint32(k, uint32(lonCell+shift))
}

func keyGrid(lon, lat int64, id string) []byte {
	return append(cellPrefix(cell(lat), cell(lon)), id...)
}

// BBox is a bounding box in micro-degrees, edges included. Boxes across
// the antimeridian are not supported: MinLon <= MaxLon.
type BBox struct{ MinLon, MinLat, MaxLon, MaxLat int64 }

// ParseBBox reads a box from decimal text, as given in the query
// arguments min_lon, min_lat, max_lon, max_lat.
func ParseBBox(minLon, minLat, maxLon, maxLat string) (BBox, error) {
	names, v := [4]string{"min_lon", "min_lat", "max_lon", "max_lat"}, [4]int64{}
	for i, s := range [4]string{minLon, minLat, maxLon, maxLat} {
		var err error
		if v[i], err = parseFixed(s, coordScale); err != nil {
			return BBox{}, fmt.Errorf("%w: %s: %v", chain.ErrBadPayload, names[i], err)
		}
	}
	b := BBox{MinLon: v[0], MinLat: v[1], MaxLon: v[2], MaxLat: v[3]}
	return b, sdk.FirstError(
		sdk.Check(b.MinLon >= -180_000_000 && b.MaxLon <= 180_000_000 && b.MinLat >= -90_000_000 && b.MaxLat <= 90_000_000,
			"bounding box: longitudes are within -180..180, latitudes within -90..90"),
		sdk.Check(b.MinLon <= b.MaxLon && b.MinLat <= b.MaxLat, "bounding box: min_lon/min_lat must not exceed max_lon/max_lat"))
}

// Contains reports whether the point lies in the box.
func (b BBox) Contains(lon, lat int64) bool {
	return lon >= b.MinLon && lon <= b.MaxLon && lat >= b.MinLat && lat <= b.MaxLat
}

// cells returns the number of grid cells the box touches.
func (b BBox) cells() int64 {
	return (cell(b.MaxLat) - cell(b.MinLat) + 1) * (cell(b.MaxLon) - cell(b.MinLon) + 1)
}
