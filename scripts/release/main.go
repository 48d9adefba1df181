// Command release makes the pieces of a release for scripts/package.sh:
//
//	release nfpm      -version V -arch A -bin DIR -notices F -work DIR -ids ID,... -time T  (nfpm's config on stdout)
//	release sbom      -bin EXE -version V -goos OS -goarch ARCH -pkg NPM -pkg-version V -lib F -versions F -readme F -time T -o F
//	release notices   -version V -bin EXE,... -readme NAME=F,... -modcache D -goroot D -lgpl F -gpl F -o F
//	release extension -src DIR -version V -store F -unpacked F
//	release zip       -o F NAME=FILE...
//	release sums DIR | release verify DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/imagediet/imgdiet/internal/release"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: release nfpm|sbom|notices|extension|zip|sums|verify ...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "release %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func run(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	version := fs.String("version", "", "release version")
	out := fs.String("o", "", "output file")
	when := fs.String("time", "", "release time (RFC 3339; the commit's)")
	switch cmd {
	case "nfpm":
		arch := fs.String("arch", "", "Go architecture")
		bin := fs.String("bin", "", "folder of the built helper and lib/")
		notices := fs.String("notices", "", "THIRD_PARTY_NOTICES file")
		work := fs.String("work", "", "folder for rendered manifests")
		ids := fs.String("ids", "", "allowed Chrome extension IDs")
		fs.Parse(args)
		cfg, err := release.NfpmConfig(release.Package{Version: *version, Arch: *arch, BinDir: *bin, Notices: *notices, WorkDir: *work, ExtensionIDs: list(*ids), MTime: *when})
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(cfg, '\n'))
		return err
	case "sbom":
		var s release.SBOM
		fs.StringVar(&s.Binary, "bin", "", "helper binary")
		fs.StringVar(&s.GOOS, "goos", "", "target OS")
		fs.StringVar(&s.GOARCH, "goarch", "", "target CPU")
		fs.StringVar(&s.Bundle.Package, "pkg", "", "npm package of the libvips bundle")
		fs.StringVar(&s.Bundle.Version, "pkg-version", "", "its version")
		fs.StringVar(&s.Bundle.Lib, "lib", "", "the shipped libvips file")
		fs.StringVar(&s.Bundle.VersionsJSON, "versions", "", "the bundle's versions.json")
		fs.StringVar(&s.Bundle.README, "readme", "", "the bundle's README.md")
		fs.Parse(args)
		s.Version = *version
		t, err := time.Parse(time.RFC3339, *when)
		if err != nil {
			return fmt.Errorf("-time: %v", err)
		}
		s.Time = t
		bom, err := release.MakeSBOM(s)
		if err != nil {
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetEscapeHTML(false) // purl qualifiers keep their '&'
		enc.SetIndent("", "  ")
		if err := enc.Encode(bom); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case "notices":
		var n release.Notices
		bins := fs.String("bin", "", "helper binaries")
		readmes := fs.String("readme", "", "NAME=README of each libvips bundle")
		fs.StringVar(&n.ModCache, "modcache", "", "go env GOMODCACHE")
		fs.StringVar(&n.GoRoot, "goroot", "", "go env GOROOT")
		fs.StringVar(&n.LGPL, "lgpl", "/usr/share/common-licenses/LGPL-3", "LGPL-3.0 text")
		fs.StringVar(&n.GPL, "gpl", "/usr/share/common-licenses/GPL-3", "GPL-3.0 text")
		fs.Parse(args)
		n.Version, n.Binaries, n.BundleReadmes = *version, list(*bins), map[string]string{}
		for _, kv := range list(*readmes) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("-readme wants NAME=FILE, got %q", kv)
			}
			n.BundleReadmes[k] = v
		}
		data, err := release.MakeNotices(n)
		if err != nil {
			return err
		}
		return os.WriteFile(*out, data, 0o644)
	case "extension":
		src := fs.String("src", "extension", "extension folder")
		store := fs.String("store", "", "store zip (manifest without key)")
		unpacked := fs.String("unpacked", "", "unpacked zip (manifest with key)")
		fs.Parse(args)
		for _, z := range []struct {
			path    string
			withKey bool
		}{{*store, false}, {*unpacked, true}} {
			es, err := release.ExtensionEntries(*src, *version, z.withKey)
			if err != nil {
				return err
			}
			if err := release.WriteZip(z.path, es, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	case "zip":
		fs.Parse(args)
		var es []release.Entry
		for _, kv := range fs.Args() {
			name, src, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("want NAME=FILE, got %q", kv)
			}
			es = append(es, release.Entry{Name: name, Src: src})
		}
		return release.WriteZip(*out, es, time.Time{})
	case "sums", "verify":
		fs.Parse(args)
		if fs.NArg() != 1 {
			return fmt.Errorf("want one folder")
		}
		if cmd == "sums" {
			return release.WriteSums(fs.Arg(0))
		}
		if err := release.VerifySums(fs.Arg(0)); err != nil {
			return err
		}
		fmt.Printf("%s: every file is listed in %s and matches\n", fs.Arg(0), release.SumsName)
		return nil
	}
	return fmt.Errorf("unknown command")
}
