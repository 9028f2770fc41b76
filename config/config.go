// Package config turns the environment into a validated Config. Every default lives here.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is everything a Parley node reads from its environment.
type Config struct {
	Port            int
	Host            string
	SQLitePath      string
	SQLiteSync      string
	MongoURI        string
	MongoDB         string
	MongoMaxPool    uint64
	MongoSelectTO   time.Duration
	MongoSocketTO   time.Duration
	RedisURL        string
	JWTSecret       string
	JWTPublicKey    string
	JWTIssuer       string
	JWTAudience     string
	TokenTTL        time.Duration
	CORSOrigins     []string
	LogLevel        string
	AllowUserIDAuth bool
	TypingTimeout   time.Duration
	PresenceGrace   time.Duration
	MaxPayloadBytes int64
	MaxQueueBytes   int
	WriteDelay      time.Duration
	PingInterval    time.Duration
	PingTimeout     time.Duration
	ShutdownTimeout time.Duration
	Events          EventLimits
	PprofAddr       string
	MetricsAddr     string
	Auth            AuthLimits
	NodeLease       time.Duration
	Uploads         Uploads
}

// Load reads the configuration through getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Port:            3000,
		Host:            "0.0.0.0",
		SQLitePath:      "./data/parley.db",
		SQLiteSync:      "NORMAL",
		MongoMaxPool:    10,
		MongoSelectTO:   5 * time.Second,
		MongoSocketTO:   45 * time.Second,
		TokenTTL:        7 * 24 * time.Hour,
		LogLevel:        "info",
		TypingTimeout:   5 * time.Second,
		PresenceGrace:   5 * time.Second,
		MaxPayloadBytes: 1 << 20,
		MaxQueueBytes:   4 << 20,
		WriteDelay:      4 * time.Millisecond,
		PingInterval:    25 * time.Second,
		PingTimeout:     20 * time.Second,
		ShutdownTimeout: 10 * time.Second,
		NodeLease:       10 * time.Second,
		Events:          defaultEventLimits(),
		Uploads:         defaultUploads(),
	}
	e := &envReader{getenv: getenv}
	var errs []error // the checks across variables, after those of each variable (e.errs)
	str, integer, millis, duration, boolean := e.str, e.intIn, e.millis, e.duration, e.boolean
	integer("PORT", &c.Port, 0, 65535)
	str("HOST", &c.Host)
	str("SQLITE_PATH", &c.SQLitePath)
	str("SQLITE_SYNCHRONOUS", &c.SQLiteSync)
	str("MONGODB_URI", &c.MongoURI)
	str("MONGODB_DB", &c.MongoDB)
	var pool int
	integer("MONGODB_MAX_POOL_SIZE", &pool, 1, 10000)
	if pool > 0 {
		c.MongoMaxPool = uint64(pool)
	}
	millis("MONGODB_SERVER_SELECTION_TIMEOUT_MS", &c.MongoSelectTO)
	millis("MONGODB_SOCKET_TIMEOUT_MS", &c.MongoSocketTO)
	str("REDIS_URL", &c.RedisURL)
	c.JWTSecret = getenv("JWT_SECRET")
	c.JWTPublicKey = strings.TrimSpace(getenv("JWT_PUBLIC_KEY"))
	str("JWT_ISSUER", &c.JWTIssuer)
	str("JWT_AUDIENCE", &c.JWTAudience)
	duration("JWT_TTL", &c.TokenTTL)
	if v := strings.TrimSpace(getenv("CORS_ORIGINS")); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	str("LOG_LEVEL", &c.LogLevel)
	boolean("AUTH_ALLOW_USER_ID", &c.AllowUserIDAuth)
	millis("TYPING_TIMEOUT_MS", &c.TypingTimeout)
	millis("PRESENCE_GRACE_MS", &c.PresenceGrace)
	var maxPayload int
	integer("MAX_PAYLOAD_BYTES", &maxPayload, 1024, 100<<20)
	if maxPayload > 0 {
		c.MaxPayloadBytes = int64(maxPayload)
	}
	integer("MAX_SEND_QUEUE_BYTES", &c.MaxQueueBytes, 64<<10, 1<<30)
	e.millisIn("WS_WRITE_DELAY_MS", &c.WriteDelay, 0, 50*time.Millisecond)
	millis("PING_INTERVAL_MS", &c.PingInterval)
	millis("PING_TIMEOUT_MS", &c.PingTimeout)
	millis("SHUTDOWN_TIMEOUT_MS", &c.ShutdownTimeout)
	loadEventLimits(e, &c.Events)
	str("PPROF_ADDR", &c.PprofAddr)
	loadAuthLimits(e, &c.Auth)
	loadMetricsAddr(e, &c.MetricsAddr)
	loadUploads(e, &c.Uploads)
	millis("NODE_LEASE_MS", &c.NodeLease)
	if c.NodeLease < time.Second {
		errs = append(errs, fmt.Errorf("NODE_LEASE_MS: want at least 1000, got %d", c.NodeLease.Milliseconds()))
	}

	switch strings.ToUpper(c.SQLiteSync) {
	case "NORMAL", "FULL":
		c.SQLiteSync = strings.ToUpper(c.SQLiteSync)
	default:
		errs = append(errs, fmt.Errorf("SQLITE_SYNCHRONOUS: want NORMAL or FULL, got %q", c.SQLiteSync))
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error", "fatal", "disabled":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want one of trace, debug, info, warn, error, disabled; got %q", c.LogLevel))
	}
	if c.MongoURI != "" {
		u, err := url.Parse(c.MongoURI)
		if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
			errs = append(errs, fmt.Errorf("MONGODB_URI: want a mongodb:// or mongodb+srv:// URI"))
		} else if c.MongoDB == "" {
			c.MongoDB = strings.TrimPrefix(u.Path, "/")
		}
		if c.MongoDB == "" {
			errs = append(errs, errors.New("MONGODB_DB: set it, or name the database in MONGODB_URI's path"))
		}
		if c.JWTSecret == "" {
			errs = append(errs, errors.New("JWT_SECRET is required with MONGODB_URI (every node must share it)"))
		}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 characters"))
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("REDIS_URL: want a redis:// or rediss:// URL"))
		}
	}
	return c, errors.Join(append(e.errs, errs...)...)
}

// Addr is the listen address.
func (c Config) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }
