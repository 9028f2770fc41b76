package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Small shared pieces, the Go side of bench/lib.js: logging, flags, tokens, a bounded
// worker pool, percentiles and rounding, JSON output.

type logf func(format string, args ...any)

func makeLog(tag string) logf {
	return func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%s] %s\n", tag, fmt.Sprintf(format, args...))
	}
}

func die(tag, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", tag, fmt.Sprintf(format, args...))
	os.Exit(2)
}

// newFlags makes a flag set that, like node:util parseArgs, refuses unknown options.
func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("loadgen "+name, flag.ExitOnError)
}

// intMin dies unless n >= min (the JS generators' intArg).
func intMin(tag, name string, n, min int) int {
	if n < min {
		die(tag, "--%s must be an integer >= %d, got %d", name, min, n)
	}
	return n
}

// signJWT is an HS256 JWT for Parley: sub = userID, exp one hour ahead, plus extra claims.
func signJWT(secret, userID string, extra map[string]any) string {
	now := time.Now().Unix()
	claims := jwt.MapClaims{"sub": userID, "iat": now, "exp": now + 3600}
	for k, v := range extra {
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		panic(err) // HS256 with a []byte key cannot fail
	}
	return s
}

// randomID is a random 24-hex id (ObjectId-shaped, as Parley's user ids).
func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// runTag is a short random base-36 tag distinguishing this run's tokens and client ids.
func runTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	s := strconv.FormatUint(n, 36)
	return s[len(s)-6:]
}

// authJSON marshals a handshake auth object.
func authJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// pool runs fn(0..n-1) with at most limit at a time and returns the first error.
func pool(n, limit int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for w := 0; w < min(limit, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// percentile of sorted values (nearest rank, as lib.js), nil when empty.
func percentile(sorted []float64, p float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = min(len(sorted)-1, max(0, i))
	return &sorted[i]
}

func maxOf(sorted []float64) *float64 {
	if len(sorted) == 0 {
		return nil
	}
	return &sorted[len(sorted)-1]
}

func sortFloats(x []float64) { sort.Float64s(x) }

// round is lib.js's round: x to d decimals, nil (JSON null) when not finite.
func round(x float64, d int) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	p := math.Pow10(d)
	v := math.Round(x*p) / p
	if v == 0 {
		v = 0 // no "-0" in the JSON
	}
	return &v
}

// roundp rounds an optional value.
func roundp(x *float64, d int) *float64 {
	if x == nil {
		return nil
	}
	return round(*x, d)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printJSON writes v as one line of JSON on stdout (no HTML escaping, like JSON.stringify).
func printJSON(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: writing the result: %v\n", err)
		os.Exit(1)
	}
}

// selfRSSMiB is this process's resident memory in MiB.
func selfRSSMiB() *float64 {
	kib, ok := procStatusKiB("self", "VmRSS")
	if !ok {
		return nil
	}
	return round(float64(kib)/1024, 0)
}
