// Package release makes and checks the release artifacts scripts/package.sh
// writes to dist/: deterministic zips, the extension's store and unpacked
// zips, the system packages' nfpm configuration, a CycloneDX SBOM of the Go
// modules and the libvips bundle in each helper build, the third-party
// notices, and SHA256SUMS.
package release

import (
	"time"
)

// Epoch is the modification time written into zips when none is given:
// a fixed time keeps the archives byte-identical from one build to the next.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
