//go:build windows

package install

import (
	"errors"
	"strings"

	"golang.org/x/sys/windows/registry"
)

type winRegistry struct{}

func osRegistry() regAPI { return winRegistry{} }

func rootKey(root string) (registry.Key, error) {
	switch root {
	case "HKCU":
		return registry.CURRENT_USER, nil
	case "HKLM":
		return registry.LOCAL_MACHINE, nil
	}
	return 0, errors.New("unknown registry root " + root)
}

func (winRegistry) SetDefault(root, key, value string) ([]string, error) {
	r, err := rootKey(root)
	if err != nil {
		return nil, err
	}
	var created []string
	parts := strings.Split(key, `\`)
	for i := range parts {
		p := strings.Join(parts[:i+1], `\`)
		k, existed, err := registry.CreateKey(r, p, registry.ALL_ACCESS)
		if err != nil {
			return created, err
		}
		if !existed {
			created = append(created, p)
		}
		if i == len(parts)-1 {
			err = k.SetStringValue("", value)
		}
		k.Close()
		if err != nil {
			return created, err
		}
	}
	return created, nil
}

func (winRegistry) Default(root, key string) (string, error) {
	r, err := rootKey(root)
	if err != nil {
		return "", err
	}
	k, err := registry.OpenKey(r, key, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue("")
	return v, err
}

func (winRegistry) Delete(root, key string) error {
	r, err := rootKey(root)
	if err != nil {
		return err
	}
	if err := registry.DeleteKey(r, key); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}

func (winRegistry) DeleteIfEmpty(root, key string) error {
	r, err := rootKey(root)
	if err != nil {
		return err
	}
	k, err := registry.OpenKey(r, key, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil
	}
	info, err := k.Stat()
	k.Close()
	if err != nil || info.SubKeyCount > 0 || info.ValueCount > 0 {
		return err
	}
	return registry.DeleteKey(r, key)
}
