// Package install puts the native-messaging host where browsers find it:
// `imgdiet-host install` copies the host into an app folder and writes each
// browser's host manifest (and, on Windows, its registry key),
// `imgdiet-host uninstall` removes exactly what install recorded, and
// `imgdiet-host doctor` checks every registration by starting the host as a
// browser would.
package install

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is what the commands read from the machine. Tests fill it by hand;
// EnvFromOS fills it from the running process.
type Env struct {
	// Stdout and Stderr receive the output for people.
	Stdout, Stderr io.Writer
	// GOOS is the operating system paths are computed for; GOARCH the
	// processor, which names the release package to install.
	GOOS, GOARCH string
	// Home, XDGConfigHome and LocalAppData are the user's folders (empty
	// when not set).
	Home, XDGConfigHome, LocalAppData string
	// Executable is the path of the running binary (the host to install).
	Executable string
	// Getenv reads other environment variables (XDG_DATA_HOME,
	// ProgramFiles); nil reads none.
	Getenv func(string) string
	// Engine, when set, starts libvips in this process and reports its
	// version and the formats it encodes; doctor shows it. Leaving it nil
	// keeps this package free of cgo.
	Engine func() (version string, encoders []string)

	reg regAPI
}

// EnvFromOS returns the Env of the running process (runtime.GOOS, the
// environment, the Windows registry on Windows). The caller sets Stdout and
// Stderr; left nil, output is discarded.
func EnvFromOS() Env {
	home, _ := os.UserHomeDir()
	exe, _ := os.Executable()
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return Env{
		GOOS:          runtime.GOOS,
		GOARCH:        runtime.GOARCH,
		Home:          home,
		XDGConfigHome: os.Getenv("XDG_CONFIG_HOME"),
		LocalAppData:  os.Getenv("LOCALAPPDATA"),
		Executable:    exe,
		Getenv:        os.Getenv,
		reg:           osRegistry(),
	}
}

// Commands lists the subcommands Main runs.
var Commands = []string{"install", "uninstall", "doctor"}

// Main runs `imgdiet-host install|uninstall|doctor ARGS...` and returns the
// process exit status: 0 on success, 1 on failure, 2 for bad usage.
func Main(cmd string, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	fs := flag.NewFlagSet("imgdiet-host "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var o Options
	browser := fs.String("browser", "all", "browser to handle: "+strings.Join(Browsers, ", ")+" or all (a comma-separated list works)")
	fs.BoolVar(&o.System, "system", false, "for every user of this machine (needs sudo or an administrator) instead of the current user")
	fs.StringVar(&o.ExtensionID, "extension-id", "", "the Chrome extension ID allowed to start the host (default: from extension/manifest.json, else built in)")
	if cmd == "doctor" {
		fs.BoolVar(&o.UserOnly, "user", false, "check the current user's registrations only")
		fs.DurationVar(&o.Timeout, "timeout", HelloTimeout, "how long to wait for a started host's hello reply")
	} else {
		fs.BoolVar(&o.DryRun, "dry-run", false, "print what would change and change nothing")
	}
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: imgdiet-host %s [flags]\n", cmd)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "imgdiet-host %s: unexpected argument %q\n", cmd, fs.Arg(0))
		fs.Usage()
		return 2
	}
	o.Browsers = []string{*browser}
	var err error
	switch cmd {
	case "install":
		err = Install(o, env)
	case "uninstall":
		err = Uninstall(o, env)
	case "doctor":
		return Doctor(o, env)
	default:
		fmt.Fprintf(env.Stderr, "imgdiet-host: unknown command %q (use %s)\n", cmd, strings.Join(Commands, ", "))
		return 2
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "imgdiet-host %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
