package copyright

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

// htmlCertOpen starts the script element in which the page carries the
// certificate's JSON, so the page itself verifies (certificate.html too).
const htmlCertOpen = `<script type="application/json" id="citychain-certificate">`

// RenderHTML writes a one-page printable certificate: the registration in
// words, the evidence in short, and the whole certificate embedded so that
// `citychain verify page.html` checks the page itself. v is the result of
// VerifyCertificate on c.
func RenderHTML(w io.Writer, c *Certificate, v *Verified) error {
	// json.Marshal escapes <, > and &, so the JSON cannot close the
	// script element it sits in.
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return certPage.Execute(w, struct {
		C    *Certificate
		V    *Verified
		JSON template.JS
	}{c, v, template.JS(raw)})
}

// certificateHTML is the page's template: the fields of c and v in words,
// and the certificate's JSON in the element that htmlCertOpen opens.
//
//go:embed certificate.html
var certificateHTML string

var certPage = template.Must(template.New("certificate").Funcs(template.FuncMap{
	"short": func(s fmt.Stringer) string {
		t := s.String()
		if len(t) > 20 {
			return t[:10] + "…" + t[len(t)-8:]
		}
		return t
	},
}).Parse(certificateHTML))
