// Package cli is the host's command-line mode: the commands a person types,
// as opposed to the native-messaging mode a browser starts.
package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/imagediet/imgdiet/internal/buildinfo"
)

// Command is one subcommand.
type Command struct {
	// Summary is one line for the usage text.
	Summary string
	// Run executes the command with its arguments and returns the exit
	// status.
	Run func(args []string, stdout, stderr io.Writer) int
}

// App is the set of commands the binary offers.
type App struct {
	Commands map[string]Command
	// Version returns extra lines for `version` (libvips, encoders).
	Version func() []string
}

// Exit statuses.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Main runs the command named by args[0]. Unknown commands and flags print
// the usage to stderr and return ExitUsage.
func (a *App) Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		a.usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		a.usage(stdout)
		return ExitOK
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "%s %s (protocol %d)\n", buildinfo.Name, buildinfo.Version, buildinfo.Protocol)
		if a.Version != nil {
			for _, l := range a.Version() {
				fmt.Fprintln(stdout, l)
			}
		}
		return ExitOK
	}
	cmd, ok := a.Commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command or argument %q\n\n", buildinfo.Name, args[0])
		a.usage(stderr)
		return ExitUsage
	}
	return cmd.Run(args[1:], stdout, stderr)
}

func (a *App) usage(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Image Diet's helper: measures and optimizes web images on this machine.\n\n")
	fmt.Fprintf(&b, "Usage:\n  %s COMMAND [ARGS]\n  %s chrome-extension://ID/   (started by the browser: native-messaging mode)\n\nCommands:\n", buildinfo.Name, buildinfo.Name)
	names := make([]string, 0, len(a.Commands))
	for n := range a.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "  %-10s %s\n", "version", "print the version, libvips version and encoders")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, a.Commands[n].Summary)
	}
	fmt.Fprintf(&b, "  %-10s %s\n\nRun '%s COMMAND --help' for a command's options.\n", "help", "print this text", buildinfo.Name)
	io.WriteString(w, b.String())
}
