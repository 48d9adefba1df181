package main

import (
	"os"
	"strconv"
)

// hostConfig holds the host's limits, from defaults and IMGDIET_* variables.
type hostConfig struct {
	MaxImageBytes    int64
	MaxPixels        int64
	MaxImagesPerScan int
	MaxHeldBytes     int64
}

func defaultHostConfig() hostConfig {
	c := hostConfig{
		MaxImageBytes:    32 << 20,
		MaxPixels:        50_000_000,
		MaxImagesPerScan: 2000,
		MaxHeldBytes:     512 << 20,
	}
	envInt64("IMGDIET_MAX_IMAGE_BYTES", &c.MaxImageBytes)
	envInt64("IMGDIET_MAX_PIXELS", &c.MaxPixels)
	envInt64("IMGDIET_MAX_HELD_BYTES", &c.MaxHeldBytes)
	var n int64 = int64(c.MaxImagesPerScan)
	envInt64("IMGDIET_MAX_IMAGES_PER_SCAN", &n)
	c.MaxImagesPerScan = int(n)
	return c
}

func envInt64(name string, dst *int64) {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		*dst = v
	}
}
