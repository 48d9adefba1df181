//go:build !windows

package install

func osRegistry() regAPI { return nil }
