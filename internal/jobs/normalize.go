package jobs

// Normalized platform names (rule 4). Every platform string maps to one of
// these.
const (
	PlatformIOS         = "ios"
	PlatformAndroid     = "android"
	PlatformWeb         = "web"
	PlatformWindows     = "windows"
	PlatformMacOS       = "macos"
	PlatformLinux       = "linux"
	PlatformSwitch      = "switch"
	PlatformPlayStation = "playstation"
	PlatformXbox        = "xbox"
	PlatformOther       = "other"
)

// NormalizePlatform maps a client-reported platform to a normalized name:
// the input is trimmed of ASCII spaces and lower-cased (ASCII only), then
// looked up in a fixed table (see the package documentation); anything not in
// the table, including the empty string, is "other".
func NormalizePlatform(p string) string {
	// Trim ASCII spaces.
	for len(p) > 0 && isSpace(p[0]) {
		p = p[1:]
	}
	for len(p) > 0 && isSpace(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	if len(p) == 0 || len(p) > 24 {
		return PlatformOther
	}
	var buf [24]byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(p)]) {
	case "ios", "iphone", "ipad", "ipados", "ipod":
		return PlatformIOS
	case "android":
		return PlatformAndroid
	case "web", "webgl", "html5", "browser":
		return PlatformWeb
	case "windows", "win", "pc", "win32", "win64":
		return PlatformWindows
	case "macos", "mac", "osx", "macosx", "mac os", "mac os x":
		return PlatformMacOS
	case "linux":
		return PlatformLinux
	case "switch", "nintendo switch", "nintendo_switch", "nintendoswitch":
		return PlatformSwitch
	case "playstation", "ps", "ps4", "ps5":
		return PlatformPlayStation
	case "xbox", "xboxone", "xbox one", "xbox_one", "xboxseries", "xbox series", "xbox_series":
		return PlatformXbox
	}
	return PlatformOther
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// CountryUnknown is the normalized country of an event that has none.
const CountryUnknown = "ZZ"

// NormalizeCountry upper-cases an ISO 3166-1 alpha-2 code (ASCII only);
// the empty string becomes "ZZ". Validation has already checked the form.
func NormalizeCountry(c string) string {
	if c == "" {
		return CountryUnknown
	}
	upper := true
	for i := 0; i < len(c); i++ {
		if 'a' <= c[i] && c[i] <= 'z' {
			upper = false
			break
		}
	}
	if upper {
		return c
	}
	b := []byte(c)
	for i, x := range b {
		if 'a' <= x && x <= 'z' {
			b[i] = x - ('a' - 'A')
		}
	}
	return string(b)
}
