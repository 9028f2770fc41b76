// Command parley is a Socket.IO chat server: a drop-in replacement for a Node.js
// Socket.IO chat server, on embedded SQLite by default or MongoDB, clustered via Redis.
//
//	go run .          serve (configuration from the environment; see README.md)
//	go run . migrate      prepare an existing Node-era MongoDB database, then exit
//	parley healthcheck    exit 0 when the node on PORT answers /healthz (for containers)
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/utils"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg.LogLevel)
	// go-redis logs every failed dial; the cluster bus logs each change of state once.
	redis.SetLogger(redisLogger{log})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if len(args) > 0 {
		switch args[0] {
		case "migrate":
			return migrate(ctx, cfg, log)
		case "healthcheck":
			return healthcheck(ctx, cfg)
		default:
			return fmt.Errorf("unknown command %q (known: migrate, healthcheck)", args[0])
		}
	}
	return serve(ctx, cfg, log)
}

func serve(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error().Err(err).Msg("closing the store")
		}
	}()
	secret := cfg.JWTSecret
	if secret == "" {
		if secret, err = config.EnsureSecret(cfg.SQLitePath); err != nil {
			return fmt.Errorf("JWT secret: %w", err)
		}
	}
	tokens, err := utils.NewTokens([]byte(secret), cfg.JWTPublicKey, cfg.JWTIssuer, cfg.JWTAudience, cfg.TokenTTL)
	if err != nil {
		return err
	}
	if cfg.AllowUserIDAuth {
		log.Warn().Msg("AUTH_ALLOW_USER_ID=true: any client can connect as any existing user by sending auth.userId; use only on a trusted network")
	}
	// METRICS_ADDR is bound before the server starts its loops: a port that cannot be
	// opened stops the start with nothing to undo.
	var metricsL net.Listener
	if cfg.MetricsAddr != "" {
		if metricsL, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
	}
	srv, err := server.New(cfg, st, tokens, log)
	if err != nil {
		if metricsL != nil {
			metricsL.Close()
		}
		return err
	}
	if metricsL != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.MetricsHandler())
		defer serveSide("metrics", metricsL, mux, log)()
	}
	if cfg.PprofAddr != "" {
		servePprof(cfg.PprofAddr, log)
	}
	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	log.Info().Str("addr", l.Addr().String()).Str("store", st.Name()).Msg("parley listening")
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: finishing in-flight events")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn().Err(err).Msg("shutdown")
	}
	log.Info().Msg("stopped")
	return nil
}

// servePprof serves Go's profiles (net/http/pprof) on their own listener, for profiling
// a node under load; never on the public port. A port that cannot be opened is logged.
func servePprof(addr string, log zerolog.Logger) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error().Err(err).Str("addr", addr).Msg("pprof listener")
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	serveSide("pprof", l, mux, log)
}

// serveSide serves mux on l, a listener of its own beside the public port, until stop.
func serveSide(name string, l net.Listener, mux *http.ServeMux, log zerolog.Logger) (stop func()) {
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("addr", l.Addr().String()).Msg(name + " listener")
		}
	}()
	log.Info().Str("addr", l.Addr().String()).Msg(name + " served")
	return func() { _ = srv.Close() }
}

// redisLogger hands go-redis's own messages to the log at debug level.
type redisLogger struct{ log zerolog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug().Msgf("redis: "+format, v...)
}

func newLogger(level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger()
}

// healthcheck asks the local node's /healthz, for container images without curl.
func healthcheck(ctx context.Context, cfg config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/healthz", cfg.Port), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}
