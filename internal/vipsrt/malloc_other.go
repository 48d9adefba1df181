//go:build !linux

package vipsrt

// Trim returns freed heap memory to the operating system (a no-op here).
func Trim() {}
