package labs

import (
	"os"
	"testing"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestParseLang(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"en", En, true}, {"EN", En, true}, {"en_GB", En, true}, {"zh", Zh, true},
		{"zh-CN", Zh, true}, {" zh_TW ", Zh, true}, {"fr", "", false}, {"", "", false}, {"zhx", "", false},
	} {
		got, err := ParseLang(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseLang(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestLangFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Lang
	}{
		{"nothing set", nil, En},
		{"LANG Chinese", map[string]string{"LANG": "zh_CN.UTF-8"}, Zh},
		{"LANG English", map[string]string{"LANG": "en_US.UTF-8"}, En},
		{"LC_ALL before LANG", map[string]string{"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, En},
		{"LC_MESSAGES before LANG", map[string]string{"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "C"}, Zh},
		{"C locale", map[string]string{"LANG": "C.UTF-8"}, En},
	} {
		got := LangFromEnv(func(k string) string { return tc.env[k] })
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGLNBody(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"urn:epc:id:sgln:9523333.00002.0", "952333300002"},
		{"URN:EPC:ID:SGLN:9523333.00002.dock-1", "952333300002"},
		{"urn:epc:id:sgln:9523333.0002.0", ""}, // 11 digits: no GLN
		{"9523333000024", "952333300002"},
		{"952333300002", ""},
		{"https://id.gs1.org/414/9523333000024", "952333300002"},
		{"https://shop.example/414/9523333000024/254/dock", "952333300002"},
		{"https://id.gs1.org/01/09521111543213/21/P701", ""},
		{"the shop on the corner", ""},
		{"", ""},
	} {
		if got := glnBody(tc.in); got != tc.want {
			t.Errorf("glnBody(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextIn(t *testing.T) {
	x := say("%d blocks", "%d 个区块", 3)
	if x.In(En) != "3 blocks" || x.In(Zh) != "3 个区块" {
		t.Errorf("say: %+v", x)
	}
	if (Text{En: "only English"}).In(Zh) != "only English" {
		t.Error("a text without Chinese should fall back to English")
	}
}
