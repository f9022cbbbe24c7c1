package jobs

import "testing"

func TestNormalizePlatform(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ios", "ios"}, {"iOS", "ios"}, {"IOS", "ios"}, {"iPhone", "ios"}, {"iphone", "ios"},
		{"iPad", "ios"}, {"iPadOS", "ios"}, {" ios ", "ios"},
		{"android", "android"}, {"Android", "android"}, {"ANDROID", "android"},
		{"web", "web"}, {"WebGL", "web"}, {"html5", "web"}, {"HTML5", "web"}, {"browser", "web"},
		{"windows", "windows"}, {"Windows", "windows"}, {"win", "windows"}, {"PC", "windows"}, {"win64", "windows"},
		{"macos", "macos"}, {"macOS", "macos"}, {"mac", "macos"}, {"OSX", "macos"}, {"Mac OS X", "macos"},
		{"linux", "linux"}, {"Linux", "linux"},
		{"switch", "switch"}, {"Nintendo Switch", "switch"},
		{"playstation", "playstation"}, {"PS4", "playstation"}, {"ps5", "playstation"},
		{"xbox", "xbox"}, {"Xbox One", "xbox"}, {"XboxSeries", "xbox"},
		{"", "other"}, {"   ", "other"}, {"tizen", "other"}, {"i os", "other"}, {"iOS17", "other"},
		{"a very long platform name that is unknown", "other"}, {"İOS", "other"},
	} {
		if got := NormalizePlatform(tc.in); got != tc.want {
			t.Errorf("NormalizePlatform(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeCountry(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "ZZ"}, {"de", "DE"}, {"De", "DE"}, {"DE", "DE"}, {"zz", "ZZ"},
	} {
		if got := NormalizeCountry(tc.in); got != tc.want {
			t.Errorf("NormalizeCountry(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizePlatformAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { NormalizePlatform("iPhone") }); n != 0 {
		t.Errorf("NormalizePlatform allocates %v times", n)
	}
}
