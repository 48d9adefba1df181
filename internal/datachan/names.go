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
	name = cleanPart(name)

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
	stem = safeStem(stem)
	if stem == "" {
		return ""
	}
	return stem + ext
}

// SafeFolder returns name made safe as one folder of a ZIP entry's path,
// by SafeName's rules without the extension: "" when nothing is left.
func SafeFolder(name string) string {
	return safeStem(cleanPart(strings.ToValidUTF8(name, "")))
}

// cleanPart removes from one part of a path (no separators) the
// characters SafeName refuses, runs of dots, and trailing dots and
// spaces.
func cleanPart(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError || strings.ContainsRune(`<>:"|?*`, r) {
			return -1
		}
		return r
	}, name)
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	return strings.TrimRight(name, " .")
}

// safeStem bounds a cleaned name without its extension: no leading dots
// or spaces, at most maxStem bytes, no trailing dots or spaces, and a "_"
// before a Windows device name.
func safeStem(stem string) string {
	stem = strings.Trim(truncate(strings.TrimLeft(stem, " ."), maxStem), " .")
	if stem == "" {
		return ""
	}
	if dev, _, _ := strings.Cut(stem, "."); reserved[strings.ToUpper(strings.TrimRight(dev, " "))] {
		stem = "_" + stem
	}
	return stem
}

// splitPath splits an entry's name into its folder, the last non-empty
// part before its file name ("" when there is none), and its file name
// (everything after the last separator, "" when the name ends in one).
// Separators are "/" and "\"; folders before the last are dropped.
func splitPath(name string) (dir, file string) {
	i := strings.LastIndexAny(name, `/\`)
	if i < 0 {
		return "", name
	}
	parts := strings.FieldsFunc(name[:i], func(r rune) bool { return r == '/' || r == '\\' })
	if len(parts) > 0 {
		dir = parts[len(parts)-1]
	}
	return dir, name[i+1:]
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
type namer struct {
	used map[string]bool   // every path handed out, lower case
	dirs map[string]string // folder asked for (lower case) → folder used
}

// next returns a unique safe path for entry n (1-based): at most one
// folder, from the first of names, and a file name from the first of
// names with a usable one, falling back to "image-N.<ext>". Each part is
// made safe on its own (SafeFolder, SafeName); a folder is never named
// like a file at the top of the archive, nor a file like a folder.
func (nm *namer) next(n int, format string, names ...string) string {
	if nm.used == nil {
		nm.used = make(map[string]bool)
		nm.dirs = make(map[string]string)
	}
	dir := ""
	if len(names) > 0 {
		d, _ := splitPath(names[0])
		dir = nm.folder(SafeFolder(d))
	}
	name := ""
	for _, c := range names {
		_, f := splitPath(strings.ToValidUTF8(c, ""))
		if name = SafeName(f, format); name != "" {
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
	path := join(dir, name)
	for k := 2; nm.taken(path, dir == ""); k++ {
		path = join(dir, stem+" ("+strconv.Itoa(k)+")"+ext)
	}
	nm.used[strings.ToLower(path)] = true
	return path
}

// folder returns the folder to use for the safe folder name d: the one
// used before for it, else d, numbered when a top-level file has its
// name.
func (nm *namer) folder(d string) string {
	if d == "" {
		return ""
	}
	low := strings.ToLower(d)
	if use, ok := nm.dirs[low]; ok {
		return use
	}
	use := d
	for k := 2; nm.used[strings.ToLower(use)]; k++ {
		use = d + " (" + strconv.Itoa(k) + ")"
	}
	nm.dirs[low] = use
	return use
}

// taken reports whether path is handed out already or, at the top of the
// archive, is a folder's name.
func (nm *namer) taken(path string, top bool) bool {
	low := strings.ToLower(path)
	if nm.used[low] {
		return true
	}
	if top {
		for _, u := range nm.dirs {
			if strings.EqualFold(u, path) {
				return true
			}
		}
	}
	return false
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
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
