// Package svgclean makes an SVG document safe to publish and small.
//
// Clean parses the document as strict XML, keeps only SVG elements and a
// conservative set of attributes, removes everything that can run script
// or load another resource, and minifies what is left. It never expands a
// nested entity, never reads an external one, and bounds the size and
// nesting it accepts.
package svgclean

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/svg"
)

// Options change what Clean keeps.
type Options struct {
	// KeepMetadata keeps <metadata>, comments and editor (Inkscape,
	// Sodipodi) elements and attributes, which are otherwise removed.
	KeepMetadata bool
}

// Bounds of what Clean accepts.
const (
	MaxSize  = 8 << 20 // bytes of input
	MaxDepth = 256     // element nesting
)

// Namespaces.
const (
	nsSVG      = "http://www.w3.org/2000/svg"
	nsXLink    = "http://www.w3.org/1999/xlink"
	nsSodipodi = "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
	nsInkscape = "http://www.inkscape.org/namespaces/inkscape"
)

// Public messages of the errors Clean returns.
const (
	msgTooLarge  = "The SVG file is larger than Image Diet will clean."
	msgTooDeep   = "The SVG file nests its elements too deeply."
	msgEntities  = "The SVG file declares entities that Image Diet does not expand."
	msgNotSVG    = "The file is not an SVG document."
	msgMalformed = "The SVG file is damaged or is not well-formed XML."
	msgCharset   = "The SVG file uses a character encoding Image Diet does not read."
)

func fail(msg string) error { return proto.Errorf(proto.CodeDecodeFailed, "%s", msg) }

// Clean returns src with scripts, event handlers, embedded documents,
// external references, declarations, processing instructions and (unless
// opt.KeepMetadata) metadata, comments and editor data removed, minified.
// It returns a *proto.Error with code decode_failed for input that is not
// a well-formed SVG document, is larger than MaxSize, nests deeper than
// MaxDepth or uses entities other than flat internal ones.
func Clean(src []byte, opt Options) ([]byte, error) {
	if len(src) > MaxSize {
		return nil, fail(msgTooLarge)
	}
	src = bytes.TrimPrefix(src, []byte("\xEF\xBB\xBF"))
	c := cleaner{
		opt:      opt,
		src:      src,
		useXLink: bytes.Contains(src, []byte(nsXLink)),
	}
	if err := c.run(); err != nil {
		return nil, err
	}
	safe, err := c.withMeta(c.out.Bytes())
	if err != nil {
		return nil, err
	}
	// The minifier rewrites its input in place: give it a copy.
	min, err := c.minify(bytes.Clone(c.out.Bytes()))
	if err != nil || len(min) >= len(safe) || !sound(min) {
		// The minifier may turn an escaped "javascript&#58;" back into
		// text, or write an entity without its semicolon; the
		// serialization here never does.
		return safe, nil
	}
	return min, nil
}

// sound reports whether b is well-formed XML without script text.
func sound(b []byte) bool {
	if hasForbidden(b) {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// hasForbidden reports a script tag or javascript: URL text anywhere.
func hasForbidden(b []byte) bool {
	l := lower(string(b))
	return strings.Contains(l, "<script") || strings.Contains(l, "javascript:")
}

// minify runs the SVG minifier and puts the kept metadata back.
func (c *cleaner) minify(b []byte) ([]byte, error) {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	keep := []string(nil)
	if c.opt.KeepMetadata {
		keep = c.prefixes
	}
	m.Add("image/svg+xml", &svg.Minifier{KeepComments: c.opt.KeepMetadata, KeepNamespaces: keep})
	out, err := m.Bytes("image/svg+xml", b)
	if err != nil {
		return nil, err
	}
	return c.withMeta(out)
}

// withMeta puts the kept <metadata> back as the root's first child, where
// its position does not change the rendering. (The minifier always drops
// <metadata>, so it is held apart until the end.)
func (c *cleaner) withMeta(doc []byte) ([]byte, error) {
	if c.meta.Len() == 0 {
		return doc, nil
	}
	end := startTagEnd(doc)
	if end < 1 {
		return nil, proto.Errorf(proto.CodeInternal, "%s", "The SVG file could not be cleaned.")
	}
	var r bytes.Buffer
	if doc[end-1] == '/' { // <svg .../>
		r.Write(doc[:end-1])
		r.WriteByte('>')
		r.Write(c.meta.Bytes())
		r.WriteString("</svg>")
	} else {
		r.Write(doc[:end+1])
		r.Write(c.meta.Bytes())
	}
	r.Write(doc[end+1:])
	return r.Bytes(), nil
}

// startTagEnd returns the index of the '>' that ends the root's start
// tag, after any comments.
func startTagEnd(b []byte) int {
	start := 0
	for {
		rest := bytes.TrimLeft(b[start:], " \t\r\n")
		start = len(b) - len(rest)
		if !bytes.HasPrefix(rest, []byte("<!--")) {
			break
		}
		end := bytes.Index(rest, []byte("-->"))
		if end < 0 {
			return -1
		}
		start += end + 3
	}
	if !bytes.HasPrefix(b[start:], []byte("<svg")) {
		return -1
	}
	var quote byte
	for i := start + 1; i < len(b); i++ {
		switch c := b[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return -1
}

// cleaner holds the state of one Clean call.
type cleaner struct {
	opt      Options
	src      []byte
	useXLink bool
	out      bytes.Buffer // the sanitized document
	meta     bytes.Buffer // kept <metadata> subtrees (KeepMetadata)
	prefixes []string     // namespace prefixes declared on the root
	ns       []binding    // namespace declarations in scope
	stack    []frame      // open elements
}

type binding struct {
	prefix, uri string
	depth       int
}

// frame is an open element and what happens to its content.
type frame struct {
	name    xml.Name
	qname   string // as written
	mode    mode
	style   *bytes.Buffer // text of a kept <style>
	pending []byte        // start tag of a kept <style>, written at its end
}

type mode int

const (
	keep     mode = iota // write the element and its content
	drop                 // write nothing of the element or its content
	metadata             // inside a kept <metadata>: write to c.meta
)

// w returns where the current element's output goes.
func (c *cleaner) w(m mode) *bytes.Buffer {
	if m == metadata {
		return &c.meta
	}
	return &c.out
}

func (c *cleaner) run() error {
	d := xml.NewDecoder(bytes.NewReader(c.src))
	d.Strict = true
	d.CharsetReader = charsetReader
	rootSeen, rootDone := false, false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *proto.Error
			if errors.As(err, &pe) {
				return pe
			}
			return proto.Wrap(proto.CodeDecodeFailed, msgMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rootDone {
				return fail(msgMalformed)
			}
			if len(c.stack) >= MaxDepth {
				return fail(msgTooDeep)
			}
			if !rootSeen {
				rootSeen = true
				if err := c.root(t); err != nil {
					return err
				}
				continue
			}
			c.start(t)
		case xml.EndElement:
			if len(c.stack) == 0 {
				return fail(msgMalformed)
			}
			top := c.stack[len(c.stack)-1]
			if top.name != t.Name {
				return fail(msgMalformed)
			}
			c.end(top)
			c.stack = c.stack[:len(c.stack)-1]
			for len(c.ns) > 0 && c.ns[len(c.ns)-1].depth > len(c.stack) {
				c.ns = c.ns[:len(c.ns)-1]
			}
			if len(c.stack) == 0 {
				rootDone = true
			}
		case xml.CharData:
			if len(c.stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return fail(msgMalformed)
				}
				continue
			}
			top := &c.stack[len(c.stack)-1]
			switch {
			case top.style != nil:
				top.style.Write(t)
			case top.mode == metadata && len(bytes.TrimSpace(t)) == 0:
				// Indentation inside metadata: the minifier never sees it.
			case top.mode != drop:
				escape(c.w(top.mode), string(t), false)
			}
		case xml.Comment:
			if !c.opt.KeepMetadata || rootDone || hasForbidden(t) {
				continue
			}
			b := &c.out // before the root
			if len(c.stack) > 0 {
				top := c.stack[len(c.stack)-1]
				if top.mode == drop || top.style != nil {
					continue
				}
				b = c.w(top.mode)
			}
			b.WriteString("<!--")
			b.Write(bytes.ReplaceAll(t, []byte("--"), []byte("- -")))
			b.WriteString("-->")
		case xml.Directive:
			if rootSeen {
				return fail(msgMalformed)
			}
			ents, err := entities(t, c.src)
			if err != nil {
				return err
			}
			d.Entity = ents
		case xml.ProcInst:
			// Dropped: the XML declaration, xml-stylesheet and the rest.
		}
	}
	if !rootSeen || !rootDone {
		return fail(msgMalformed)
	}
	return nil
}

// declare pushes the namespace declarations of an element's attributes.
func (c *cleaner) declare(attrs []xml.Attr) {
	depth := len(c.stack) + 1
	for _, a := range attrs {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			c.ns = append(c.ns, binding{"", a.Value, depth})
		case a.Name.Space == "xmlns":
			c.ns = append(c.ns, binding{a.Name.Local, a.Value, depth})
		}
	}
}

// resolve returns the namespace URI bound to prefix. Unprefixed names
// with no default namespace in scope count as SVG.
func (c *cleaner) resolve(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return "http://www.w3.org/XML/1998/namespace", true
	case "xmlns":
		return "http://www.w3.org/2000/xmlns/", true
	}
	for i := len(c.ns) - 1; i >= 0; i-- {
		if c.ns[i].prefix == prefix {
			return c.ns[i].uri, true
		}
	}
	if prefix == "" {
		return nsSVG, true
	}
	return "", false
}

func isEditor(uri string) bool {
	return uri == nsSodipodi || uri == nsInkscape
}

// root checks and writes the root element.
func (c *cleaner) root(t xml.StartElement) error {
	c.declare(t.Attr)
	uri, _ := c.resolve(t.Name.Space)
	if t.Name.Local != "svg" || uri != nsSVG {
		return fail(msgNotSVG)
	}
	b := &c.out
	b.WriteString(`<svg xmlns="` + nsSVG + `"`)
	if c.useXLink {
		b.WriteString(` xmlns:xlink="` + nsXLink + `"`)
	}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" && a.Value != nsXLink && c.opt.KeepMetadata && validPrefix(a.Name.Local) {
			b.WriteString(" xmlns:" + a.Name.Local + `="`)
			escape(b, a.Value, true)
			b.WriteByte('"')
			c.prefixes = append(c.prefixes, a.Name.Local)
		}
	}
	c.attrs(b, t.Attr, keep)
	b.WriteByte('>')
	c.stack = append(c.stack, frame{name: t.Name, qname: "svg", mode: keep})
	return nil
}

func validPrefix(p string) bool {
	return p != "" && !strings.Contains(lower(p), "javascript") && !strings.ContainsAny(p, `"'<>&`)
}

// dropped names SVG (or stray HTML) elements that run script, embed other
// documents or listen for events.
var dropped = map[string]bool{
	"script": true, "foreignobject": true, "iframe": true, "embed": true, "object": true,
	"handler": true, "listener": true, "applet": true, "frame": true, "frameset": true,
	"base": true, "link": true, "meta": true,
}

// animation elements can set an attribute, such as href, to any value.
var animation = map[string]bool{
	"animate": true, "set": true, "animatetransform": true, "animatemotion": true, "animatecolor": true,
}

// start handles a start tag below the root.
func (c *cleaner) start(t xml.StartElement) {
	parent := c.stack[len(c.stack)-1]
	c.declare(t.Attr)
	f := frame{name: t.Name, mode: drop}
	defer func() { c.stack = append(c.stack, f) }()
	if parent.mode == drop || parent.style != nil {
		return
	}
	local := lower(t.Name.Local)
	qname := t.Name.Local
	if t.Name.Space != "" {
		qname = t.Name.Space + ":" + t.Name.Local
	}
	if dropped[local] || strings.HasPrefix(lower(qname), "script") || strings.Contains(lower(qname), "javascript") ||
		!validName(qname) {
		return
	}
	if parent.mode == metadata {
		if local == "style" {
			return // an SVG <style> applies from anywhere, even here
		}
		f.mode, f.qname = metadata, qname
		c.writeStart(&c.meta, qname, t.Attr, metadata)
		return
	}
	uri, ok := c.resolve(t.Name.Space)
	switch {
	case !ok:
		return
	case isEditor(uri):
		if c.opt.KeepMetadata {
			f.mode, f.qname = keep, qname
			c.writeStart(&c.out, qname, t.Attr, keep)
		}
		return
	case uri != nsSVG:
		return // XHTML, MathML and unknown vocabularies
	}
	switch {
	case local == "metadata":
		if c.opt.KeepMetadata {
			f.mode, f.qname = metadata, "metadata"
			c.writeStart(&c.meta, "metadata", t.Attr, metadata)
		}
		return
	case animation[local] && animatesUnsafe(t.Attr):
		return
	case local == "style":
		var b bytes.Buffer
		c.writeStart(&b, "style", t.Attr, keep)
		f.mode, f.style, f.pending = keep, &bytes.Buffer{}, b.Bytes()
		return
	}
	f.mode, f.qname = keep, t.Name.Local
	c.writeStart(&c.out, t.Name.Local, t.Attr, keep)
}

// end writes the end tag of an element that was kept.
func (c *cleaner) end(f frame) {
	if f.mode == drop {
		return
	}
	if f.style != nil {
		css, ok := cleanCSS(f.style.String())
		if !ok {
			return
		}
		c.out.Write(f.pending)
		escape(&c.out, css, false)
		c.out.WriteString("</style>")
		return
	}
	c.w(f.mode).WriteString("</" + f.qname + ">")
}

// animatesUnsafe reports an animation of href or of an event attribute.
func animatesUnsafe(attrs []xml.Attr) bool {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == "attributeName" {
			v := lower(strings.TrimSpace(a.Value))
			if i := strings.IndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			return v == "href" || strings.HasPrefix(v, "on") || v == "style"
		}
	}
	return false
}

func (c *cleaner) writeStart(b *bytes.Buffer, qname string, attrs []xml.Attr, m mode) {
	b.WriteString("<" + qname)
	if m == metadata {
		for _, a := range attrs {
			if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
				if a.Name.Space == "" || validPrefix(a.Name.Local) {
					b.WriteString(" " + qualified(a.Name) + `="`)
					escape(b, a.Value, true)
					b.WriteByte('"')
				}
			}
		}
	}
	c.attrs(b, attrs, m)
	b.WriteByte('>')
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// validName guards the names written back: the XML parser accepted them,
// but keep to characters that need no thought.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n\"'<>&=/")
}

// attrs writes the attributes that are safe to keep.
func (c *cleaner) attrs(b *bytes.Buffer, attrs []xml.Attr, m mode) {
	for _, a := range attrs {
		name, ok := c.attrName(a.Name, m)
		if !ok {
			continue
		}
		local := lower(a.Name.Local)
		v := a.Value
		switch {
		case strings.HasPrefix(local, "on"):
			continue // event handlers
		case local == "href" || local == "src" || local == "action" || local == "formaction" || local == "data":
			if !safeRef(v) {
				continue
			}
		case local == "style":
			if v, ok = cleanCSS(v); !ok {
				continue
			}
		case strings.Contains(lower(v), "url("):
			if !urlsSafe(v) {
				continue // as a renderer ignores a paint it cannot fetch
			}
		}
		b.WriteString(" " + name + `="`)
		escape(b, v, true)
		b.WriteByte('"')
	}
}

// attrName returns the name to write for an attribute, or false to drop
// it. Namespace declarations are written by root and writeStart.
func (c *cleaner) attrName(n xml.Name, m mode) (string, bool) {
	q := qualified(n)
	if !validName(q) || strings.Contains(lower(q), "javascript") {
		return "", false
	}
	switch {
	case n.Space == "xmlns", n.Space == "" && n.Local == "xmlns":
		return "", false
	case n.Space == "":
		return n.Local, true
	case n.Space == "xml":
		return q, n.Local != "base"
	}
	uri, ok := c.resolve(n.Space)
	switch {
	case !ok:
		return "", false
	case uri == nsXLink:
		if !c.useXLink {
			return "", false
		}
		return "xlink:" + n.Local, true
	case m == metadata:
		return q, true
	case isEditor(uri) && c.opt.KeepMetadata:
		return q, true
	}
	return "", false
}

// safeRef reports a reference that loads nothing from elsewhere: a
// fragment of this document or an embedded raster image.
func safeRef(v string) bool {
	s := compact(v)
	if strings.HasPrefix(s, "#") {
		return true
	}
	return strings.HasPrefix(s, "data:image/") && !strings.HasPrefix(s, "data:image/svg")
}

// compact lowercases ASCII and removes whitespace and control characters,
// which browsers ignore inside a URL's scheme.
func compact(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c == 0x7F {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// lower lowercases ASCII letters only, so byte offsets do not move.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// escape writes s as XML text or a double-quoted attribute value. The
// colon of "javascript:" is written as a character reference so the text
// can never read as a script URL to a careless consumer.
func escape(b *bytes.Buffer, s string, attr bool) {
	l := lower(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>' && (attr || i >= 2 && s[i-2:i] == "]]"):
			b.WriteString("&gt;")
		case attr && c == '"':
			b.WriteString("&quot;")
		case attr && c == '\n':
			b.WriteString("&#10;")
		case attr && c == '\r':
			b.WriteString("&#13;")
		case attr && c == '\t':
			b.WriteString("&#9;")
		case c == ':' && i >= 10 && l[i-10:i] == "javascript":
			b.WriteString("&#58;")
		default:
			b.WriteByte(c)
		}
	}
}

// charsetReader accepts the single-byte encodings that map directly to
// Unicode; any other declared encoding is refused.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch lower(label) {
	case "us-ascii", "ascii", "iso-8859-1", "latin1", "iso_8859-1", "l1":
		b, err := io.ReadAll(io.LimitReader(r, MaxSize))
		if err != nil {
			return nil, err
		}
		var s strings.Builder
		for _, c := range b {
			s.WriteRune(rune(c))
		}
		return strings.NewReader(s.String()), nil
	}
	return nil, fail(msgCharset)
}
