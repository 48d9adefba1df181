// Package proto defines the messages and error codes of the wire contract
// between the extension and the host (docs/protocol.md, version 1).
package proto

import "encoding/json"

// Message types.
const (
	TypeHello    = "hello"
	TypeScan     = "scan"
	TypeResult   = "result"
	TypeDone     = "done"
	TypeCancel   = "cancel"
	TypeRelease  = "release"
	TypeReleased = "released"
	TypeError    = "error"
	TypeVariants = "variants"
)

// Envelope is the part every message shares. ID is kept raw so a reply can
// echo whatever the request carried, or null.
type Envelope struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id"`
}

// HelloRequest opens a session.
type HelloRequest struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Protocol *int   `json:"protocol"`
}

// HelloReply answers HelloRequest.
type HelloReply struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Protocol int       `json:"protocol"`
	Host     HostInfo  `json:"host"`
	Engine   Engine    `json:"engine"`
	Encoders []string  `json:"encoders"`
	Limits   Limits    `json:"limits"`
	Data     *DataInfo `json:"data"`
}

// HostInfo names the host.
type HostInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Engine describes the image library.
type Engine struct {
	Libvips string `json:"libvips"`
}

// Limits are the bounds the host enforces.
type Limits struct {
	MaxImageBytes    int64 `json:"maxImageBytes"`
	MaxPixels        int64 `json:"maxPixels"`
	MaxImagesPerScan int   `json:"maxImagesPerScan"`
}

// DataInfo tells where the data channel listens.
type DataInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// ScanRequest asks the host to measure and optimize a page's images.
type ScanRequest struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Page     Page      `json:"page"`
	Settings *Settings `json:"settings"`
	Images   []Image   `json:"images"`
}

// Page is the page the images came from.
type Page struct {
	URL string `json:"url"`
}

// Settings are the user's choices for a scan. Nil fields take defaults.
type Settings struct {
	Formats         []string        `json:"formats,omitempty"`
	Quality         json.RawMessage `json:"quality,omitempty"`
	Target          string          `json:"target,omitempty"`
	Resize          *bool           `json:"resize,omitempty"`
	KeepMetadata    *bool           `json:"keepMetadata,omitempty"`
	MinSavingsBytes *int64          `json:"minSavingsBytes,omitempty"`
	// ImageBudgetSeconds bounds the time spent on one image's final
	// answer (1 to 600, default 20).
	ImageBudgetSeconds *float64 `json:"imageBudgetSeconds,omitempty"`
	// Variants asks for responsive variants (a "variants" message per
	// image after its final result).
	Variants *bool `json:"variants,omitempty"`
}

// Image is one image of a scan.
type Image struct {
	URL           string  `json:"url"`
	Data          []byte  `json:"data,omitempty"` // base64 in JSON
	DisplayWidth  float64 `json:"displayWidth,omitempty"`
	DisplayHeight float64 `json:"displayHeight,omitempty"`
	DPR           float64 `json:"dpr,omitempty"`
	// SrcsetWidths are the "w" widths of the image's own srcset, as the
	// page lists them (at most MaxSrcsetWidths, each 1 to MaxVariantWidth).
	SrcsetWidths []int `json:"srcsetWidths,omitempty"`
}

// Bounds of images[].srcsetWidths.
const (
	MaxSrcsetWidths = 16
	MaxVariantWidth = 65535
)

// Result reports one image of a scan.
type Result struct {
	Type  string `json:"type,omitempty"`
	ID    string `json:"id,omitempty"`
	Index int    `json:"index"`
	Final bool   `json:"final"`
	// Verified reports that the verdict was checked against the target
	// with the exact referee, or that the quality was fixed.
	Verified     bool        `json:"verified"`
	URL          string      `json:"url"`
	Status       string      `json:"status"`
	Original     *Original   `json:"original,omitempty"`
	Best         *Candidate  `json:"best"`
	Candidates   []Candidate `json:"candidates,omitempty"`
	SavedBytes   int64       `json:"savedBytes"`
	SavedPercent float64     `json:"savedPercent"`
	Reasons      []string    `json:"reasons,omitempty"`
	// Skipped lists allowed formats the host did not try, with why (for
	// example an encode that would need too much memory).
	Skipped []Skip `json:"skipped,omitempty"`
	// Note is a sentence for the person when the result was reached in an
	// unusual way (a budget ran out, the exact check failed).
	Note  string `json:"note,omitempty"`
	Error *Error `json:"error,omitempty"`
	// Variants is the command line's own: `optimize --variants --json`
	// prints an image's variants on its result line. The scan sends them
	// in a message of their own (Variants).
	Variants []Variant `json:"variants,omitempty"`
}

// Skip is an allowed format a result leaves out, and a sentence saying why.
type Skip struct {
	Format string `json:"format"`
	Reason string `json:"reason"`
}

// Result statuses.
const (
	StatusOptimized = "optimized"
	StatusOptimal   = "optimal"
	StatusError     = "error"
)

// Original describes the source image.
type Original struct {
	Bytes    int64  `json:"bytes"`
	Format   string `json:"format"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Animated bool   `json:"animated"`
}

// Candidate is one encoding of an image.
type Candidate struct {
	Key     string `json:"key,omitempty"`
	Format  string `json:"format"`
	Bytes   int64  `json:"bytes"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Quality int    `json:"quality,omitempty"`
	// Distance is the butteraugli distance measured for the candidate
	// (its calibrated equivalent above 2.5 MP); absent for lossless
	// candidates, fixed quality and unverified results.
	Distance *float64 `json:"distance,omitempty"`
}

// Variants lists the responsive variants of one image, sent after its
// final result when settings.variants is true.
type Variants struct {
	Type     string    `json:"type"`
	ID       string    `json:"id"`
	Index    int       `json:"index"`
	Variants []Variant `json:"variants"`
	// Reason says why Variants is empty.
	Reason string `json:"reason,omitempty"`
	// Note says why the list is shorter than the rule asks (a budget ran
	// out, a format met the target at no quality).
	Note string `json:"note,omitempty"`
}

// Variant is one width of an image, in the formats of its chain.
type Variant struct {
	Width  int           `json:"width"`
	Height int           `json:"height"`
	Files  []VariantFile `json:"files"`
}

// VariantFile is one held file of a variant.
type VariantFile struct {
	// Key names the held file (absent on the command line's output).
	Key      string   `json:"key,omitempty"`
	Format   string   `json:"format"`
	Bytes    int64    `json:"bytes"`
	Quality  int      `json:"quality,omitempty"`
	Distance *float64 `json:"distance,omitempty"`
}

// Done ends a scan.
type Done struct {
	Type     string  `json:"type,omitempty"`
	ID       string  `json:"id,omitempty"`
	Canceled bool    `json:"canceled"`
	Summary  Summary `json:"summary"`
}

// Summary totals a scan.
type Summary struct {
	Images         int   `json:"images"`
	Optimized      int   `json:"optimized"`
	Optimal        int   `json:"optimal"`
	Failed         int   `json:"failed"`
	OriginalBytes  int64 `json:"originalBytes"`
	OptimizedBytes int64 `json:"optimizedBytes"`
	SavedBytes     int64 `json:"savedBytes"`
	ElapsedMs      int64 `json:"elapsedMs"`
}

// CancelRequest stops a scan.
type CancelRequest struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Scan string `json:"scan"`
}

// ReleaseRequest drops held bytes.
type ReleaseRequest struct {
	Type string   `json:"type"`
	ID   string   `json:"id"`
	Keys []string `json:"keys"`
	All  bool     `json:"all"`
}

// Released answers ReleaseRequest.
type Released struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Count int    `json:"count"`
}

// ErrorReply answers a request the host cannot act on. ID is the request's
// id as it came, or null.
type ErrorReply struct {
	Type  string          `json:"type"`
	ID    json.RawMessage `json:"id"`
	Error *Error          `json:"error"`
}
