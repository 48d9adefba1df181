package install

// regAPI is the part of the Windows registry the installer uses. Keys are
// paths below a root ("HKCU" or "HKLM").
type regAPI interface {
	// SetDefault creates root\key (and missing parents) and sets its default
	// value; it returns the keys it created, outermost first.
	SetDefault(root, key, value string) ([]string, error)
	// Default reads root\key's default value.
	Default(root, key string) (string, error)
	// Delete removes root\key; a missing key is not an error.
	Delete(root, key string) error
	// DeleteIfEmpty removes root\key when it holds no subkeys and no values.
	DeleteIfEmpty(root, key string) error
}
