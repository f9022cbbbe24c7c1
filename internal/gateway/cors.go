package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// corsAllowHeaders are the request headers a browser game may send: the
// write key's two headers and the body's type and encoding.
const corsAllowHeaders = "Authorization, X-API-Key, Content-Type, Content-Encoding"

// corsPolicy answers browsers for the origins of Config.CORSOrigins. The
// zero value (no origins) is CORS off.
type corsPolicy struct {
	any     bool
	origins map[string]bool
}

func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		p.origins[strings.ToLower(o)] = true
	}
	return p
}

func (p corsPolicy) on() bool { return p.any || len(p.origins) > 0 }

// allowOrigin returns the Access-Control-Allow-Origin value for a request's
// Origin, or "" when that origin is not allowed (or the request has none).
func (p corsPolicy) allowOrigin(origin string) string {
	switch {
	case origin == "":
		return ""
	case p.any:
		return "*"
	case p.origins[strings.ToLower(origin)]:
		return origin
	}
	return ""
}

// wrap adds the CORS answer headers to h's responses for allowed origins.
func (p corsPolicy) wrap(h http.HandlerFunc) http.HandlerFunc {
	if !p.on() {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if o := p.allowOrigin(r.Header.Get("Origin")); o != "" {
			hdr := w.Header()
			hdr.Set("Access-Control-Allow-Origin", o)
			hdr.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		if !p.any {
			w.Header().Add("Vary", "Origin")
		}
		h(w, r)
	}
}

// allow is the Allow header of /v1/events.
func (p corsPolicy) allow() string {
	if p.on() {
		return "OPTIONS, POST"
	}
	return "POST"
}

// servePreflight answers OPTIONS /v1/events: 204 with the allowed methods
// and headers for a preflight from an allowed origin; 403 for another
// origin; 405 when CORS is off or the request is no preflight.
func (p corsPolicy) servePreflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if !p.on() || origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		methodNotAllowed(w, r, p.allow())
		return
	}
	o := p.allowOrigin(origin)
	if o == "" {
		writeError(w, http.StatusForbidden, "origin_not_allowed", fmt.Sprintf("origin %q is not in --cors-origins", truncate(origin, 128)), 0)
		return
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", o)
	hdr.Set("Access-Control-Allow-Methods", "POST")
	hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hdr.Set("Access-Control-Max-Age", "600")
	hdr.Add("Vary", "Origin")
	hdr.Add("Vary", "Access-Control-Request-Method")
	hdr.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// validateOrigins checks each of CORSOrigins: "*" or scheme://host[:port].
func validateOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("CORSOrigins: %q is not an origin (http[s]://host[:port]) or *", o)
		}
	}
	return nil
}

// methodNotAllowed answers 405 with Allow and the JSON error body.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allow), 0)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
