//go:build !unix

package attack

import "time"

// fastCPUTime returns 0: CPU time is measured on unix only.
func fastCPUTime() time.Duration { return 0 }
