package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imagediet/imgdiet/internal/cli"
	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/install"
	"github.com/imagediet/imgdiet/internal/logx"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// runCLI runs the command-line mode.
func runCLI(args []string) int {
	log := logx.New(logx.Config{Level: os.Getenv(logx.EnvLevel), Default: zerolog.WarnLevel, Console: true})
	app := &cli.App{
		Commands: map[string]cli.Command{},
		Version: func() []string {
			vipsrt.Start(vipsrt.DefaultConfig(), log)
			return []string{
				fmt.Sprintf("libvips %s", vipsrt.Version()),
				fmt.Sprintf("encoders %s", strings.Join(vipsrt.Encoders(), ",")),
			}
		},
	}
	addCommands(app, log)
	return app.Main(args, os.Stdout, os.Stderr)
}

// addCommands registers the subcommands.
func addCommands(app *cli.App, log zerolog.Logger) {
	app.Commands["optimize"] = cli.OptimizeCommand(func() cli.OptimizeDeps {
		vipsrt.Start(vipsrt.DefaultConfig(), log)
		cfg := defaultHostConfig()
		fcfg := fetch.DefaultConfig()
		fcfg.MaxBytes = cfg.MaxImageBytes
		return cli.OptimizeDeps{
			Engine:   optimize.New(optimize.Config{MaxPixels: cfg.MaxPixels, Log: log}),
			Fetcher:  fetch.New(fcfg, log),
			Progress: isTerminal(os.Stderr),
		}
	})
	app.Commands["install"] = installCommand("install", "register the helper with your browsers: install [--browser NAME|all] [--system] [--dry-run]", log)
	app.Commands["uninstall"] = installCommand("uninstall", "remove exactly what install wrote: uninstall [--browser NAME|all] [--system]", log)
	app.Commands["doctor"] = installCommand("doctor", "check libvips, browser registrations and a real hello, with a fix for each problem", log)
}

// installCommand adapts an install package command to the CLI.
func installCommand(name, summary string, log zerolog.Logger) cli.Command {
	return cli.Command{
		Summary: summary,
		Run: func(args []string, stdout, stderr io.Writer) int {
			env := install.EnvFromOS()
			env.Stdout, env.Stderr = stdout, stderr
			env.Engine = func() (string, []string) {
				vipsrt.Start(vipsrt.DefaultConfig(), log)
				return vipsrt.Version(), vipsrt.Encoders()
			}
			return install.Main(name, args, env)
		},
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
