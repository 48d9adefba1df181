package svgclean

import "strings"

// cleanCSS removes @import rules and replaces every url() that points
// outside the document with none. It reports false for style text it
// will not vouch for: escapes (which can spell url or javascript in
// disguise), script URLs, expression(), image-set() (which takes plain
// strings as URLs) and behaviour bindings.
func cleanCSS(s string) (string, bool) {
	l := lower(s)
	if strings.Contains(s, `\`) {
		return "", false
	}
	for _, bad := range []string{"javascript:", "expression(", "image-set(", "-moz-binding", "behavior"} {
		if strings.Contains(l, bad) {
			return "", false
		}
	}
	var b strings.Builder
	for {
		imp := strings.Index(l, "@import")
		url := strings.Index(l, "url(")
		if imp < 0 && url < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		if imp >= 0 && (url < 0 || imp < url) {
			end := strings.IndexByte(l[imp:], ';')
			if end < 0 {
				end = len(l) - imp - 1
			}
			b.WriteString(s[:imp])
			s, l = s[imp+end+1:], l[imp+end+1:]
			continue
		}
		target, n, ok := urlArg(s[url+4:])
		if !ok {
			return "", false
		}
		b.WriteString(s[:url])
		if safeRef(target) {
			b.WriteString(s[url : url+4+n])
		} else {
			b.WriteString("none")
		}
		s, l = s[url+4+n:], l[url+4+n:]
	}
}

// urlArg reads the argument of url( from s, which starts just after the
// parenthesis, and returns it and the length up to and including ")".
func urlArg(s string) (target string, n int, ok bool) {
	i := len(s) - len(strings.TrimLeft(s, " \t\r\n\f"))
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := strings.IndexByte(s[i+1:], s[i])
		if q < 0 {
			return "", 0, false
		}
		target = s[i+1 : i+1+q]
		end := strings.IndexByte(s[i+1+q+1:], ')')
		if end < 0 {
			return "", 0, false
		}
		return target, i + 1 + q + 1 + end + 1, true
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return "", 0, false
	}
	return strings.TrimSpace(s[i:end]), end + 1, true
}
