// Package buildinfo holds the host's name and version.
package buildinfo

// Name is the native-messaging host name, as registered in browser manifests.
const Name = "imgdiet-host"

// NativeName is the name browsers know the host by (lowercase, dots allowed).
const NativeName = "com.imagediet.host"

// Version is the host's release version.
const Version = "0.1.0"

// Protocol is the wire-contract version this host speaks.
const Protocol = 1
