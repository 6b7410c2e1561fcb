package labs

import (
	"fmt"
	"strings"
)

// Lang is a language the labs speak.
type Lang string

// The languages of the labs. Every Text has both.
const (
	En Lang = "en"
	Zh Lang = "zh"
)

// ParseLang returns the language s names: "en" or "zh" (any case, with
// an optional region such as zh-CN or en_GB).
func ParseLang(s string) (Lang, error) {
	switch l := strings.ToLower(strings.TrimSpace(s)); {
	case l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_"):
		return En, nil
	case l == "zh" || strings.HasPrefix(l, "zh-") || strings.HasPrefix(l, "zh_"):
		return Zh, nil
	}
	return "", fmt.Errorf("language %q: want en or zh", s)
}

// LangFromEnv picks the language of the user's locale, read through
// getenv the way POSIX orders it (LC_ALL, then LC_MESSAGES, then LANG):
// Chinese when the first one set starts with "zh", English otherwise.
func LangFromEnv(getenv func(string) string) Lang {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "zh") {
				return Zh
			}
			return En
		}
	}
	return En
}

// Text is one message in every language of the labs.
type Text struct {
	En string `json:"en"`
	Zh string `json:"zh"`
}

// In returns the message in l; English for a language it lacks.
func (t Text) In(l Lang) string {
	if l == Zh && t.Zh != "" {
		return t.Zh
	}
	return t.En
}

// say formats the English and the Chinese message with the same
// arguments. A translation that needs another order uses explicit
// indexes (%[2]s).
func say(en, zh string, args ...any) Text {
	return Text{En: fmt.Sprintf(en, args...), Zh: fmt.Sprintf(zh, args...)}
}

// tx is a Text without arguments.
func tx(en, zh string) Text { return Text{En: en, Zh: zh} }

// short abbreviates a long address or hash for a message.
func short(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:10] + "…" + s[len(s)-4:]
}
