package svgclean

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// Bounds of the internal entities Clean expands.
const (
	maxEntities      = 32
	maxEntityValue   = 1024
	maxEntityExpands = 1 << 20 // bytes added by all references together
)

// entities returns the flat internal entities that a document type
// declaration defines: those whose replacement text has no markup and no
// references, so expanding them is one bounded copy each. Tools such as
// Illustrator declare namespace URIs this way. Parameter and external
// entities and entities that refer to others are left out, so a document
// that uses them fails to parse; a document whose references would add
// more than maxEntityExpands bytes is refused before parsing goes on.
func entities(d xml.Directive, src []byte) (map[string]string, error) {
	s := string(d)
	if !strings.HasPrefix(s, "DOCTYPE") {
		return nil, nil
	}
	ents := map[string]string{}
	total := 0
	for {
		i := strings.Index(s, "<!ENTITY")
		if i < 0 {
			return ents, nil
		}
		s = strings.TrimLeft(s[i+len("<!ENTITY"):], " \t\r\n")
		name, value, ok := entityDecl(s)
		if !ok {
			continue
		}
		if len(ents) >= maxEntities {
			return nil, fail(msgEntities)
		}
		ents[name] = value
		total += bytes.Count(src, []byte("&"+name+";")) * len(value)
		if total > maxEntityExpands {
			return nil, fail(msgEntities)
		}
	}
}

// entityDecl parses `name "value"` at the start of s, and reports whether
// it is a flat internal general entity.
func entityDecl(s string) (name, value string, ok bool) {
	end := strings.IndexAny(s, " \t\r\n")
	if end <= 0 || s[0] == '%' {
		return "", "", false
	}
	name = s[:end]
	s = strings.TrimLeft(s[end:], " \t\r\n")
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", "", false // SYSTEM or PUBLIC: external
	}
	q := strings.IndexByte(s[1:], s[0])
	if q < 0 {
		return "", "", false
	}
	value = s[1 : 1+q]
	if len(value) > maxEntityValue || strings.ContainsAny(value, "&%<") || !validName(name) {
		return "", "", false
	}
	return name, value, true
}
