package datachan

import (
	"archive/zip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxStem bounds the part of a file name before its extension, in bytes.
const maxStem = 100

// formatExts lists, per format, the extensions a name may keep; the first
// is the one added when a name has none of them.
var formatExts = map[string][]string{
	"jpeg": {".jpg", ".jpeg"},
	"jpg":  {".jpg", ".jpeg"},
	"png":  {".png"},
	"webp": {".webp"},
	"avif": {".avif"},
	"gif":  {".gif"},
	"svg":  {".svg"},
}

// imageExts are extensions replaced, rather than kept, when they do not fit
// the file's format ("photo.jpg" holding WebP becomes "photo.webp").
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jfif": true, ".jpe": true, ".png": true, ".apng": true,
	".webp": true, ".avif": true, ".gif": true, ".svg": true, ".bmp": true, ".tif": true,
	".tiff": true, ".heic": true, ".heif": true, ".ico": true, ".jxl": true,
}

// reserved are device names Windows refuses as file names, with any
// extension and any trailing spaces: the digits include the superscripts
// ¹ ² ³, which Windows also reads as port numbers.
var reserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM0": true, "COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM¹": true, "COM²": true, "COM³": true,
	"LPT0": true, "LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT¹": true, "LPT²": true, "LPT³": true,
}

// Ext returns the file extension, with its dot, used for format, or ".bin"
// for a format it does not know.
func Ext(format string) string {
	if e, ok := formatExts[strings.ToLower(format)]; ok {
		return e[0]
	}
	return ".bin"
}

// SafeName returns name made safe to save as a file holding an image of
// format: the base name only (no directories, no ".."), without control,
// bidirectional-format or Windows-reserved characters, bytes that are not
// UTF-8 or the replacement character they became on the way, leading dots
// or trailing dots and spaces, at most maxStem bytes before the extension,
// not a Windows device name, and ending in an extension that fits format.
// It returns "" when no stem is left (a name of dots, spaces or invalid
// bytes only, or an extension alone such as ".webp"), so the caller can
// fall back to a name derived from the image's URL.
func SafeName(name, format string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError || strings.ContainsRune(`<>:"|?*`, r) {
			return -1
		}
		return r
	}, name)
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	name = strings.TrimRight(name, " .")

	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		stem, ext = name[:i], strings.ToLower(name[i:])
	}
	want := formatExts[strings.ToLower(format)]
	switch {
	case contains(want, ext):
	case imageExts[ext]:
		ext = Ext(format)
	default:
		stem, ext = name, Ext(format)
	}
	stem = strings.Trim(truncate(strings.TrimLeft(stem, " ."), maxStem), " .")
	if stem == "" {
		return ""
	}
	if dev, _, _ := strings.Cut(stem, "."); reserved[strings.ToUpper(strings.TrimRight(dev, " "))] {
		stem = "_" + stem
	}
	return stem + ext
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// namer hands out unique entry names for one archive. Names are compared
// without case, as on Windows and macOS file systems.
type namer struct{ used map[string]bool }

// next returns a unique safe name for entry n (1-based) trying each of
// names in turn, falling back to "image-N.<ext>".
func (nm *namer) next(n int, format string, names ...string) string {
	if nm.used == nil {
		nm.used = make(map[string]bool)
	}
	name := ""
	for _, c := range names {
		if name = SafeName(c, format); name != "" {
			break
		}
	}
	if name == "" {
		name = "image-" + strconv.Itoa(n) + Ext(format)
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stem, ext = name[:i], name[i:]
	}
	for k := 2; nm.used[strings.ToLower(name)]; k++ {
		name = stem + " (" + strconv.Itoa(k) + ")" + ext
	}
	nm.used[strings.ToLower(name)] = true
	return name
}

// method returns the ZIP method for format: formats that are already
// compressed are stored, the rest deflated.
func method(format string) uint16 {
	switch strings.ToLower(format) {
	case "jpeg", "jpg", "png", "webp", "avif", "gif":
		return zip.Store
	}
	return zip.Deflate
}
