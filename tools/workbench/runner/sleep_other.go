//go:build !linux

package runner

import (
	"context"
	"time"
)

// preciseSleepUntil is sleepUntil where the kernel's nanosleep is not
// used (see sleep_linux.go).
func preciseSleepUntil(ctx context.Context, t time.Time) bool { return sleepUntil(ctx, t) }
