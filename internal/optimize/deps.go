package optimize

// Thin adapters over the sibling packages this engine builds on.

import (
	"github.com/imagediet/imgdiet/internal/metric"
	"github.com/imagediet/imgdiet/internal/probe"
	"github.com/imagediet/imgdiet/internal/svgclean"
)

// pixels is 8-bit sRGB, interleaved, 3 or 4 bands.
type pixels = metric.Image

// probeRead measures b from its headers only, before any pixel decode.
func probeRead(b []byte, maxPixels int64, maxFrames int) (probe.Info, error) {
	return probe.Read(b, probe.Limits{MaxPixels: maxPixels, MaxFrames: maxFrames})
}

func cleanSVG(src []byte, keepMetadata bool) ([]byte, error) {
	return svgclean.Clean(src, svgclean.Options{KeepMetadata: keepMetadata})
}

// threshold is the largest distance accepted for target and codec ("" for
// any codec).
func threshold(target, codec string) (float64, bool) {
	if target == "" {
		target = metric.TargetBalanced
	}
	if codec == "" {
		return metric.Threshold(target)
	}
	return metric.ThresholdFor(target, codec)
}
