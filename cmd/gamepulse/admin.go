package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/livepage"
)

// adminFlags are the settings of a command's admin address: /metrics, the
// live page and, where the command offers --pprof, Go's profiles. It is
// one listener, apart from any public one, and one implementation for
// every command (serveAdmin).
type adminFlags struct {
	listen string
	pprof  bool
	token  string
}

// addAdminFlags registers --metrics-listen (default listen), --admin-token
// and, with pprof, --pprof.
func addAdminFlags(fs *flag.FlagSet, listen string, pprof bool) *adminFlags {
	f := &adminFlags{}
	what := "/metrics and the live page (/)"
	if pprof {
		what = "/metrics, the live page (/) and, with --pprof, /debug/pprof/"
	}
	fs.StringVar(&f.listen, "metrics-listen", listen, "admin address serving "+what+"; keep it off the public network; empty: none")
	if pprof {
		fs.BoolVar(&f.pprof, "pprof", false, "serve Go profiles at /debug/pprof/ on the admin address (--metrics-listen)")
	}
	fs.StringVar(&f.token, "admin-token", "", "require Authorization: Bearer TOKEN (or HTTP basic auth with TOKEN as the password) on the admin address; empty: none (prefer the environment variable)")
	return f
}

// adminRoutes adds the admin endpoints to mux: the live page at /, its
// event stream and snapshot, /metrics, and /debug/pprof when pprof. The
// page's sampler runs in g until ctx ends.
func adminRoutes(ctx context.Context, g *errgroup.Group, mux *http.ServeMux, pprof bool, reg *prometheus.Registry, log *slog.Logger) {
	page := livepage.New(reg, livepage.WithLogger(log.With("component", "livepage")))
	g.Go(func() error { return page.Run(ctx) })
	mux.Handle("/", page)
	mux.Handle("GET /metrics", metricsHandler(reg))
	if pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	}
}

// serveAdmin binds the admin address of f and serves the admin endpoints
// (see adminRoutes), behind the token when f has one, in g until ctx ends.
// It returns the bound address; an empty --metrics-listen serves nothing
// and returns "".
func serveAdmin(ctx context.Context, g *errgroup.Group, f *adminFlags, reg *prometheus.Registry, log *slog.Logger) (string, error) {
	if f.listen == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	adminRoutes(ctx, g, mux, f.pprof, reg, log)
	srv := &http.Server{Handler: requireToken(f.token, mux), ReadHeaderTimeout: 5 * time.Second}
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("admin server: %w", err)
		}
		return nil
	})
	addr := ln.Addr().String()
	log.Info("admin address listening (metrics, live page)", "addr", addr, "token", f.token != "")
	return addr, nil
}

// requireToken lets through only requests that carry token, as
// `Authorization: Bearer TOKEN` (Prometheus's authorization setting, curl)
// or as the password of HTTP basic auth (what a browser asks for, and then
// sends with the live page's event stream too). Digests are compared in
// constant time. An empty token guards nothing.
func requireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(adminCredential(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Add("WWW-Authenticate", `Bearer realm="gamepulse admin"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="gamepulse admin", charset="UTF-8"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(struct {
				Error string `json:"error"`
				Code  string `json:"code"`
			}{"admin token missing or wrong: send Authorization: Bearer TOKEN (--admin-token)", "unauthorized"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// adminCredential is the bearer token of r, or its basic-auth password.
func adminCredential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return ""
}
