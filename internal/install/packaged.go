package install

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagediet/imgdiet/internal/buildinfo"
)

// PackageName is the name of the helper's system packages (.deb, .rpm).
const PackageName = "imgdiet-host"

// PackageMarker is the file a system package puts beside the helper in its
// app folder; it holds the package format, "deb" or "rpm". The helper reads
// it to point people at the package manager instead of at the installer.
const PackageMarker = "package-format"

// Packaged reports which package format installed the helper in dir ("deb"
// or "rpm"), or "" when no package did.
func Packaged(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, PackageMarker))
	if err != nil {
		return ""
	}
	switch f := strings.TrimSpace(string(b)); f {
	case "deb", "rpm":
		return f
	}
	return ""
}

// packagedExe is the format of the package that installed the running
// program, or "".
func packagedExe(env Env) string {
	if env.Executable == "" {
		return ""
	}
	return Packaged(filepath.Dir(env.Executable))
}

// ReinstallCommand is the command that repairs a package install.
func ReinstallCommand(format string) string {
	if format == "rpm" {
		return "sudo dnf reinstall " + PackageName
	}
	return "sudo apt install --reinstall " + PackageName
}

// RemoveCommand is the command that removes a package install.
func RemoveCommand(format string) string {
	if format == "rpm" {
		return "sudo dnf remove " + PackageName
	}
	return "sudo apt purge " + PackageName
}

// debArch and rpmArch name goarch as the package formats do.
var (
	debArch = map[string]string{"amd64": "amd64", "arm64": "arm64"}
	rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
)

// ReleaseFile names the release download that installs the helper on goos
// and goarch, as scripts/package.sh writes it ("" when there is none).
func ReleaseFile(format, goos, goarch string) string {
	v := buildinfo.Version
	switch {
	case goos == "linux" && format == "deb" && debArch[goarch] != "":
		return fmt.Sprintf("%s_%s_%s.deb", PackageName, v, debArch[goarch])
	case goos == "linux" && format == "rpm" && rpmArch[goarch] != "":
		return fmt.Sprintf("%s-%s-1.%s.rpm", PackageName, v, rpmArch[goarch])
	case goos == "linux" && format == "tar.gz" && debArch[goarch] != "":
		return fmt.Sprintf("%s_%s_linux_%s.tar.gz", PackageName, v, goarch)
	case goos == "windows" && format == "zip" && goarch == "amd64":
		return fmt.Sprintf("%s_%s_windows_amd64.zip", PackageName, v)
	}
	return ""
}

// InstallHint is the step that installs the helper from a release on goos
// and goarch, for a person who has not installed it yet.
func InstallHint(goos, goarch string) string {
	switch {
	case goos == "linux" && debArch[goarch] != "":
		return fmt.Sprintf("install the release package: sudo apt install ./%s (Fedora, openSUSE: sudo dnf install ./%s)",
			ReleaseFile("deb", goos, goarch), ReleaseFile("rpm", goos, goarch))
	case goos == "windows" && goarch == "amd64":
		return fmt.Sprintf("unzip %s and run: powershell -ExecutionPolicy Bypass -File install.ps1", ReleaseFile("zip", goos, goarch))
	case goos == "darwin":
		return "there is no macOS package yet: build and install from source with scripts/install.sh"
	}
	return "build and install from source with scripts/install.sh"
}
