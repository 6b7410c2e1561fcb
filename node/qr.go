package node

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"rsc.io/qr"
)

// maxQRText bounds the text of a QR code. A product page's URL needs a
// tenth of it; the bound keeps one anonymous request from asking for the
// largest symbol (version 40), which is hard to scan anyway.
const maxQRText = 1024

// qrQuiet is the blank margin, in modules, around the symbol. ISO/IEC 18004
// asks for 4: a scanner finds the finder patterns by their white border.
const qrQuiet = 4

// qrMatrix encodes text as a QR code at error correction level M and
// returns its width in modules and which modules are dark, (0, 0) being
// the top-left one. Level M recovers about 15% of damaged modules, enough
// for a screen or a printed label without growing the symbol as Q or H do.
// It returns an error if text does not fit in a QR code.
func qrMatrix(text string) (size int, dark func(x, y int) bool, err error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return 0, nil, fmt.Errorf("encode qr: %w", err)
	}
	return c.Size, c.Black, nil
}

// qrSVG returns the QR code of text as a standalone SVG image: a white
// square and one path of the dark modules, the text as its <title> for
// screen readers, and nothing that loads or runs. It returns an error if
// text is empty, longer than maxQRText bytes or not valid UTF-8.
func qrSVG(text string) ([]byte, error) {
	if len(text) < 1 || len(text) > maxQRText {
		return nil, fmt.Errorf("text: must be 1 to %d bytes, got %d", maxQRText, len(text))
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("text: must be valid UTF-8")
	}
	size, dark, err := qrMatrix(text)
	if err != nil {
		return nil, err
	}
	side := size + 2*qrQuiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" shape-rendering="crispEdges"><title>`, side, side)
	// EscapeText also replaces control characters that XML 1.0 forbids,
	// so any valid UTF-8 text yields a well-formed document.
	if err := xml.EscapeText(&b, []byte(text)); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, `</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	// One rectangle per horizontal run of dark modules keeps the path
	// several times shorter than one square per module.
	for y := 0; y < size; y++ {
		for x := 0; x < size; {
			if !dark(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < size && dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// handleQR serves GET /explorer/qr.svg?text=... : the QR code of text as an
// SVG image, so that a phone can open the page the explorer shows. It
// answers 400 bad_text if text is missing, empty, longer than maxQRText
// bytes or not valid UTF-8. It reads no node state.
func (n *Node) handleQR(w http.ResponseWriter, r *http.Request) {
	svg, err := qrSVG(r.URL.Query().Get("text"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "bad_text", err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("X-Content-Type-Options", "nosniff")
	// An SVG opened on its own is a document that could run script; this
	// one has none, and the policy makes sure none ever runs.
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(svg)
}
