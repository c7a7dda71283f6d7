package registry

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// SetRedisLogger sends the Redis client library's own messages (dial
// failures, pool events) to log at debug level instead of the process's
// stderr: the registry reports what matters itself, once, with context.
// The library's logger is process-wide, so only main should call this.
func SetRedisLogger(log zerolog.Logger) {
	redis.SetLogger(redisLogger{log.With().Str("component", "redis").Logger()})
}

type redisLogger struct{ log zerolog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug().Msg(fmt.Sprintf(format, v...))
}
