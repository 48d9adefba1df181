// Package store holds optimized results in memory until they are released,
// evicted, or the host exits. Nothing is written to disk.
package store

import (
	"container/list"
	"sync"

	"github.com/google/uuid"

	"github.com/imagediet/imgdiet/internal/proto"
)

// DefaultMaxBytes bounds the bytes held when Config.MaxBytes is zero.
const DefaultMaxBytes int64 = 512 << 20

// Config bounds a Store.
type Config struct {
	// MaxBytes is the most image bytes held at once. Putting an item that
	// would exceed it evicts the oldest items first. Zero means
	// DefaultMaxBytes.
	MaxBytes int64
}

// Item is one held result.
type Item struct {
	// Key names the item; it is a random UUID.
	Key string
	// Name is a suggested file name (base name and extension), or "".
	Name string
	// Format is the image format, such as "webp".
	Format string
	// Data is the encoded file. Callers must not modify it.
	Data []byte
}

// Store is a size-bounded, insertion-ordered set of results. It is safe for
// concurrent use.
type Store struct {
	max   int64
	mu    sync.Mutex
	items map[string]*list.Element // values are *Item
	order *list.List               // oldest at the front
	bytes int64
}

// New returns an empty Store bounded by cfg.
func New(cfg Config) *Store {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	return &Store{max: cfg.MaxBytes, items: make(map[string]*list.Element), order: list.New()}
}

// Put holds data under a new random key and returns the key. The store
// takes ownership of data. Older items are evicted, oldest first, until the
// new one fits. An item larger than the whole bound is refused with a
// proto.CodeTooLarge error and nothing is evicted.
func (s *Store) Put(data []byte, format, name string) (string, error) {
	n := int64(len(data))
	if n > s.max {
		return "", proto.Errorf(proto.CodeTooLarge, "The optimized image is too large to keep for download.")
	}
	it := &Item{Key: uuid.NewString(), Name: name, Format: format, Data: data}
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.bytes+n > s.max {
		s.remove(s.order.Front())
	}
	s.items[it.Key] = s.order.PushBack(it)
	s.bytes += n
	return it.Key, nil
}

// Get returns the item held under key. It reports false for a key that was
// never issued, was released, or was evicted.
func (s *Store) Get(key string) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	if !ok {
		return Item{}, false
	}
	return *e.Value.(*Item), true
}

// Release drops the items under keys and returns how many were held.
// Unknown and repeated keys are not counted.
func (s *Store) Release(keys []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range keys {
		if e, ok := s.items[k]; ok {
			s.remove(e)
			n++
		}
	}
	return n
}

// ReleaseAll drops every item and returns how many there were.
func (s *Store) ReleaseAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.items)
	s.items = make(map[string]*list.Element)
	s.order.Init()
	s.bytes = 0
	return n
}

// Len returns the number of items held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Bytes returns the total size of the items held.
func (s *Store) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// MaxBytes returns the bound on the bytes held.
func (s *Store) MaxBytes() int64 { return s.max }

// remove drops e; s.mu must be held.
func (s *Store) remove(e *list.Element) {
	it := s.order.Remove(e).(*Item)
	delete(s.items, it.Key)
	s.bytes -= int64(len(it.Data))
}
