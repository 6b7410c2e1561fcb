package node

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// qrTexts cover the three modes rsc.io/qr picks (numeric, alphanumeric,
// bytes), multi-byte UTF-8, markup, and the longest text allowed.
var qrTexts = map[string]string{
	"trace url":    "http://127.0.0.1:8700/#/trace/urn:epc:id:sgtin:9521111.054321.P1001",
	"digits":       "9521111054321",
	"alphanumeric": "URN:EPC:ID:SGTIN:9521111.054321.P1001",
	"chinese":      "城市链：有机大米，产地黑龙江五常，批次 P1001",
	"markup":       `<script>alert("x")</script> & 'q'`,
	"1024 bytes":   strings.Repeat("链", 341) + "!",
}

// svgDoc is what a QR SVG holds once parsed: its title, its side in
// modules and the dark modules drawn by its path.
type svgDoc struct {
	title string
	side  int
	dark  map[image.Point]bool
}

// parseQRSVG reads svg as XML and fails the test if it holds anything but
// the four expected elements or any attribute or text that could point
// outside the document.
func parseQRSVG(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	doc := svgDoc{dark: map[image.Point]bool{}}
	var path []string
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("svg is not XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
			switch tok.Name.Local {
			case "svg", "title", "rect", "path":
			default:
				t.Fatalf("unexpected element <%s>", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				if a.Name.Local == "xmlns" && a.Name.Space == "" {
					continue // the SVG namespace name, never fetched
				}
				v := strings.ToLower(a.Value)
				if strings.Contains(strings.ToLower(a.Name.Local), "href") ||
					strings.Contains(v, "http") || strings.Contains(v, "url(") || strings.Contains(v, "script") {
					t.Fatalf("attribute %s=%q may reach outside the image", a.Name.Local, a.Value)
				}
				switch {
				case tok.Name.Local == "svg" && a.Name.Local == "viewBox":
					if _, err := fmt.Sscanf(a.Value, "0 0 %d %d", &doc.side, &doc.side); err != nil {
						t.Fatalf("viewBox %q: %v", a.Value, err)
					}
				case tok.Name.Local == "path" && a.Name.Local == "d":
					parseRuns(t, a.Value, doc.dark)
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) > 0 && path[len(path)-1] == "title" {
				doc.title += string(tok)
			} else if strings.TrimSpace(string(tok)) != "" {
				t.Fatalf("text %q outside <title>", tok)
			}
		case xml.ProcInst, xml.Directive, xml.Comment:
			t.Fatalf("unexpected %T in svg", tok)
		}
	}
	return doc
}

// parseRuns reads a path made of "MxXy hN v1 h-N z" rectangles, the only
// form qrSVG writes, into dark.
func parseRuns(t *testing.T, d string, dark map[image.Point]bool) {
	t.Helper()
	for _, r := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
		var x, y, n, back int
		if _, err := fmt.Sscanf(r, "M%d %dh%dv1h-%d", &x, &y, &n, &back); err != nil || n != back || n < 1 {
			t.Fatalf("path segment %q is not a run of modules (%v)", r, err)
		}
		for i := range n {
			dark[image.Pt(x+i, y)] = true
		}
	}
}

// rasterize draws doc at 4 pixels per module, as a screen would.
func rasterize(doc svgDoc) image.Image {
	const px = 4
	img := image.NewGray(image.Rect(0, 0, doc.side*px, doc.side*px))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for p := range doc.dark {
		for dy := range px {
			for dx := range px {
				img.SetGray(p.X*px+dx, p.Y*px+dy, color.Gray{})
			}
		}
	}
	return img
}

func TestQRSVGScansBackToItsText(t *testing.T) {
	for name, text := range qrTexts {
		t.Run(name, func(t *testing.T) {
			svg, err := qrSVG(text)
			if err != nil {
				t.Fatal(err)
			}
			doc := parseQRSVG(t, svg)
			if doc.title != text {
				t.Errorf("title = %q, want %q", doc.title, text)
			}

			size, dark, err := qrMatrix(text)
			if err != nil {
				t.Fatal(err)
			}
			// The decoder below reads a symbol without its quiet zone too,
			// so the 4 blank modules of ISO/IEC 18004 are checked here.
			const quiet = 4
			if doc.side != size+2*quiet {
				t.Fatalf("viewBox side = %d, want %d modules plus a quiet zone of %d", doc.side, size, quiet)
			}
			n := 0
			for y := range size {
				for x := range size {
					if drawn := doc.dark[image.Pt(x+quiet, y+quiet)]; drawn != dark(x, y) {
						t.Fatalf("module (%d, %d): drawn %v, encoded %v", x, y, drawn, dark(x, y))
					}
					if dark(x, y) {
						n++
					}
				}
			}
			if len(doc.dark) != n {
				t.Fatalf("%d modules drawn, %d encoded: some lie in the quiet zone", len(doc.dark), n)
			}

			// The decoder locates the symbol by its finder patterns, as a
			// phone camera would, rather than being told where it is.
			bmp, err := gozxing.NewBinaryBitmapFromImage(rasterize(doc))
			if err != nil {
				t.Fatal(err)
			}
			res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got := res.GetText(); got != text {
				t.Errorf("decoded %q, want %q", got, text)
			}
		})
	}
}

func TestQRSVGEscapesTitle(t *testing.T) {
	svg, err := qrSVG(qrTexts["markup"])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(svg), "<script") {
		t.Fatalf("markup reached the svg unescaped:\n%s", svg)
	}
	if !strings.Contains(string(svg), "&lt;script&gt;") {
		t.Errorf("title does not hold the escaped text:\n%s", svg)
	}
}

func TestQRHandler(t *testing.T) {
	cases := []struct {
		name   string
		query  string
		status int
		msg    string
	}{
		{"ok", "?text=" + url.QueryEscape(qrTexts["trace url"]), http.StatusOK, ""},
		{"ok 1024 bytes", "?text=" + url.QueryEscape(qrTexts["1024 bytes"]), http.StatusOK, ""},
		{"missing", "", http.StatusBadRequest, "text: must be 1 to 1024 bytes, got 0"},
		{"empty", "?text=", http.StatusBadRequest, "text: must be 1 to 1024 bytes, got 0"},
		{"too long", "?text=" + strings.Repeat("a", 2000), http.StatusBadRequest, "text: must be 1 to 1024 bytes, got 2000"},
		{"invalid utf-8", "?text=%FF%FE", http.StatusBadRequest, "text: must be valid UTF-8"},
		{"malformed query", "?text=%zz", http.StatusBadRequest, "text: must be 1 to 1024 bytes, got 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&Node{}).handleQR(w, httptest.NewRequest(http.MethodGet, "/explorer/qr.svg"+c.query, nil))
			if w.Code != c.status {
				t.Fatalf("status = %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.status != http.StatusOK {
				var e APIError
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body %q: %v", w.Body, err)
				}
				if e.Error.Code != "bad_text" || e.Error.Message != c.msg {
					t.Errorf("error = %+v, want bad_text %q", e.Error, c.msg)
				}
				return
			}
			for k, want := range map[string]string{
				"Content-Type":            "image/svg+xml",
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "default-src 'none'",
				"Cache-Control":           "public, max-age=3600",
			} {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			parseQRSVG(t, w.Body.Bytes())
		})
	}
}
