package main

import (
	"fmt"
	"os"

	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

func main() {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.New(os.Stderr))
	fmt.Fprintln(os.Stderr, vipsrt.Version(), vipsrt.Encoders())
}
