package release

import (
	"archive/zip"
	"io/fs"
	"os"
	"sort"
	"time"
)

// Entry is one file in a zip: its name inside the archive and either the
// path of its source file or its bytes.
type Entry struct {
	Name string
	Src  string
	Data []byte
	// Mode is the file's mode; 0 means 0644 (0755 for a source file that
	// is executable).
	Mode fs.FileMode
}

// WriteZip writes entries, sorted by name and deflated, to dst with every
// modification time set to mtime (zero means Epoch), so the same inputs
// give the same bytes.
func WriteZip(dst string, entries []Entry, mtime time.Time) error {
	if mtime.IsZero() {
		mtime = Epoch
	}
	es := append([]Entry(nil), entries...)
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, e := range es {
		data, mode := e.Data, e.Mode
		if e.Src != "" {
			if data, err = os.ReadFile(e.Src); err != nil {
				f.Close()
				return err
			}
			if st, err := os.Stat(e.Src); err == nil && mode == 0 && st.Mode()&0o111 != 0 {
				mode = 0o755
			}
		}
		if mode == 0 {
			mode = 0o644
		}
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: mtime.UTC()}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
