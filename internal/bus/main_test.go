package bus

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// go-redis logs each failed dial; the outage tests cause hundreds.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}
