package simulate

import "strings"

// The static tables of the model: countries, platforms, devices, store price
// points, ad networks and the daily activity curve. They are deliberately
// plain data so that the model's realism can be read and adjusted here.

type country struct {
	code     string
	currency string  // the storefront currency of purchases made there
	locale   string  // device locale
	weight   float64 // share of the population
	tzMin    int     // UTC offset in minutes, for the local activity curve
	adTier   float64 // ad revenue relative to the US
	iosBias  float64 // multiplies the weight of Apple platforms
}

// countries: MX and IN are priced in USD (a simplification: their stores
// charge MXN and INR) so the currencies stay USD, EUR, GBP, BRL and JPY.
var countries = []country{
	{"US", "USD", "en-US", 0.28, -300, 1.00, 1.4},
	{"GB", "GBP", "en-GB", 0.07, 0, 0.75, 1.3},
	{"DE", "EUR", "de-DE", 0.07, 60, 0.70, 0.9},
	{"FR", "EUR", "fr-FR", 0.05, 60, 0.60, 0.9},
	{"ES", "EUR", "es-ES", 0.04, 60, 0.45, 0.6},
	{"IT", "EUR", "it-IT", 0.04, 60, 0.45, 0.7},
	{"NL", "EUR", "nl-NL", 0.02, 60, 0.60, 1.0},
	{"BR", "BRL", "pt-BR", 0.12, -180, 0.15, 0.3},
	{"MX", "USD", "es-MX", 0.07, -360, 0.18, 0.4},
	{"IN", "USD", "en-IN", 0.10, 330, 0.08, 0.15},
	{"JP", "JPY", "ja-JP", 0.14, 540, 0.90, 1.8},
}

// localActivity is the share of a country's players who play at each local
// hour, relative to the evening peak: low at 4 am, a lunch bump, a peak at
// 7–8 pm.
var localActivity = [24]float64{
	0.55, 0.38, 0.25, 0.18, 0.15, 0.17, 0.25, 0.38, 0.50, 0.55, 0.58, 0.62,
	0.72, 0.72, 0.66, 0.66, 0.72, 0.82, 0.92, 1.00, 1.00, 0.95, 0.85, 0.70,
}

type platform struct {
	name    string
	weight  float64 // before the country's iosBias
	apple   bool
	store   string
	devices []device
	logins  []weighted
	entries []weighted // session entry points
}

type device struct{ model, os string }

type weighted struct {
	v string
	w float64
}

var platforms = []platform{
	{
		name: "android", weight: 0.50, store: "google_play",
		devices: []device{{"SM-S921B", "14"}, {"SM-A546B", "14"}, {"Pixel 8", "15"}, {"Redmi Note 12", "13"},
			{"moto g54 5G", "14"}, {"SM-A155F", "14"}, {"CPH2581", "14"}, {"2201117TG", "12"}},
		logins:  []weighted{{"guest", 0.45}, {"google", 0.40}, {"facebook", 0.12}, {"email", 0.03}},
		entries: []weighted{{"icon", 0.72}, {"push", 0.13}, {"deeplink", 0.06}, {"widget", 0.04}, {"shortcut", 0.05}},
	},
	{
		name: "ios", weight: 0.32, apple: true, store: "app_store",
		devices: []device{{"iPhone17,1", "18.1"}, {"iPhone16,2", "18.1"}, {"iPhone15,3", "17.6.1"},
			{"iPhone14,7", "18.0.1"}, {"iPhone13,2", "16.7.10"}, {"iPad13,18", "17.5"}},
		logins:  []weighted{{"guest", 0.40}, {"apple", 0.30}, {"google", 0.10}, {"facebook", 0.15}, {"email", 0.05}},
		entries: []weighted{{"icon", 0.72}, {"push", 0.14}, {"deeplink", 0.06}, {"widget", 0.03}, {"shortcut", 0.05}},
	},
	{
		name: "web", weight: 0.08, store: "web",
		devices: []device{{"Chrome 130", "Windows 10"}, {"Safari 18.1", "macOS 14.6"}, {"Chrome 129", "Android 14"},
			{"Firefox 131", "Windows 10"}, {"Edge 130", "Windows 11"}},
		logins:  []weighted{{"email", 0.40}, {"google", 0.35}, {"facebook", 0.25}},
		entries: []weighted{{"browser", 0.80}, {"deeplink", 0.20}},
	},
	{
		name: "windows", weight: 0.12, store: "steam",
		devices: []device{{"OMEN 16", "Windows 11 23H2"}, {"Desktop", "Windows 10 22H2"}, {"ROG Strix G16", "Windows 11 24H2"},
			{"Desktop", "Windows 11 23H2"}},
		logins:  []weighted{{"steam", 0.80}, {"email", 0.20}},
		entries: []weighted{{"launcher", 0.90}, {"deeplink", 0.10}},
	},
	{
		name: "macos", weight: 0.03, apple: true, store: "app_store",
		devices: []device{{"MacBookAir10,1", "14.6.1"}, {"Mac14,2", "15.1"}, {"MacBookPro18,3", "13.6.9"}},
		logins:  []weighted{{"apple", 0.40}, {"steam", 0.40}, {"email", 0.20}},
		entries: []weighted{{"launcher", 0.85}, {"icon", 0.15}},
	},
}

func platformIndex(name string) int {
	for i := range platforms {
		if platforms[i].name == name {
			return i
		}
	}
	return -1
}

func knownPlatforms() string {
	names := make([]string, len(platforms))
	for i := range platforms {
		names[i] = platforms[i].name
	}
	return strings.Join(names, ", ")
}

// Store price points: tier i costs prices[currency][i]. The local tiers are
// the ones the app stores use for the USD tier of the same index.
var (
	tierWeights = []float64{0.30, 0.20, 0.24, 0.13, 0.07, 0.04, 0.02}
	tierGems    = []int64{80, 170, 450, 950, 2000, 5200, 11000}
	prices      = map[string][]float64{
		"USD": {0.99, 1.99, 4.99, 9.99, 19.99, 49.99, 99.99},
		"EUR": {0.99, 1.99, 4.99, 9.99, 19.99, 49.99, 99.99},
		"GBP": {0.99, 1.99, 4.99, 9.99, 19.99, 49.99, 99.99},
		"BRL": {5.90, 10.90, 27.90, 54.90, 109.90, 279.90, 549.90},
		"JPY": {160, 300, 800, 1500, 3000, 8000, 16000},
	}
)

var adNetworks = []weighted{{"applovin", 0.32}, {"admob", 0.30}, {"unity", 0.18}, {"ironsource", 0.14}, {"meta", 0.06}}

// Ad placements and their eCPM in USD (revenue per 1,000 impressions) in the
// US; other countries scale by adTier.
type placement struct {
	name string
	ecpm float64
}

var (
	placementBanner       = placement{"menu_banner", 0.6}
	placementInterstitial = placement{"level_end_interstitial", 9}
	placementRewarded     = placement{"extra_life_rewarded", 15}
)

var (
	customShopTabs   = []string{"gems", "offers", "skins", "boosters"}
	customSettings   = []string{"music", "sfx", "notifications", "haptics"}
	customChannels   = []string{"whatsapp", "link", "facebook", "line", "sms"}
	customQuests     = []string{"win_3_levels", "watch_2_ads", "spend_500_coins", "play_10_minutes"}
	boosters         = []string{"hammer", "shuffle", "extra_moves", "nitro", "shield"}
	tutorialSteps    = []string{"welcome", "first_move", "first_win", "shop_intro", "rewards_intro"}
	customEventNames = []weighted{{"shop_opened", 0.35}, {"settings_changed", 0.15}, {"friend_invited", 0.10},
		{"daily_quest_claimed", 0.25}, {"push_opt_in", 0.15}}
)
