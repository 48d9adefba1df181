package svgclean

import (
	"bytes"
	"strings"
)

// cleanCSS removes @import rules and every declaration that has a url()
// pointing outside the document, as renderers do with a reference they
// cannot resolve, so the rendering keeps its earlier declarations. It
// reports false for style text it will not vouch for: escapes (which can
// spell url or javascript in disguise), script URLs, expression(),
// image-set() (which takes plain strings as URLs) and behaviour bindings.
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
	var b []byte
	for {
		imp := strings.Index(l, "@import")
		url := strings.Index(l, "url(")
		if imp < 0 && url < 0 {
			return string(append(b, s...)), true
		}
		if imp >= 0 && (url < 0 || imp < url) {
			end := strings.IndexByte(l[imp:], ';')
			if end < 0 {
				end = len(l) - imp - 1
			}
			b = append(b, s[:imp]...)
			s, l = s[imp+end+1:], l[imp+end+1:]
			continue
		}
		target, n, ok := urlArg(s[url+4:])
		if !ok {
			return "", false
		}
		if safeRef(target) {
			b = append(b, s[:url+4+n]...)
			s, l = s[url+4+n:], l[url+4+n:]
			continue
		}
		// Drop the declaration: back to the last ';' or '{', on to the
		// next ';' (dropped) or '}' (kept).
		b = append(b, s[:url]...)
		b = b[:bytes.LastIndexAny(b, ";{")+1]
		s, l = s[url+4+n:], l[url+4+n:]
		end := strings.IndexAny(s, ";}")
		switch {
		case end < 0:
			s, l = "", ""
		case s[end] == ';':
			s, l = s[end+1:], l[end+1:]
		default:
			s, l = s[end:], l[end:]
		}
	}
}

// urlsSafe reports whether every url() in an attribute value points
// inside the document.
func urlsSafe(v string) bool {
	l := lower(v)
	for {
		i := strings.Index(l, "url(")
		if i < 0 {
			return true
		}
		target, n, ok := urlArg(v[i+4:])
		if !ok || !safeRef(target) {
			return false
		}
		v, l = v[i+4+n:], l[i+4+n:]
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
