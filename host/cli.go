package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/imagediet/imgdiet/internal/cli"
	"github.com/imagediet/imgdiet/internal/fetch"
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
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
