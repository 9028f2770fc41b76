package config

import (
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const secret32 = "0123456789abcdef0123456789abcdef"

func TestLoadDefaultsWithAnEmptyEnvironment(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load with an empty environment: %v", err)
	}
	want := Config{
		Port: 3000, Host: "0.0.0.0", SQLitePath: "./data/parley.db", SQLiteSync: "NORMAL",
		MongoMaxPool: 10, MongoSelectTO: 5 * time.Second, MongoSocketTO: 45 * time.Second,
		TokenTTL: 7 * 24 * time.Hour, LogLevel: "info", TypingTimeout: 5 * time.Second,
		PresenceGrace: 5 * time.Second, MaxPayloadBytes: 1 << 20, ShutdownTimeout: 10 * time.Second,
		MaxQueueBytes: 4 << 20, WriteDelay: 4 * time.Millisecond, Events: EventLimits{Messages: RateClass{20, 200}, FriendRequests: RateClass{0.2, 20},
			Search: RateClass{5, 20}, Uploads: RateClass{0.5, 20}, Other: RateClass{50, 300}, MaxSocketsPerUser: 20},
		PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second, NodeLease: 10 * time.Second,
		Uploads: Uploads{MaxBytes: 10 << 20, TTL: 24 * time.Hour, URLTTL: 5 * time.Minute},
	}
	want.Auth = AuthLimits{HashConcurrency: max(1, runtime.GOMAXPROCS(0)-1), HashQueue: max(8, 4*max(1, runtime.GOMAXPROCS(0)-1)),
		RegisterBurst: 10, RegisterPerMin: 1}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if c.Addr() != "0.0.0.0:3000" {
		t.Fatalf("Addr = %q", c.Addr())
	}
}

func TestLoadParsesEveryVariable(t *testing.T) {
	pem := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"
	c, err := Load(env(map[string]string{
		"PORT":                                "8080",
		"HOST":                                " 127.0.0.1 ",
		"SQLITE_PATH":                         "/var/lib/parley/p.db",
		"SQLITE_SYNCHRONOUS":                  "full",
		"MONGODB_URI":                         "mongodb://h1:27017,h2:27017/chat?replicaSet=rs0",
		"MONGODB_DB":                          "other",
		"MONGODB_MAX_POOL_SIZE":               "50",
		"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1500",
		"MONGODB_SOCKET_TIMEOUT_MS":           "2500",
		"REDIS_URL":                           "rediss://:pw@redis:6380/2",
		"JWT_SECRET":                          secret32,
		"JWT_PUBLIC_KEY":                      "\n" + pem + "\n",
		"JWT_ISSUER":                          "https://id.example",
		"JWT_AUDIENCE":                        "parley",
		"JWT_TTL":                             "36h",
		"CORS_ORIGINS":                        "https://a.example/, https://b.example ,,",
		"LOG_LEVEL":                           "debug",
		"AUTH_ALLOW_USER_ID":                  "true",
		"TYPING_TIMEOUT_MS":                   "3000",
		"PRESENCE_GRACE_MS":                   "7000",
		"MAX_PAYLOAD_BYTES":                   "65536",
		"MAX_SEND_QUEUE_BYTES":                "1048576",
		"WS_WRITE_DELAY_MS":                   "0",
		"PING_INTERVAL_MS":                    "10000",
		"PING_TIMEOUT_MS":                     "5000",
		"NODE_LEASE_MS":                       "15000",
		"SHUTDOWN_TIMEOUT_MS":                 "4000",
		"RATE_LIMIT_PER_SEC":                  "12.5",
		"RATE_LIMIT_BURST":                    "40",
		"RATE_MESSAGES_PER_SEC":               "2",
		"RATE_MESSAGES_BURST":                 "5",
		"RATE_FRIEND_REQUESTS_PER_SEC":        "0.05",
		"RATE_FRIEND_REQUESTS_BURST":          "3",
		"RATE_SEARCH_PER_SEC":                 "1.5",
		"RATE_SEARCH_BURST":                   "4",
		"RATE_UPLOADS_PER_SEC":                "0.25",
		"RATE_UPLOADS_BURST":                  "6",
		"MAX_UPLOAD_BYTES":                    "1048577",
		"UPLOAD_TTL_MS":                       "1500",
		"UPLOAD_URL_TTL_MS":                   "60000",
		"MAX_SOCKETS_PER_USER":                "7",
		"METRICS_ADDR":                        "127.0.0.1:9090",
		"TRUST_PROXY":                         "10.0.0.0/8, 127.0.0.1, ::1, fd00::/8",
		"AUTH_HASH_CONCURRENCY":               "3",
		"AUTH_HASH_QUEUE":                     "0",
		"AUTH_REGISTER_BURST":                 "50",
		"AUTH_REGISTER_PER_MIN":               "0.5",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Port: 8080, Host: "127.0.0.1", SQLitePath: "/var/lib/parley/p.db", SQLiteSync: "FULL",
		MongoURI: "mongodb://h1:27017,h2:27017/chat?replicaSet=rs0", MongoDB: "other", MongoMaxPool: 50,
		MongoSelectTO: 1500 * time.Millisecond, MongoSocketTO: 2500 * time.Millisecond,
		RedisURL: "rediss://:pw@redis:6380/2", JWTSecret: secret32, JWTPublicKey: pem,
		JWTIssuer: "https://id.example", JWTAudience: "parley", TokenTTL: 36 * time.Hour,
		CORSOrigins: []string{"https://a.example", "https://b.example"}, LogLevel: "debug",
		AllowUserIDAuth: true, TypingTimeout: 3 * time.Second, PresenceGrace: 7 * time.Second,
		MaxPayloadBytes: 65536, ShutdownTimeout: 4 * time.Second,
		MaxQueueBytes: 1 << 20, PingInterval: 10 * time.Second, PingTimeout: 5 * time.Second,
		NodeLease: 15 * time.Second,
		Events: EventLimits{Messages: RateClass{2, 5}, FriendRequests: RateClass{0.05, 3}, Search: RateClass{1.5, 4},
			Uploads: RateClass{0.25, 6}, Other: RateClass{12.5, 40}, MaxSocketsPerUser: 7},
		Uploads: Uploads{MaxBytes: 1048577, TTL: 1500 * time.Millisecond, URLTTL: time.Minute},
	}
	want.MetricsAddr = "127.0.0.1:9090"
	want.Auth = AuthLimits{HashConcurrency: 3, HashQueue: 0, RegisterBurst: 50, RegisterPerMin: 0.5,
		TrustProxy: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8")}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed:\n got %+v\nwant %+v", c, want)
	}
	if c.Addr() != "127.0.0.1:8080" {
		t.Fatalf("Addr = %q", c.Addr())
	}
}

func TestLoadBadValuesNameTheirVariable(t *testing.T) {
	cases := map[string]string{
		"PORT":                                "http",
		"SQLITE_SYNCHRONOUS":                  "OFF",
		"MONGODB_MAX_POOL_SIZE":               "0",
		"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "-5",
		"MONGODB_SOCKET_TIMEOUT_MS":           "5s",
		"REDIS_URL":                           "http://redis:6379",
		"JWT_SECRET":                          "short",
		"JWT_TTL":                             "7 days",
		"LOG_LEVEL":                           "verbose",
		"AUTH_ALLOW_USER_ID":                  "maybe",
		"TYPING_TIMEOUT_MS":                   "0",
		"PRESENCE_GRACE_MS":                   "soon",
		"MAX_PAYLOAD_BYTES":                   "10",
		"MAX_SEND_QUEUE_BYTES":                "1k",
		"WS_WRITE_DELAY_MS":                   "51",
		"PING_INTERVAL_MS":                    "-1",
		"PING_TIMEOUT_MS":                     "0",
		"NODE_LEASE_MS":                       "500",
		"SHUTDOWN_TIMEOUT_MS":                 "1.5",
		"RATE_LIMIT_PER_SEC":                  "0",
		"RATE_LIMIT_BURST":                    "-1",
		"RATE_MESSAGES_PER_SEC":               "-2",
		"RATE_MESSAGES_BURST":                 "0",
		"RATE_FRIEND_REQUESTS_PER_SEC":        "NaN",
		"RATE_FRIEND_REQUESTS_BURST":          "1.5",
		"RATE_SEARCH_PER_SEC":                 "fast",
		"RATE_SEARCH_BURST":                   "lots",
		"RATE_UPLOADS_PER_SEC":                "0",
		"RATE_UPLOADS_BURST":                  "x",
		"MAX_UPLOAD_BYTES":                    "0",
		"UPLOAD_TTL_MS":                       "999",
		"UPLOAD_URL_TTL_MS":                   "5m",
		"MAX_SOCKETS_PER_USER":                "0",
		"METRICS_ADDR":                        "9090",
		"TRUST_PROXY":                         "true",
		"AUTH_HASH_CONCURRENCY":               "0",
		"AUTH_HASH_QUEUE":                     "-1",
		"AUTH_REGISTER_BURST":                 "0",
		"AUTH_REGISTER_PER_MIN":               "none",
	}
	for name, value := range cases {
		_, err := Load(env(map[string]string{name: value}))
		if err == nil {
			t.Errorf("%s=%q was accepted", name, value)
			continue
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %q does not name the variable", name, value, err)
		}
	}
	for name, value := range map[string]string{"PORT": "65536", "JWT_TTL": "-1h", "MONGODB_MAX_POOL_SIZE": "10001"} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v, want an error naming it", name, value, err)
		}
	}
	// Every problem is reported at once, not only the first.
	_, err := Load(env(map[string]string{"PORT": "x", "LOG_LEVEL": "loud"}))
	if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("two bad variables: err = %v, want both named", err)
	}
}

func TestLoadMongoRequiresAJWTSecret(t *testing.T) {
	_, err := Load(env(map[string]string{"MONGODB_URI": "mongodb://localhost:27017/chat"}))
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("MONGODB_URI without JWT_SECRET: err = %v, want an error naming JWT_SECRET", err)
	}
	if _, err := Load(env(map[string]string{"MONGODB_URI": "mongodb://localhost:27017/chat", "JWT_SECRET": secret32})); err != nil {
		t.Fatalf("MONGODB_URI with JWT_SECRET: %v", err)
	}
	if _, err := Load(env(map[string]string{"MONGODB_URI": "postgres://localhost/chat", "JWT_SECRET": secret32})); err == nil || !strings.Contains(err.Error(), "MONGODB_URI") {
		t.Fatalf("a non-mongodb URI: err = %v, want one naming MONGODB_URI", err)
	}
}

func TestLoadMongoDatabaseFromTheURIPath(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://localhost:27017/chat":                                    "chat",
		"mongodb://u:p%40ss@h1:27017,h2:27017,h3:27017/prod?replicaSet=rs0": "prod",
		"mongodb+srv://u:p@cluster0.abc.mongodb.net/app?retryWrites=true":   "app",
	} {
		c, err := Load(env(map[string]string{"MONGODB_URI": uri, "JWT_SECRET": secret32}))
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		if c.MongoDB != want {
			t.Errorf("%s: MongoDB = %q, want %q", uri, c.MongoDB, want)
		}
	}
	// MONGODB_DB wins over the path.
	c, err := Load(env(map[string]string{"MONGODB_URI": "mongodb://localhost/chat", "MONGODB_DB": "explicit", "JWT_SECRET": secret32}))
	if err != nil || c.MongoDB != "explicit" {
		t.Fatalf("MONGODB_DB set: db=%q err=%v", c.MongoDB, err)
	}
	// No database anywhere: refused, naming MONGODB_DB.
	for _, uri := range []string{"mongodb://localhost:27017", "mongodb://localhost:27017/", "mongodb://localhost:27017/?replicaSet=rs0"} {
		if _, err := Load(env(map[string]string{"MONGODB_URI": uri, "JWT_SECRET": secret32})); err == nil || !strings.Contains(err.Error(), "MONGODB_DB") {
			t.Errorf("%s: err = %v, want an error naming MONGODB_DB", uri, err)
		}
	}
}
