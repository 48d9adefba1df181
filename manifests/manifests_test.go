package manifests

import (
	"reflect"
	"testing"
)

func TestRenderRoundTrips(t *testing.T) {
	tests := []struct {
		tmpl string
		data Data
		want Manifest
	}{
		{Chromium, Data{Name: "com.imagediet.host", Description: "Image Diet", Path: "/home/a b/.local/share/imgdiet/imgdiet-host",
			AllowedOrigins: []string{"chrome-extension://fmeiijmoogoohmijkjchgkjnaeljpcno/"}},
			Manifest{Name: "com.imagediet.host", Description: "Image Diet", Path: "/home/a b/.local/share/imgdiet/imgdiet-host", Type: "stdio",
				AllowedOrigins: []string{"chrome-extension://fmeiijmoogoohmijkjchgkjnaeljpcno/"}}},
		{Chromium, Data{Name: "n", Description: `quote " and \ back`, Path: `C:\Users\Zoë\AppData\Local\ImageDiet\imgdiet-host.exe`,
			AllowedOrigins: []string{"chrome-extension://a/", "chrome-extension://b/"}},
			Manifest{Name: "n", Description: `quote " and \ back`, Path: `C:\Users\Zoë\AppData\Local\ImageDiet\imgdiet-host.exe`, Type: "stdio",
				AllowedOrigins: []string{"chrome-extension://a/", "chrome-extension://b/"}}},
		{Firefox, Data{Name: "com.imagediet.host", Description: "d", Path: "/opt/imgdiet/imgdiet-host",
			AllowedExtensions: []string{"imagediet@imagediet.app"}},
			Manifest{Name: "com.imagediet.host", Description: "d", Path: "/opt/imgdiet/imgdiet-host", Type: "stdio",
				AllowedExtensions: []string{"imagediet@imagediet.app"}}},
	}
	for _, tt := range tests {
		b, err := Render(tt.tmpl, tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: parse: %v\n%s", tt.tmpl, err, b)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.tmpl, got, tt.want)
		}
	}
}

func TestRenderUnknownTemplate(t *testing.T) {
	if _, err := Render("nope.tmpl", Data{}); err == nil {
		t.Fatal("rendering an unknown template succeeded")
	}
}
