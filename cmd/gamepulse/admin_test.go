package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestEveryAdminAddressTakesTheToken: every command with an admin address
// has --metrics-listen and --admin-token (GAMEPULSE_ADMIN_TOKEN), served by
// the one admin server.
func TestEveryAdminAddressTakesTheToken(t *testing.T) {
	for _, name := range []string{"gateway", "process", "load", "demo", "reconcile"} {
		for _, c := range commands() {
			if c.Name() != name {
				continue
			}
			fs := settingsOf(c)
			if fs == nil || fs.Lookup("metrics-listen") == nil || fs.Lookup("admin-token") == nil {
				t.Errorf("%s lacks --metrics-listen or --admin-token", name)
			}
		}
	}
}

// TestAdminTokenIsRequired: with a token, a request passes with it as a
// bearer token or a basic-auth password, and gets 401 with the JSON error
// and both challenges otherwise; without a token everything passes.
func TestAdminTokenIsRequired(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	tests := []struct {
		name, token string
		set         func(*http.Request)
		want        int
	}{
		{"no token configured", "", func(*http.Request) {}, http.StatusTeapot},
		{"bearer", "tok", func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }, http.StatusTeapot},
		{"bearer lower-case scheme", "tok", func(r *http.Request) { r.Header.Set("Authorization", "bearer tok") }, http.StatusTeapot},
		{"basic password", "tok", func(r *http.Request) { r.SetBasicAuth("anyone", "tok") }, http.StatusTeapot},
		{"none", "tok", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong bearer", "tok", func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok2") }, http.StatusUnauthorized},
		{"prefix", "tok", func(r *http.Request) { r.Header.Set("Authorization", "Bearer to") }, http.StatusUnauthorized},
		{"wrong basic", "tok", func(r *http.Request) { r.SetBasicAuth("tok", "x") }, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			tc.set(req)
			rec := httptest.NewRecorder()
			requireToken(tc.token, ok).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized {
				if len(rec.Header().Values("WWW-Authenticate")) != 2 || rec.Header().Get("Content-Type") != "application/json" {
					t.Errorf("401 without both challenges or JSON: %v", rec.Header())
				}
			}
		})
	}
}
