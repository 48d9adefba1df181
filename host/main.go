// Command imgdiet-host is Image Diet's helper. Started by a browser with the
// extension's origin it speaks native messaging on stdin/stdout; started by
// a person it is a command-line optimizer.
package main

import (
	"os"

	"github.com/imagediet/imgdiet/internal/datachan"
	"strings"
)

func main() {
	args := os.Args[1:]
	if origin, ok := nativeOrigin(args); ok {
		os.Exit(runNative(origin))
	}
	os.Exit(runCLI(args))
}

// nativeOrigin reports whether the browser started the host, and the
// extension origin allowed to use its data channel. Chrome passes
// "chrome-extension://ID/" (and on Windows "--parent-window=N"); Firefox
// passes the manifest path and the add-on id, and its extension origins
// are random per profile, so any of them is accepted (the token guards).
func nativeOrigin(args []string) (string, bool) {
	for _, a := range args {
		if strings.HasPrefix(a, "chrome-extension://") {
			return strings.TrimSuffix(a, "/"), true
		}
	}
	if len(args) == 2 && strings.HasSuffix(args[0], ".json") && !strings.HasPrefix(args[1], "-") {
		return datachan.AnyFirefoxOrigin, true
	}
	return "", false
}
