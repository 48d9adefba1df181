package release

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SumsName is the checksum file's name in a release folder.
const SumsName = "SHA256SUMS"

// fileSHA256 is the hex SHA-256 of a file's bytes.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// releaseFiles lists the files below dir (slash-separated, sorted), all but
// SHA256SUMS itself.
func releaseFiles(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != SumsName {
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// WriteSums writes dir/SHA256SUMS for every file below dir, in the format
// `sha256sum -c` reads: the hex digest, two spaces, the path.
func WriteSums(dir string) error {
	names, err := releaseFiles(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(dir, SumsName), []byte(b.String()), 0o644)
}

// VerifySums checks dir/SHA256SUMS against dir: every file is listed once,
// every listed file exists, and every digest matches. The error lists each
// problem.
func VerifySums(dir string) error {
	f, err := os.Open(filepath.Join(dir, SumsName))
	if err != nil {
		return err
	}
	defer f.Close()
	listed := map[string]string{}
	var problems []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" || name == "" {
			problems = append(problems, fmt.Sprintf("line %d is not \"<sha256>  <name>\": %q", n, line))
			continue
		}
		if _, dup := listed[name]; dup {
			problems = append(problems, fmt.Sprintf("%s is listed twice", name))
		}
		listed[name] = sum
	}
	if err := sc.Err(); err != nil {
		return err
	}
	names, err := releaseFiles(dir)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
		want, ok := listed[n]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is not listed", n))
			continue
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		if got != want {
			problems = append(problems, fmt.Sprintf("%s does not match its checksum", n))
		}
	}
	for n := range listed {
		if !present[n] {
			problems = append(problems, fmt.Sprintf("%s is listed but missing", n))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
