package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// envReader reads configuration variables and collects what is wrong with them; a variable
// that is unset (or blank) leaves its destination as it was.
type envReader struct {
	getenv func(string) string
	errs   []error
}

func (e *envReader) get(name string) string { return strings.TrimSpace(e.getenv(name)) }

func (e *envReader) fail(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf(format, args...))
}

func (e *envReader) str(name string, dst *string) {
	if v := e.get(name); v != "" {
		*dst = v
	}
}

func (e *envReader) int64In(name string, dst *int64, lo, hi int64) {
	if v := e.get(name); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			e.fail("%s: want an integer in [%d, %d], got %q", name, lo, hi, v)
			return
		}
		*dst = n
	}
}

func (e *envReader) intIn(name string, dst *int, lo, hi int) {
	n := int64(*dst)
	e.int64In(name, &n, int64(lo), int64(hi))
	*dst = int(n)
}

// millisIn reads a whole number of milliseconds in [lo, hi].
func (e *envReader) millisIn(name string, dst *time.Duration, lo, hi time.Duration) {
	n := dst.Milliseconds()
	e.int64In(name, &n, lo.Milliseconds(), hi.Milliseconds())
	*dst = time.Duration(n) * time.Millisecond
}

// millis reads a positive number of milliseconds.
func (e *envReader) millis(name string, dst *time.Duration) {
	if v := e.get(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			e.fail("%s: want a positive number of milliseconds, got %q", name, v)
			return
		}
		*dst = time.Duration(n) * time.Millisecond
	}
}

func (e *envReader) duration(name string, dst *time.Duration) {
	if v := e.get(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			e.fail("%s: want a positive Go duration such as 168h, got %q", name, v)
			return
		}
		*dst = d
	}
}

func (e *envReader) boolean(name string, dst *bool) {
	if v := e.get(name); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.fail("%s: want true or false, got %q", name, v)
			return
		}
		*dst = b
	}
}

// positive reads a number in (0, hi]; want says what the number counts, for the error.
func (e *envReader) positive(name string, dst *float64, hi float64, want string) {
	if v := e.get(name); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || f > hi {
			e.fail("%s: want %s, got %q", name, want, v)
			return
		}
		*dst = f
	}
}
