package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// fsop performs the installer's file changes, or only describes them when
// dry is set. Every write goes to a temporary file beside the target and is
// renamed over it, so a reader never sees half a file.
type fsop struct {
	dry bool
	out io.Writer
	// gone holds what a dry run would have removed, so that it describes
	// the folders that would end up empty.
	gone map[string]bool
}

func (o *fsop) markGone(p string) {
	if o.gone == nil {
		o.gone = map[string]bool{}
	}
	o.gone[p] = true
}

func (o *fsop) say(format string, a ...any) {
	if o.dry {
		fmt.Fprintf(o.out, "would "+format+"\n", a...)
	}
}

// mkdirs creates dir and its missing parents and returns the folders it
// created (or would create), outermost first.
func (o *fsop) mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				return nil, fmt.Errorf("%s is in the way: it is a file, not a folder", d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, plainErr("look at", d, err)
		}
		missing = append(missing, d)
		p := filepath.Dir(d)
		if p == d {
			break
		}
		d = p
	}
	for i, j := 0, len(missing)-1; i < j; i, j = i+1, j-1 {
		missing[i], missing[j] = missing[j], missing[i]
	}
	var created []string
	for _, d := range missing {
		o.say("create folder %s", d)
		if o.dry {
			created = append(created, d)
			continue
		}
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return created, plainErr("create folder", d, err)
		}
		created = append(created, d)
	}
	return created, nil
}

// writeFile puts data at path with mode perm; a file that already holds
// exactly that is left alone. It reports whether anything changed.
func (o *fsop) writeFile(path string, data []byte, perm fs.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm() == perm {
			return false, nil
		}
	}
	o.say("write %s", path)
	if o.dry {
		return true, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, plainErr("write", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (bool, error) {
		f.Close()
		os.Remove(tmp)
		return false, plainErr("write", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, plainErr("write", path, err)
	}
	return true, nil
}

// copyFile copies src to dst keeping src's permission bits.
func (o *fsop) copyFile(src, dst string) (bool, error) {
	st, err := os.Stat(src)
	if err != nil {
		return false, plainErr("read", src, err)
	}
	if dst2, err := os.Stat(dst); err == nil && os.SameFile(st, dst2) {
		return false, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return false, plainErr("read", src, err)
	}
	return o.writeFile(dst, data, st.Mode().Perm())
}

// remove deletes a file; a file already gone is fine.
func (o *fsop) remove(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	o.say("remove %s", path)
	if o.dry {
		o.markGone(path)
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return plainErr("remove", path, err)
	}
	return nil
}

// rmdirs removes the folders in dirs that are empty, deepest first (a
// folder holding anything is kept). It returns the folders kept.
func (o *fsop) rmdirs(dirs []string) []string {
	ds := append([]string(nil), dirs...)
	sort.SliceStable(ds, func(i, j int) bool { return len(ds[i]) > len(ds[j]) })
	var kept []string
	for _, d := range ds {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		n := 0
		for _, e := range ents {
			if !o.gone[filepath.Join(d, e.Name())] {
				n++
			}
		}
		if err != nil || n > 0 {
			kept = append(kept, d)
			continue
		}
		o.say("remove empty folder %s", d)
		o.markGone(d)
		if !o.dry {
			if err := os.Remove(d); err != nil {
				kept = append(kept, d)
			}
		}
	}
	return kept
}

// plainErr words a file-system failure for the person running the
// installer.
func plainErr(verb, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot %s %s: permission denied (a system-wide install needs sudo or an administrator)", verb, path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot %s %s: it does not exist", verb, path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot %s %s: %v", verb, path, err)
}
