package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/imagediet/imgdiet/internal/proto"
)

func TestPutGet(t *testing.T) {
	s := New(Config{})
	data := []byte("RIFF....WEBPVP8 ")
	key, err := s.Put(data, "webp", "photo.webp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(key); err != nil {
		t.Fatalf("key %q is not a UUID: %v", key, err)
	}
	it, ok := s.Get(key)
	if !ok {
		t.Fatal("Get of a fresh key = false")
	}
	if it.Key != key || it.Format != "webp" || it.Name != "photo.webp" || !bytes.Equal(it.Data, data) {
		t.Fatalf("Get = %+v", it)
	}
	if _, ok := s.Get(uuid.NewString()); ok {
		t.Fatal("Get of an unknown key = true")
	}
	if s.Len() != 1 || s.Bytes() != int64(len(data)) {
		t.Fatalf("Len, Bytes = %d, %d", s.Len(), s.Bytes())
	}
	k2, _ := s.Put(data, "webp", "")
	if k2 == key {
		t.Fatal("two Puts returned the same key")
	}
}

func TestDefaultMax(t *testing.T) {
	if got := New(Config{}).max; got != DefaultMaxBytes {
		t.Fatalf("default max = %d", got)
	}
}

func TestEviction(t *testing.T) {
	tests := []struct {
		name      string
		max       int64
		sizes     []int // Put in this order; -1 marks a Get of the first key (no refresh)
		wantHeld  []int // indexes of the Puts (Gets not counted) that must remain
		wantBytes int64
		wantErrAt int // index of a Put that must fail, or -1
	}{
		{"fits", 10, []int{3, 3, 4}, []int{0, 1, 2}, 10, -1},
		{"oldest first", 10, []int{4, 4, 4}, []int{1, 2}, 8, -1},
		{"several evicted", 10, []int{2, 2, 2, 2, 9}, []int{4}, 9, -1},
		{"exact bound", 10, []int{5, 10}, []int{1}, 10, -1},
		{"get does not refresh", 10, []int{4, 4, -1, 4}, []int{1, 2}, 8, -1},
		{"too large refused, nothing evicted", 10, []int{4, 11}, []int{0}, 4, 1},
		{"empty data", 1, []int{1, 0, 0}, []int{0, 1, 2}, 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{MaxBytes: tt.max})
			var keys []string
			for i, n := range tt.sizes {
				if n < 0 {
					s.Get(keys[0])
					continue
				}
				k, err := s.Put(make([]byte, n), "png", "")
				if len(keys) == tt.wantErrAt {
					var pe *proto.Error
					if k != "" || !errors.As(err, &pe) || pe.Code != proto.CodeTooLarge {
						t.Fatalf("Put #%d = %q, %v; want too_large", i, k, err)
					}
				} else if err != nil {
					t.Fatalf("Put #%d: %v", i, err)
				}
				keys = append(keys, k)
			}
			held := map[int]bool{}
			for _, i := range tt.wantHeld {
				held[i] = true
			}
			for i, k := range keys {
				if k == "" {
					continue
				}
				if _, ok := s.Get(k); ok != held[i] {
					t.Errorf("Put #%d held = %v, want %v", i, ok, held[i])
				}
			}
			if s.Len() != len(tt.wantHeld) || s.Bytes() != tt.wantBytes {
				t.Errorf("Len, Bytes = %d, %d; want %d, %d", s.Len(), s.Bytes(), len(tt.wantHeld), tt.wantBytes)
			}
		})
	}
}

func TestRelease(t *testing.T) {
	s := New(Config{MaxBytes: 100})
	var keys []string
	for i := 0; i < 5; i++ {
		k, _ := s.Put(make([]byte, 10), "jpeg", fmt.Sprintf("p%d.jpg", i))
		keys = append(keys, k)
	}
	tests := []struct {
		name      string
		keys      []string
		want      int
		wantLen   int
		wantBytes int64
	}{
		{"none", nil, 0, 5, 50},
		{"unknown", []string{uuid.NewString(), ""}, 0, 5, 50},
		{"one", []string{keys[0]}, 1, 4, 40},
		{"again", []string{keys[0]}, 0, 4, 40},
		{"repeated in one call", []string{keys[1], keys[1]}, 1, 3, 30},
		{"mixed", []string{keys[2], uuid.NewString(), keys[3]}, 2, 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Release(tt.keys); got != tt.want {
				t.Fatalf("Release = %d, want %d", got, tt.want)
			}
			for _, k := range tt.keys {
				if _, ok := s.Get(k); ok {
					t.Fatalf("released key still held")
				}
			}
			if s.Len() != tt.wantLen || s.Bytes() != tt.wantBytes {
				t.Fatalf("Len, Bytes = %d, %d", s.Len(), s.Bytes())
			}
		})
	}
	if _, ok := s.Get(keys[4]); !ok {
		t.Fatal("unreleased key lost")
	}
	if got := s.ReleaseAll(); got != 1 {
		t.Fatalf("ReleaseAll = %d, want 1", got)
	}
	if got := s.ReleaseAll(); got != 0 {
		t.Fatalf("second ReleaseAll = %d, want 0", got)
	}
	if s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("after ReleaseAll Len, Bytes = %d, %d", s.Len(), s.Bytes())
	}
	// The store is usable again and the order list was reset.
	a, _ := s.Put(make([]byte, 60), "png", "")
	b, _ := s.Put(make([]byte, 60), "png", "")
	if _, ok := s.Get(a); ok {
		t.Fatal("oldest item not evicted after ReleaseAll")
	}
	if _, ok := s.Get(b); !ok {
		t.Fatal("newest item missing")
	}
}

func TestConcurrent(t *testing.T) {
	const max = 1000
	s := New(Config{MaxBytes: max})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var mine []string
			for i := 0; i < 300; i++ {
				data := bytes.Repeat([]byte{byte(g)}, 1+(i*7+g)%50)
				k, err := s.Put(data, "webp", "")
				if err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, k)
				if it, ok := s.Get(k); ok && !bytes.Equal(it.Data, data) {
					t.Errorf("Get returned other bytes")
					return
				}
				if b := s.Bytes(); b > max {
					t.Errorf("Bytes = %d > %d", b, max)
					return
				}
				if i%10 == 9 {
					s.Release(mine[len(mine)-5:])
				}
				if g == 0 && i%100 == 99 {
					s.ReleaseAll()
				}
				s.Len()
			}
		}(g)
	}
	wg.Wait()
	// Held bytes must equal the sum of what Get still returns.
	s.mu.Lock()
	var sum int64
	for _, e := range s.items {
		sum += int64(len(e.Value.(*Item).Data))
	}
	n := s.order.Len()
	s.mu.Unlock()
	if sum != s.Bytes() || n != s.Len() || sum > max {
		t.Fatalf("accounting off: sum %d, Bytes %d, list %d, Len %d", sum, s.Bytes(), n, s.Len())
	}
}
